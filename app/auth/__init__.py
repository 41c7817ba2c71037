"""Authentication: agency API keys for ingestion, bearer tokens for staff (hashes at rest only)."""
