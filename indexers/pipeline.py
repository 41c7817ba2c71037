"""The outbox drain: the one path by which database changes reach the search index.

Ingestion writes an outbox row in the same database transaction as the events, so nothing
acknowledged can be lost. The drain claims the oldest rows (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so several workers share the work), builds the documents, writes them to a sink and
deletes the rows only once the sink acknowledged them, all in one database transaction.
Transient failures leave the rows with a later ``available_at``; permanent ones become dead letters.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog
from app.models import DeadLetter, OutboxEntry
from app.models.base import utcnow
from app.models.filters import Membership
from app.observability.metrics import INDEXED
from app.settings import Settings
from indexers import documents
from indexers.sink import Document, Failure, Sink, SinkResult

logger = logging.getLogger(__name__)

MAX_RETRY_DELAY_S = 300.0


@dataclass(slots=True)
class DrainReport:
    processed: int = 0
    """Outbox rows removed (indexed, deleted or dead-lettered)."""
    indexed: int = 0
    deleted: int = 0
    dead_lettered: int = 0
    failed: int = 0
    """Transactions left in the outbox for a later attempt."""
    batches: int = 0


def retry_delay(attempts: int) -> timedelta:
    """How long a transiently failed row waits: doubling from 1 s, capped at 5 minutes, jittered."""
    base = min(MAX_RETRY_DELAY_S, 2.0 ** max(attempts - 1, 0))
    return timedelta(seconds=base * random.uniform(0.8, 1.2))


class DatabaseSink:
    """The sink of the database search backend.

    On SQLite it maintains the FTS5 table ``transaction_fts(body, names)`` (rowid = transaction id)
    in the drain's own transaction; on PostgreSQL the SQL backend reads ``transactions`` directly,
    so there is nothing to write and every document is simply acknowledged.
    """

    async def write(self, session: AsyncSession, docs: Mapping[int, Document | None]) -> SinkResult:
        result = SinkResult()
        sqlite = session.get_bind().dialect.name == "sqlite"
        for tid, doc in docs.items():
            if sqlite:
                await session.execute(text("DELETE FROM transaction_fts WHERE rowid = :id"), {"id": tid})
                if doc is not None:
                    await session.execute(
                        text("INSERT INTO transaction_fts(rowid, body, names) VALUES (:id, :body, :names)"),
                        {"id": tid, "body": fts_body(doc), "names": doc.get("applicant_name_norm") or ""},
                    )
            (result.indexed if doc is not None else result.deleted).add(tid)
        return result


def fts_body(doc: Mapping[str, Any]) -> str:
    """The normalized title and public notes: the same text the SQL backend matches elsewhere.

    References and tracking numbers are matched through their own table, not through this text.
    """
    return " ".join(p for p in (doc.get("title_norm") or "", doc.get("notes_norm") or "") if p)


def make_sink(settings: Settings, es: Any, *, max_retries: int | None = None) -> Sink:
    """Elasticsearch when it is the effective backend and a client exists, otherwise the database."""
    if settings.effective_search_backend == "elasticsearch" and es is not None:
        from indexers.elastic import ElasticsearchSink

        return ElasticsearchSink(
            es,
            prefix=settings.index_prefix,
            max_retries=settings.index_max_retries if max_retries is None else max_retries,
            chunk_size=settings.index_batch_size,
        )
    if settings.effective_search_backend == "elasticsearch":
        logger.warning("search backend is elasticsearch but no client is configured; using the database sink")
    return DatabaseSink()


async def drain_outbox(
    session_factory: async_sessionmaker[AsyncSession],
    sink: Sink,
    *,
    catalog: Catalog,
    batch_size: int = 500,
    max_batches: int | None = None,
    now: datetime | None = None,
) -> DrainReport:
    """Drain until the outbox has nothing available, ``max_batches`` is reached, or a batch makes no progress.

    ``now`` (for tests) fixes both the claim cut-off and the documents' build time.
    """
    report = DrainReport()
    while max_batches is None or report.batches < max_batches:
        progressed = await _drain_batch(session_factory, sink, catalog, batch_size, now, report)
        if progressed is None:
            break
        report.batches += 1
        if not progressed:  # everything failed transiently: the sink is down, stop hammering it
            break
    return report


async def _drain_batch(
    session_factory: async_sessionmaker[AsyncSession],
    sink: Sink,
    catalog: Catalog,
    batch_size: int,
    fixed_now: datetime | None,
    report: DrainReport,
) -> bool | None:
    """One batch in one database transaction; ``None`` when nothing was available."""
    now = fixed_now or utcnow()
    async with session_factory() as session, session.begin():
        query = select(OutboxEntry).where(OutboxEntry.available_at <= now).order_by(OutboxEntry.id).limit(batch_size)
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        rows = list((await session.scalars(query)).all())
        if not rows:
            return None
        build_errors: dict[int, Failure] = {}

        def on_error(tid: int, exc: Exception) -> None:
            logger.exception("could not build the document of transaction %d", tid, exc_info=exc)
            build_errors[tid] = Failure(type(exc).__name__, str(exc)[:2000])

        docs = await documents.load_documents(
            session, {r.transaction_id for r in rows}, catalog=catalog, now=now, on_error=on_error
        )
        result = await sink.write(session, docs) if docs else SinkResult()
        result.permanent.update(build_errors)

        done_rows = [r.id for r in rows if r.transaction_id not in result.transient]
        for tid, failure in result.permanent.items():
            session.add(DeadLetter(transaction_id=tid, reason=failure.reason, error_type=failure.error_type[:100]))
        if done_rows:
            await session.execute(delete(OutboxEntry).where(Membership(session).one_of(OutboxEntry.id, done_rows)))
        for row in rows:
            if row.transaction_id in result.transient:
                attempts = (row.attempts or 0) + 1
                await session.execute(
                    update(OutboxEntry)
                    .where(OutboxEntry.id == row.id)
                    .values(attempts=attempts, available_at=utcnow() + retry_delay(attempts))
                )
        report.processed += len(done_rows)
        for outcome, ids in (
            ("indexed", result.indexed),
            ("deleted", result.deleted),
            ("dead_letter", result.permanent),
        ):
            INDEXED.labels(outcome).inc(len(ids))
        report.indexed += len(result.indexed)
        report.deleted += len(result.deleted)
        report.dead_lettered += len(result.permanent)
        report.failed += len(result.transient)
        if result.transient:
            first = next(iter(result.transient.values()))
            logger.warning(
                "%d document(s) not indexed, kept in the outbox: %s: %s",
                len(result.transient),
                first.error_type,
                first.reason[:200],
            )
        return bool(done_rows)
