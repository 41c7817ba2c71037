"""Rebuild with an alias swap while events keep arriving, and verify/repair of seeded drift."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from arq.connections import ArqRedis
from elasticsearch import AsyncElasticsearch
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog
from app.models import OutboxEntry, Transaction
from app.settings import Settings
from indexers.elastic import aliased_indices, bulk_write, rebuild_marker, versioned_indices
from indexers.mapping import index_name
from indexers.rebuild import RebuildInProgress, rebuild, rebuild_lock
from indexers.verify import verify
from tests.fixtures.factories import make_event
from tests.indexers.conftest import Drain, Ingest

pytestmark = pytest.mark.usefixtures("app")


async def _db_versions(session_factory: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with session_factory() as session:
        rows = (await session.execute(select(Transaction.id, Transaction.version))).all()
    return {str(tid): version for tid, version in rows}


async def _index_versions(es: AsyncElasticsearch, alias: str) -> dict[str, int]:
    await es.indices.refresh(index=alias)
    hits = await es.search(index=alias, size=1000, source=["version"], query={"match_all": {}})
    return {h["_id"]: h["_source"]["version"] for h in hits["hits"]["hits"]}


async def test_rebuild_while_events_arrive_swaps_alias_and_loses_nothing(
    ingest: Ingest,
    drain: Drain,
    es: AsyncElasticsearch,
    es_prefix: str,
    alias: str,
    app_settings: Settings,
    catalog: Catalog,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    refs = [f"RB-{i}" for i in range(60)]
    await ingest("HCM", [make_event(reference=r) for r in refs])
    await drain()
    stop = asyncio.Event()

    async def keep_ingesting() -> int:
        """New transactions and new events on old ones, drained as they come, as the worker would."""
        n = 0
        while not stop.is_set():
            await ingest(
                "HCM",
                [
                    make_event(reference=refs[n % len(refs)], status_code="under_review"),
                    make_event(reference=f"NEW-{n}"),
                ],
            )
            await drain()
            n += 1
        return n

    progress: list[tuple[int, int]] = []
    writer = asyncio.create_task(keep_ingesting())
    await asyncio.sleep(0.2)
    report = await rebuild(
        session_factory,
        es,
        app_settings,
        catalog,
        progress=lambda done, total: progress.append((done, total)),
        batch_size=7,
    )
    await asyncio.sleep(0.2)
    stop.set()
    rounds = await writer
    await drain()

    assert rounds >= 2
    assert report.old_index == index_name(es_prefix, 1) and report.new_index == index_name(es_prefix, 2)
    assert await aliased_indices(es, alias) == [index_name(es_prefix, 2)]
    assert await versioned_indices(es, es_prefix) == [index_name(es_prefix, 2)]  # old index gone
    assert await aliased_indices(es, rebuild_marker(es_prefix)) == []
    assert progress and progress[-1][0] == report.indexed
    settings = (await es.indices.get_settings(index=report.new_index)).body[report.new_index]["settings"]
    assert settings["index"]["refresh_interval"] == "1s"
    assert await _index_versions(es, alias) == await _db_versions(session_factory)


async def test_rebuild_is_exclusive(
    es: AsyncElasticsearch,
    es_prefix: str,
    app_settings: Settings,
    catalog: Catalog,
    session_factory: async_sessionmaker[AsyncSession],
    arq_redis: ArqRedis,
) -> None:
    async with rebuild_lock(es, es_prefix):
        with pytest.raises(RebuildInProgress):
            await rebuild(session_factory, es, app_settings, catalog)
    async with rebuild_lock(es, es_prefix, redis=arq_redis):
        with pytest.raises(RebuildInProgress):
            await rebuild(session_factory, es, app_settings, catalog, redis=arq_redis)
    report = await rebuild(session_factory, es, app_settings, catalog, redis=arq_redis)
    assert report.new_index == index_name(es_prefix, 2) and report.total == 0


async def test_verify_finds_and_repairs_seeded_drift(
    ingest: Ingest,
    drain: Drain,
    es: AsyncElasticsearch,
    alias: str,
    app_settings: Settings,
    catalog: Catalog,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await ingest("HCM", [make_event(reference=f"V-{i}") for i in range(6)])
    await drain()
    # drift 1: index work lost for two new transactions (never indexed)
    await ingest("HCM", [make_event(reference="V-LOST-1"), make_event(reference="V-LOST-2")])
    # drift 2: a newer event whose index work was lost (the index keeps the old version)
    await ingest("HCM", [make_event(reference="V-0", status_code="under_review")])
    async with session_factory() as session, session.begin():
        await session.execute(delete(OutboxEntry))
    # drift 3: a document deleted from the index by hand; drift 4: an orphan
    await es.delete(index=alias, id="2")
    orphan: dict[str, Any] = {"id": 999_999, "tracking_number": "MK-X", "version": 1}
    await bulk_write(es, alias, {999_999: orphan}, require_alias=True)
    await es.indices.refresh(index=alias)

    found = await verify(session_factory, es, app_settings, catalog)

    assert (found.db_count, found.index_count) == (8, 6)
    assert found.missing == [2, 7, 8] and found.stale == [1] and found.orphans == [999_999]

    repaired = await verify(session_factory, es, app_settings, catalog, repair=True)

    # the hand-deleted document keeps a newer tombstone version until index.gc_deletes passes
    assert repaired.repaired == 4 and repaired.unrepaired == [2]
    await es.indices.put_settings(index=alias, settings={"index.gc_deletes": "0ms"})
    for _ in range(30):  # tombstones are pruned on a refresh once gc_deletes has passed
        await es.indices.refresh(index=alias)
        again = await verify(session_factory, es, app_settings, catalog, repair=True)
        if again.repaired == 1:
            break
        await asyncio.sleep(0.1)
    assert again.missing == [2] and again.unrepaired == []
    await es.indices.refresh(index=alias)
    assert (await verify(session_factory, es, app_settings, catalog)).ok
    assert await _index_versions(es, alias) == await _db_versions(session_factory)
