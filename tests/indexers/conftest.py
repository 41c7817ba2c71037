"""Indexer tests run the app against real PostgreSQL and Elasticsearch, with a per-test index prefix."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog, load_catalog
from app.settings import Settings
from indexers.elastic import ElasticsearchSink, alias_name
from indexers.pipeline import DrainReport, drain_outbox
from tests.fixtures.factories import bulk_ingester
from tests.fixtures.services import ES_URL

Ingest = Callable[[str, list[dict[str, Any]]], Awaitable[list[dict[str, Any]]]]
Drain = Callable[..., Awaitable[DrainReport]]


@pytest.fixture
def app_settings(pg_settings: Settings, es_prefix: str) -> Settings:
    """The app with Elasticsearch as its search backend, under this test's own index prefix."""
    return pg_settings.model_copy(update={"elasticsearch_url": ES_URL, "index_prefix": es_prefix})


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def alias(es_prefix: str) -> str:
    return alias_name(es_prefix)


@pytest.fixture
def sink(es: AsyncElasticsearch, es_prefix: str) -> ElasticsearchSink:
    """The real sink with short backoffs, so failure paths stay fast."""
    return ElasticsearchSink(es, prefix=es_prefix, max_retries=1, initial_backoff=0.01, max_backoff=0.05)


@pytest.fixture
def ingest(client: httpx.AsyncClient, agency_key: Callable[[str], Awaitable[str]]) -> Ingest:
    """POST events through the real bulk API as ``agency``; asserts every item was stored."""
    return bulk_ingester(client, agency_key)


@pytest.fixture
def drain(session_factory: async_sessionmaker[AsyncSession], sink: ElasticsearchSink, catalog: Catalog) -> Drain:
    async def _drain(**kwargs: Any) -> DrainReport:
        kwargs.setdefault("sink", sink)
        return await drain_outbox(session_factory, catalog=catalog, batch_size=50, **kwargs)

    return _drain
