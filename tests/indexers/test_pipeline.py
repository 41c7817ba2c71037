"""The outbox drain against real PostgreSQL and Elasticsearch: ingest over HTTP, drain, search."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from elasticsearch import AsyncElasticsearch
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import DeadLetter, OutboxEntry, Transaction
from app.models.base import utcnow
from app.normalization.arabic import searchable_text
from indexers import dead_letters, documents
from indexers.elastic import ElasticsearchSink, bulk_write, ensure_index
from tests.fixtures.factories import make_event
from tests.indexers.conftest import Drain, Ingest

pytestmark = pytest.mark.usefixtures("app")


async def _outbox_count(session_factory: async_sessionmaker[AsyncSession]) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)


async def test_stale_write_never_overwrites_a_newer_version(es: AsyncElasticsearch, alias: str) -> None:
    await es.indices.refresh(index=alias)
    doc: dict[str, Any] = {"id": 42, "tracking_number": "MK-1", "status": "completed", "version": 3}

    newer = await bulk_write(es, alias, {42: doc}, require_alias=True)
    older = await bulk_write(es, alias, {42: {**doc, "status": "received", "version": 2}}, require_alias=True)

    assert newer.indexed == {42} and older.indexed == {42}  # the refused stale write is a no-op success
    stored = await es.get(index=alias, id="42")
    assert stored["_version"] == 3 and stored["_source"]["status"] == "completed"


async def test_ingest_drain_search_end_to_end(
    ingest: Ingest,
    drain: Drain,
    es: AsyncElasticsearch,
    alias: str,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    await ingest(
        "EMARAH-MAKKAH",
        [
            make_event(reference="1447/100", status_code="received", title="طلب إصدار تصريح فعالية"),
            make_event(reference="1447/200", status_code="received", note={"text": "سري", "visibility": "internal"}),
        ],
    )
    await ingest("EMARAH-MAKKAH", [make_event(reference="1447/100", status_code="referred", to_agency="HCM")])
    assert await _outbox_count(session_factory) == 3

    report = await drain()
    await es.indices.refresh(index=alias)

    assert (report.processed, report.indexed, report.failed, report.dead_lettered) == (3, 2, 0, 0)
    assert await _outbox_count(session_factory) == 0
    hits = await es.search(index=alias, query={"match": {"title_norm": searchable_text("الفعاليات", stem=True)}})
    found = [h["_source"] for h in hits["hits"]["hits"]]
    assert len(found) == 1
    assert found[0]["holder_agency"] == "HCM" and found[0]["version"] == 2
    assert found[0]["incoming_agencies"] == ["HCM"]
    by_ref = await es.search(index=alias, query={"prefix": {"reference_keys": "1447"}})
    assert by_ref["hits"]["total"]["value"] == 2
    assert await drain() == type(report)()  # nothing left


async def test_transaction_gone_is_deleted_from_the_index(
    ingest: Ingest,
    drain: Drain,
    es: AsyncElasticsearch,
    alias: str,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    [item] = await ingest("HCM", [make_event()])
    await drain()
    async with session_factory() as session, session.begin():
        tx = await session.scalar(select(Transaction).where(Transaction.tracking_number == item["tracking_number"]))
        assert tx is not None
        await session.execute(delete(Transaction).where(Transaction.id == tx.id))  # DB cascades
        session.add(OutboxEntry(transaction_id=tx.id))

    report = await drain()

    assert report.deleted == 1
    await es.indices.refresh(index=alias)
    assert (await es.count(index=alias))["count"] == 0


async def test_permanent_failure_becomes_a_dead_letter_and_replays(
    ingest: Ingest,
    drain: Drain,
    es: AsyncElasticsearch,
    alias: str,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await ingest("HCM", [make_event(), make_event()])
    real_build = documents.build_document
    broken_id = 1

    def build_with_unknown_field(transaction: Transaction, *args: Any) -> dict[str, Any]:
        doc = real_build(transaction, *args)
        return {**doc, "not_in_mapping": True} if transaction.id == broken_id else doc

    monkeypatch.setattr(documents, "build_document", build_with_unknown_field)
    report = await drain()

    assert (report.indexed, report.dead_lettered, report.processed) == (1, 1, 2)
    assert await _outbox_count(session_factory) == 0
    async with session_factory() as session:
        [letter] = await dead_letters.list_dead_letters(session)
    assert letter.transaction_id == broken_id
    assert letter.error_type == "strict_dynamic_mapping_exception"

    monkeypatch.setattr(documents, "build_document", real_build)
    async with session_factory() as session:
        assert await dead_letters.replay(session) == 1
        await session.commit()
        assert await dead_letters.list_dead_letters(session) == []
    assert (await drain()).indexed == 1
    await es.indices.refresh(index=alias)
    assert (await es.count(index=alias))["count"] == 2


async def test_builder_crash_is_dead_lettered_not_blocking(
    ingest: Ingest,
    drain: Drain,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await ingest("HCM", [make_event(), make_event()])
    real_build = documents.build_document

    def crash_on_first(transaction: Transaction, *args: Any) -> dict[str, Any]:
        if transaction.id == 1:
            raise ValueError("boom")
        return real_build(transaction, *args)

    monkeypatch.setattr(documents, "build_document", crash_on_first)
    report = await drain()

    assert (report.indexed, report.dead_lettered) == (1, 1)
    async with session_factory() as session:
        letters = (await session.scalars(select(DeadLetter))).all()
    assert [(d.transaction_id, d.error_type) for d in letters] == [(1, "ValueError")]


async def test_elasticsearch_outage_keeps_the_work_until_it_is_back(
    ingest: Ingest,
    drain: Drain,
    es: AsyncElasticsearch,
    es_prefix: str,
    alias: str,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    down = AsyncElasticsearch("http://127.0.0.1:9", request_timeout=2, max_retries=0)
    try:
        await ingest("HCM", [make_event() for _ in range(5)])  # acknowledged while the index is "down"
        dead_sink = ElasticsearchSink(down, prefix=es_prefix, max_retries=2, initial_backoff=0.01)

        failed = await drain(sink=dead_sink)

        assert (failed.failed, failed.processed) == (5, 0)
        async with session_factory() as session:
            rows = (await session.scalars(select(OutboxEntry))).all()
        assert len(rows) == 5 and all(r.attempts == 1 and r.available_at > utcnow() for r in rows)
        assert (await drain()).processed == 0  # backing off: not yet available
    finally:
        await down.close()

    recovered = await drain(now=utcnow() + timedelta(hours=1))

    assert (recovered.processed, recovered.indexed) == (5, 5)
    await es.indices.refresh(index=alias)
    assert (await es.count(index=alias))["count"] == 5


async def test_missing_alias_is_transient_and_never_autocreates_an_index(
    ingest: Ingest,
    drain: Drain,
    es: AsyncElasticsearch,
    es_prefix: str,
    alias: str,
) -> None:
    await ingest("HCM", [make_event()])
    live = (await es.indices.get_alias(name=alias)).body
    await es.indices.delete(index=list(live))

    report = await drain()

    assert report.failed == 1 and report.processed == 0
    assert not (await es.indices.exists(index=alias)).body
    await ensure_index(es, es_prefix)
    assert (await drain(now=utcnow() + timedelta(hours=1))).indexed == 1
