"""Compare the database with the index by id and version, and optionally repair the difference.

Run while ingestion continues it may report a transaction changed in between as stale; the
repair is still safe, because it re-reads the database and writes with external versions.
Orphans are re-checked against the database before they are deleted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_scan
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog
from app.models import Transaction
from app.models.base import utcnow
from app.settings import Settings
from indexers.documents import Document, load_documents
from indexers.elastic import alias_name, bulk_write

logger = logging.getLogger(__name__)

SCAN_SIZE = 1000


@dataclass(slots=True)
class VerifyReport:
    db_count: int = 0
    index_count: int = 0
    missing: list[int] = field(default_factory=list)
    """In the database, not in the index."""
    stale: list[int] = field(default_factory=list)
    """In both, with a different version."""
    orphans: list[int] = field(default_factory=list)
    """In the index, no longer in the database."""
    repaired: int = 0
    unrepaired: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphans)


async def _db_versions(session_factory: async_sessionmaker[AsyncSession], batch: int) -> dict[int, int]:
    versions: dict[int, int] = {}
    async with session_factory() as session:
        result = await session.stream(select(Transaction.id, Transaction.version).execution_options(yield_per=batch))
        async for tid, version in result:
            versions[tid] = version
    return versions


async def _index_versions(es: AsyncElasticsearch, alias: str) -> dict[int, int]:
    versions: dict[int, int] = {}
    async for hit in async_scan(
        es, index=alias, query={"query": {"match_all": {}}, "_source": ["version"]}, size=SCAN_SIZE
    ):
        versions[int(hit["_id"])] = int(hit["_source"].get("version", -1))
    return versions


async def verify(
    session_factory: async_sessionmaker[AsyncSession],
    es: AsyncElasticsearch,
    settings: Settings,
    catalog: Catalog,
    repair: bool = False,
) -> VerifyReport:
    """Report missing, stale and orphan documents; with ``repair`` reindex or delete them."""
    alias = alias_name(settings.index_prefix)
    db = await _db_versions(session_factory, settings.index_batch_size)
    index = await _index_versions(es, alias)
    report = VerifyReport(db_count=len(db), index_count=len(index))
    report.missing = sorted(set(db) - set(index))
    report.stale = sorted(tid for tid in set(db) & set(index) if db[tid] != index[tid])
    report.orphans = sorted(set(index) - set(db))
    if repair and not report.ok:
        await _repair(session_factory, es, settings, catalog, report, index)
    return report


async def _repair(
    session_factory: async_sessionmaker[AsyncSession],
    es: AsyncElasticsearch,
    settings: Settings,
    catalog: Catalog,
    report: VerifyReport,
    index_versions: dict[int, int],
) -> None:
    alias = alias_name(settings.index_prefix)
    retries = settings.index_max_retries
    wanted = report.missing + report.stale + report.orphans
    size = settings.index_batch_size
    for start in range(0, len(wanted), size):
        ids = wanted[start : start + size]
        async with session_factory() as session:
            docs = await load_documents(session, ids, catalog=catalog, now=utcnow())
        # The index cannot go back to a lower external version: drop such documents first.
        ahead = {
            tid: None
            for tid, doc in docs.items()
            if doc is not None and index_versions.get(tid, -1) > int(doc["version"])
        }
        if ahead:
            await bulk_write(es, alias, ahead, max_retries=retries, require_alias=True)
        writes: dict[int, Document | None] = dict(docs)
        result = await bulk_write(es, alias, writes, max_retries=retries, require_alias=True)
        failed = set(result.transient) | set(result.permanent)
        failed |= await _still_missing(es, alias, [t for t in ids if t in report.missing and t not in failed])
        report.repaired += len(set(ids) - failed)
        report.unrepaired.extend(sorted(failed))
    # Make the repair visible to searches (and to the next verify's scan) at once.
    await es.indices.refresh(index=alias)
    if report.unrepaired:
        logger.warning(
            "verify could not repair %d document(s); a document deleted by hand keeps a newer tombstone "
            "version for index.gc_deletes (60 s by default): repair again after that",
            len(report.unrepaired),
        )


async def _still_missing(es: AsyncElasticsearch, alias: str, ids: list[int]) -> set[int]:
    """Ids a repair write reported as done (a 409 no-op) that the index still does not have."""
    if not ids:
        return set()
    found = await es.mget(index=alias, ids=[str(t) for t in ids], source=False, realtime=True)
    return {int(d["_id"]) for d in found["docs"] if not d.get("found")}
