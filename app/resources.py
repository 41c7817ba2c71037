"""The shared clients of one process, created in the lifespan (or a worker's startup) and closed with it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog, load_catalog
from app.db import create_engine, create_session_factory
from app.settings import Settings

logger = logging.getLogger(__name__)

IndexKick = Callable[[], Awaitable[None]]


@dataclass
class Resources:
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    catalog: Catalog
    elasticsearch: Any = None
    """AsyncElasticsearch when configured."""
    redis: Any = None
    """An arq pool (also a redis client) when configured."""
    kick_indexer: IndexKick | None = None
    """Wakes whatever drains the outbox; called only after a commit."""
    background: list[asyncio.Task[None]] = field(default_factory=list)
    median_cache: Any = None
    """Historical processing medians for the citizen inquiry, created on first use."""
    failure_counter: Any = None
    """Failed-inquiry counters (Redis or memory), created on first use."""
    _readers: async_sessionmaker[AsyncSession] | None = None
    _read_engine: AsyncEngine | None = None

    @property
    def read_session_factory(self) -> async_sessionmaker[AsyncSession]:
        """Sessions for requests that only read, on autocommit connections (no BEGIN and ROLLBACK round trips).

        PostgreSQL gets a pool of its own, opened on first use: autocommit from the start, and pinged
        only when a connection comes out of the pool after an idle spell (``app.db``).
        """
        if self._readers is None:
            if self.settings.is_sqlite:
                readers = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            else:
                readers = self._read_engine = create_engine(self.settings, autocommit=True)
            self._readers = create_session_factory(readers)
        return self._readers

    async def dispose_engines(self) -> None:
        await self.engine.dispose()
        if self._read_engine is not None:
            await self._read_engine.dispose()

    async def after_commit(self) -> None:
        """Ask for the outbox to be drained; losing this call loses nothing (the outbox is durable)."""
        if self.kick_indexer is None:
            return
        try:
            await self.kick_indexer()
        except Exception:  # the outbox holds the work; a later kick or the cron drains it
            logger.warning("could not wake the indexer; the outbox keeps the work", exc_info=True)


async def open_resources(settings: Settings) -> Resources:
    """Open the database, and Elasticsearch and Redis when configured."""
    engine = create_engine(settings)
    resources = Resources(
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        catalog=load_catalog(settings.config_dir),
    )
    if settings.elasticsearch_url:
        from elasticsearch import AsyncElasticsearch
        from elasticsearch.serializer import OrjsonSerializer

        # orjson for request bodies and bulk lines: the stdlib encoder was a tenth of the indexer's CPU.
        orjson_serializer = OrjsonSerializer()
        resources.elasticsearch = AsyncElasticsearch(
            settings.elasticsearch_url,
            request_timeout=10,
            retry_on_timeout=True,
            max_retries=2,
            serializers={
                "application/json": orjson_serializer,
                "application/vnd.elasticsearch+json": orjson_serializer,
            },
        )
    if settings.redis_url:
        from arq.connections import ArqRedis

        # Connections are made lazily, so the API starts (and /readyz reports) while Redis is down.
        resources.redis = ArqRedis.from_url(settings.redis_url, socket_connect_timeout=2, socket_timeout=5)
    return resources


async def close_resources(resources: Resources) -> None:
    for task in resources.background:
        task.cancel()
    for task in resources.background:
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    if resources.elasticsearch is not None:
        await resources.elasticsearch.close()
    if resources.redis is not None:
        await resources.redis.aclose()
    await resources.dispose_engines()
