"""Every test here runs once per search backend."""

from tests.search.support import app_settings, backend_name, ingest, session_factory

__all__ = ["app_settings", "backend_name", "ingest", "session_factory"]
