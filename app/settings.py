"""Settings from the environment (prefix ``INQUIRY_``).

The defaults are the embedded mode: a SQLite file, search through the database and
index work drained in-process, so that a newcomer runs the product with one command.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-development-only"
REPO_ROOT = Path(__file__).resolve().parents[1]


class Settings(BaseSettings):
    """Every runtime knob of the service; `config/.env.example` documents each one."""

    model_config = SettingsConfigDict(env_prefix="INQUIRY_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite+aiosqlite:///{REPO_ROOT / 'var' / 'inquiry.db'}"
    database_pool_size: int = Field(default=10, ge=1, le=200)
    elasticsearch_url: str | None = None
    index_prefix: str = "inquiry-"
    redis_url: str | None = None
    search_backend: Literal["auto", "database", "elasticsearch"] = "auto"

    secret_key: str = DEFAULT_SECRET
    """Keys the hashes of national IDs and mobiles; changing it invalidates lookups."""

    max_body_bytes: int = 10 * 1024 * 1024
    max_bulk_items: int = 5000
    index_batch_size: int = Field(default=500, ge=1, le=10_000)
    index_max_wait_ms: int = Field(default=200, ge=0)
    index_max_retries: int = Field(default=5, ge=0)
    index_in_process: bool | None = None
    """Drain the outbox inside the API process when there is no Redis; None = on, except in tests."""
    inquiry_failures_per_hour: int = Field(default=5, ge=1)
    token_ttl_hours: int = Field(default=12, ge=1)
    stale_after_days: int = Field(default=14, ge=1)
    config_dir: Path = REPO_ROOT / "config"
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and (self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32):
            raise ValueError("INQUIRY_SECRET_KEY must be set to a random value of at least 32 characters in production")
        return self

    @property
    def effective_search_backend(self) -> Literal["database", "elasticsearch"]:
        """Elasticsearch when a URL is configured (unless forced), otherwise the database."""
        if self.search_backend == "auto":
            return "elasticsearch" if self.elasticsearch_url else "database"
        return self.search_backend

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def index_alias(self) -> str:
        return f"{self.index_prefix}transactions"


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
