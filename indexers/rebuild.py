"""Full reindex into a fresh index, then an atomic alias swap; incremental indexing never stops.

Steps, under a lock (Redis when available, otherwise a lock document in Elasticsearch):

1. create ``<prefix>transactions-v<N+1>`` for bulk loading (refresh off, no replicas) *with the
   rebuild marker alias* ``<prefix>transactions-rebuild`` on it;
2. stream every transaction id from the database (server-side cursor) and bulk-write the
   documents, built batch by batch, with external versions;
3. restore refresh and replicas, refresh, then swap in one ``update_aliases`` call (remove the
   alias from the old index, add it to the new one, drop the marker), and delete the old index.

Catch-up: while the marker exists the outbox drain (``ElasticsearchSink``) writes every change to
the alias *and* to the new index. The drain reads the marker after it loaded the documents, and
the marker exists before the streaming query starts, so every change is either in the stream's
snapshot or written to the new index by the drain. External versioning makes the double writes
and their order harmless: the highest version wins. Nothing has to be re-read after the swap.
"""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from elasticsearch import AsyncElasticsearch, BadRequestError, ConflictError, NotFoundError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog
from app.models import DeadLetter, Transaction
from app.models.base import utcnow
from app.settings import Settings
from indexers.documents import load_documents
from indexers.elastic import (
    alias_name,
    aliased_indices,
    bulk_write,
    ensure_index,
    index_version,
    rebuild_marker,
    versioned_indices,
)
from indexers.mapping import index_mappings, index_name, index_settings
from indexers.sink import Failure

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""Called with (documents done, total) after each batch: the CLI draws a progress bar with it."""

LOCK_TTL = timedelta(hours=2)


class RebuildError(RuntimeError):
    pass


class RebuildInProgress(RebuildError):
    """Another rebuild holds the lock."""


@dataclass(slots=True)
class RebuildReport:
    old_index: str | None
    new_index: str
    total: int
    indexed: int
    dead_lettered: int
    seconds: float


def lock_index(prefix: str) -> str:
    return f"{prefix}transactions-locks"


@contextlib.asynccontextmanager
async def _es_lock(es: AsyncElasticsearch, prefix: str, ttl: timedelta) -> AsyncIterator[None]:
    """A lock document created with ``op_type=create`` (only one creator wins); expired locks are taken over."""
    index = lock_index(prefix)
    with contextlib.suppress(BadRequestError):  # already exists
        await es.indices.create(
            index=index,
            settings={"number_of_shards": 1, "auto_expand_replicas": "0-1"},
            mappings={"dynamic": False, "properties": {"expires_at": {"type": "date"}}},
        )
    owner = uuid.uuid4().hex
    body = {"owner": owner, "expires_at": (utcnow() + ttl).isoformat()}
    try:
        created = await es.index(index=index, id="rebuild", document=body, op_type="create", refresh=True)
    except ConflictError:
        current = await es.get(index=index, id="rebuild")
        if datetime.fromisoformat(current["_source"]["expires_at"]) > datetime.now(UTC):
            raise RebuildInProgress(f"a rebuild holds the lock until {current['_source']['expires_at']}") from None
        try:  # expired: take it over, unless someone else did first
            created = await es.index(
                index=index,
                id="rebuild",
                document=body,
                if_seq_no=current["_seq_no"],
                if_primary_term=current["_primary_term"],
                refresh=True,
            )
        except ConflictError:
            raise RebuildInProgress("another rebuild took over the expired lock") from None
    try:
        yield
    finally:
        with contextlib.suppress(ConflictError, NotFoundError):
            await es.delete(
                index=index,
                id="rebuild",
                if_seq_no=created["_seq_no"],
                if_primary_term=created["_primary_term"],
                refresh=True,
            )


@contextlib.asynccontextmanager
async def _redis_lock(redis: Any, prefix: str, ttl: timedelta) -> AsyncIterator[None]:
    lock = redis.lock(f"{prefix}transactions:rebuild-lock", timeout=ttl.total_seconds())
    if not await lock.acquire(blocking=False):
        raise RebuildInProgress("another rebuild holds the Redis lock")
    try:
        yield
    finally:
        with contextlib.suppress(Exception):  # expired meanwhile: nothing to release
            await lock.release()


def rebuild_lock(
    es: AsyncElasticsearch, prefix: str, *, redis: Any = None, ttl: timedelta = LOCK_TTL
) -> contextlib.AbstractAsyncContextManager[None]:
    """The rebuild lock: Redis when available, otherwise a document in Elasticsearch."""
    return _redis_lock(redis, prefix, ttl) if redis is not None else _es_lock(es, prefix, ttl)


async def rebuild(
    session_factory: async_sessionmaker[AsyncSession],
    es: AsyncElasticsearch,
    settings: Settings,
    catalog: Catalog,
    progress: Progress | None = None,
    *,
    redis: Any = None,
    batch_size: int | None = None,
) -> RebuildReport:
    """Reindex everything into a new index and swap the alias to it; raises RebuildInProgress if locked."""
    async with rebuild_lock(es, settings.index_prefix, redis=redis):
        return await _rebuild(session_factory, es, settings, catalog, progress, batch_size)


async def _rebuild(
    session_factory: async_sessionmaker[AsyncSession],
    es: AsyncElasticsearch,
    settings: Settings,
    catalog: Catalog,
    progress: Progress | None,
    batch_size: int | None,
) -> RebuildReport:
    started = time.monotonic()
    prefix = settings.index_prefix
    alias = alias_name(prefix)
    await ensure_index(es, prefix)
    live = await aliased_indices(es, alias)
    old = live[-1] if live else None
    for leftover in await versioned_indices(es, prefix):  # a crashed rebuild's index (and marker)
        if leftover not in live:
            logger.warning("deleting %s left by an interrupted rebuild", leftover)
            await es.indices.delete(index=leftover)
    existing = [index_version(n) for n in await versioned_indices(es, prefix)]
    new = index_name(prefix, max(existing, default=0) + 1)
    await es.indices.create(
        index=new,
        settings=index_settings(bulk_load=True),
        mappings=index_mappings(),
        aliases={rebuild_marker(prefix): {}},
    )
    size = batch_size or settings.index_batch_size
    indexed = dead = 0
    try:
        async with session_factory() as reader, session_factory() as loader:
            total = int(await reader.scalar(select(func.count()).select_from(Transaction)) or 0)
            stream = await reader.stream_scalars(
                select(Transaction.id).order_by(Transaction.id).execution_options(yield_per=size)
            )
            async for ids in stream.partitions(size):
                ok, failed = await _index_batch(loader, es, new, list(ids), catalog, settings)
                indexed += ok
                dead += failed
                loader.expunge_all()
                if progress is not None:
                    progress(indexed + dead, total)
        live_settings = index_settings()
        await es.indices.put_settings(
            index=new,
            settings={k: live_settings[k] for k in ("refresh_interval", "auto_expand_replicas")},
        )
        await es.indices.refresh(index=new)
        await es.cluster.health(index=new, wait_for_status="yellow", timeout="30s")
        actions: list[dict[str, Any]] = [{"add": {"index": new, "alias": alias}}]
        if old is not None:
            actions.insert(0, {"remove": {"index": old, "alias": alias}})
        actions.append({"remove": {"index": new, "alias": rebuild_marker(prefix)}})
        await es.indices.update_aliases(actions=actions)
    except BaseException:
        with contextlib.suppress(Exception):
            await es.indices.delete(index=new)
        raise
    if old is not None:
        await es.options(ignore_status=404).indices.delete(index=old)
    report = RebuildReport(old, new, total, indexed, dead, round(time.monotonic() - started, 3))
    logger.info("rebuild done: %s", report)
    return report


async def _index_batch(
    session: AsyncSession,
    es: AsyncElasticsearch,
    index: str,
    ids: list[int],
    catalog: Catalog,
    settings: Settings,
) -> tuple[int, int]:
    """Write one batch; permanent refusals become dead letters, anything still transient aborts."""
    errors: dict[int, Failure] = {}

    def on_error(tid: int, exc: Exception) -> None:
        errors[tid] = Failure(type(exc).__name__, str(exc)[:2000])

    docs = await load_documents(session, ids, catalog=catalog, now=utcnow(), on_error=on_error)
    docs = {tid: doc for tid, doc in docs.items() if doc is not None}  # deleted since the id was read
    result = await bulk_write(es, index, docs, max_retries=settings.index_max_retries, chunk_size=len(ids))
    if result.transient:
        first = next(iter(result.transient.values()))
        raise RebuildError(f"{len(result.transient)} document(s) could not be written: {first.reason}")
    errors.update(result.permanent)
    for tid, failure in errors.items():
        session.add(DeadLetter(transaction_id=tid, reason=failure.reason, error_type=failure.error_type[:100]))
    await session.commit()  # also ends the read transaction, so the next batch sees fresh data
    return len(result.indexed), len(errors)
