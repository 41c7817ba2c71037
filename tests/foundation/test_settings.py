"""Settings: embedded defaults, production refuses default secrets, backend selection."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.settings import DEFAULT_SECRET, Settings


def test_defaults_are_the_embedded_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("INQUIRY_DATABASE_URL", "INQUIRY_ELASTICSEARCH_URL", "INQUIRY_REDIS_URL", "INQUIRY_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.elasticsearch_url is None and settings.redis_url is None
    assert settings.effective_search_backend == "database"


def test_production_refuses_default_or_short_secret() -> None:
    with pytest.raises(ValidationError, match="INQUIRY_SECRET_KEY"):
        Settings(environment="production", secret_key=DEFAULT_SECRET)
    with pytest.raises(ValidationError, match="INQUIRY_SECRET_KEY"):
        Settings(environment="production", secret_key="short")
    ok = Settings(environment="production", secret_key="x" * 40)
    assert ok.environment == "production"


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INQUIRY_ELASTICSEARCH_URL", "http://127.0.0.1:9200")
    monkeypatch.setenv("INQUIRY_MAX_BULK_ITEMS", "42")
    settings = Settings()
    assert settings.effective_search_backend == "elasticsearch"
    assert settings.max_bulk_items == 42
    assert Settings(search_backend="database").effective_search_backend == "database"


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INQUIRY_INDEX_BATCH_SIZE", "0")
    with pytest.raises(ValidationError):
        Settings()
