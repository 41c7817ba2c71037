"""Dashboard tests run on both backends too."""

from tests.search.support import app_settings, backend_name, ingest, session_factory

__all__ = ["app_settings", "backend_name", "ingest", "session_factory"]
