"""Any permutation and duplication of a transaction's events gives the same INDEX document (real ES).

The database side is covered by tests/ingestion/test_order_independence.py; here the outbox is
drained into Elasticsearch after every delivery, so the index also sees every intermediate state
(including a merge when the recipient's events arrive before the sender's handover).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

from elasticsearch import AsyncElasticsearch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from app.catalog.loader import get_catalog
from app.db import create_engine, create_session_factory
from app.settings import Settings
from indexers.elastic import ElasticsearchSink, alias_name, ensure_index
from indexers.pipeline import drain_outbox
from tests.fixtures.database import truncate_all
from tests.fixtures.elasticsearch import delete_prefix
from tests.fixtures.services import ES_URL, PG_URL
from tests.ingestion.test_order_independence import deliver, story

NOW = datetime(2030, 1, 1, tzinfo=UTC)  # after every arrival: the drain claims rows available before it
IGNORED = {
    "id": "the surviving row depends on which agency's event opened the file first",
    "tracking_number": "random, assigned when the first event arrives",
    "indexed_at": "build time",
    "last_received_at": "arrival time",
    "version": "a change counter: more deliveries, more versions",
}


async def index_documents(es: AsyncElasticsearch, prefix: str) -> list[dict[str, Any]]:
    alias = alias_name(prefix)
    await es.indices.refresh(index=alias)
    hits = (await es.search(index=alias, query={"match_all": {}}, size=10))["hits"]["hits"]
    return [{k: v for k, v in hit["_source"].items() if k not in IGNORED} for hit in hits]


def test_permutations_and_duplicates_give_the_same_document(pg_engine: AsyncEngine, run_index_prefix: str) -> None:
    """Hypothesis runs outside the event loop; each example replays on PostgreSQL and drains into ES."""
    loop = asyncio.new_event_loop()
    catalog = get_catalog()

    async def replay(order: list[int], dupes: list[int]) -> list[dict[str, Any]]:
        engine = create_engine(Settings(database_url=PG_URL))
        es = AsyncElasticsearch(ES_URL, request_timeout=30)
        prefix = f"{run_index_prefix}ord{uuid.uuid4().hex[:6]}-"
        try:
            await truncate_all(engine)
            await ensure_index(es, prefix)
            factory = create_session_factory(engine)
            sink = ElasticsearchSink(es, prefix=prefix, max_retries=1, initial_backoff=0.01)
            deliveries = story()
            for i in [*order, *dupes]:
                await deliver(factory, [deliveries[i]])
                await drain_outbox(factory, sink, catalog=catalog, now=NOW)
            return await index_documents(es, prefix)
        finally:
            await delete_prefix(es, prefix)
            await es.close()
            await engine.dispose()

    try:
        expected = loop.run_until_complete(replay(list(range(7)), []))
        assert len(expected) == 1, "one transaction, one document"
        assert expected[0]["status"] == "completed" and expected[0]["holder_agency"] == "HCM"

        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
        @given(order=st.permutations(list(range(7))), dupes=st.lists(st.integers(0, 6), max_size=4))
        def check(order: list[int], dupes: list[int]) -> None:
            assert loop.run_until_complete(replay(order, dupes)) == expected

        check()
    finally:
        loop.close()
