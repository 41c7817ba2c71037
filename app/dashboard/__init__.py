"""Manager and region dashboards: aggregations from the search backend, ingestion quality from SQL."""
