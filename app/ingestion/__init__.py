"""Ingestion: agencies push status events; each is validated, normalized, stored once and queued for indexing."""
