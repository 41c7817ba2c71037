"""The one search interface, and the choice of implementation from the settings."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from app.observability.metrics import SEARCH_LATENCY
from app.resources import Resources
from app.search.types import (
    AccessScope,
    DashboardData,
    DashboardQuery,
    Hit,
    PeopleQuery,
    SearchPage,
    SearchQuery,
)


class SearchBackend(Protocol):
    """Answers searches, call-center lookups and dashboard aggregations with the same results on any backend."""

    name: str

    async def search(self, query: SearchQuery, scope: AccessScope) -> SearchPage:
        """One page of transactions matching ``query`` within ``scope`` (scope is enforced in the query)."""
        ...

    async def lookup_people(self, query: PeopleQuery, scope: AccessScope) -> list[Hit]:
        """Transactions of a person (by ID/mobile hash, name or reference), newest first."""
        ...

    async def dashboard(self, query: DashboardQuery, scope: AccessScope) -> DashboardData:
        """Aggregations over the transactions in ``scope``."""
        ...


class TimedBackend:
    """Any backend, with its latency recorded per kind of query (``inquiry_search_duration_seconds``)."""

    def __init__(self, inner: SearchBackend) -> None:
        self.inner = inner
        self.name = inner.name

    async def search(self, query: SearchQuery, scope: AccessScope) -> SearchPage:
        with SEARCH_LATENCY.labels(self.name, "search").time():
            return await self.inner.search(query, scope)

    async def lookup_people(self, query: PeopleQuery, scope: AccessScope) -> list[Hit]:
        with SEARCH_LATENCY.labels(self.name, "lookup_people").time():
            return await self.inner.lookup_people(query, scope)

    async def dashboard(self, query: DashboardQuery, scope: AccessScope) -> DashboardData:
        with SEARCH_LATENCY.labels(self.name, "dashboard").time():
            return await self.inner.dashboard(query, scope)


def get_backend(resources: Resources, session: AsyncSession) -> SearchBackend:
    """The configured backend, timed: Elasticsearch through the alias, otherwise SQL on the request's session."""
    return TimedBackend(_backend(resources, session))


def _backend(resources: Resources, session: AsyncSession) -> SearchBackend:
    if resources.settings.effective_search_backend == "elasticsearch":
        from app.search.elastic import ElasticsearchBackend

        if resources.elasticsearch is None:
            from app.errors import ServiceUnavailable

            raise ServiceUnavailable("search is configured for Elasticsearch but no client is open")
        return ElasticsearchBackend(
            client=resources.elasticsearch, alias=resources.settings.index_alias, catalog=resources.catalog
        )
    from app.search.database import DatabaseBackend

    return DatabaseBackend(session=session, catalog=resources.catalog)
