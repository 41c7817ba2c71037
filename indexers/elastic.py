"""Elasticsearch side: versioned indices behind one alias, and bulk writes that never go backwards.

Layout: concrete indices ``<prefix>transactions-v<N>`` and the alias ``<prefix>transactions`` that
every read and incremental write goes through, so a rebuild can swap indices atomically. Each
document carries the transaction's ``version`` as an *external* version: Elasticsearch keeps the
highest one, so a stale or replayed write is refused with 409 (treated as done), whatever the
order in which workers deliver them.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Mapping
from typing import Any

from elastic_transport import TransportError
from elasticsearch import AsyncElasticsearch, BadRequestError, NotFoundError
from elasticsearch.helpers import async_streaming_bulk
from sqlalchemy.ext.asyncio import AsyncSession

from indexers.mapping import index_mappings, index_name, index_settings, index_template, template_name
from indexers.sink import Document, Failure, SinkResult

logger = logging.getLogger(__name__)

_VERSION_RE = re.compile(r"transactions-v(\d+)$")


def alias_name(prefix: str) -> str:
    """The alias all reads and incremental writes use (equals ``Settings.index_alias``)."""
    return f"{prefix}transactions"


def rebuild_marker(prefix: str) -> str:
    """An alias on the index being rebuilt; while it exists incremental writes go there too."""
    return f"{prefix}transactions-rebuild"


def index_version(name: str) -> int:
    match = _VERSION_RE.search(name)
    return int(match.group(1)) if match else 0


async def aliased_indices(es: AsyncElasticsearch, alias: str) -> list[str]:
    """Concrete indices behind ``alias`` (empty when it does not exist)."""
    try:
        response = await es.indices.get_alias(name=alias)
    except NotFoundError:
        return []
    return sorted(response.body, key=index_version)


async def versioned_indices(es: AsyncElasticsearch, prefix: str) -> list[str]:
    """Every ``<prefix>transactions-v<N>`` index, oldest first."""
    response = await es.indices.get(index=f"{prefix}transactions-v*", expand_wildcards="open,closed")
    return sorted((n for n in response.body if _VERSION_RE.search(n)), key=index_version)


async def ensure_index(es: AsyncElasticsearch, prefix: str) -> str:
    """Make sure template, a versioned index and the alias exist; returns the live index.

    Idempotent and safe when several processes start together: the index is created with its
    alias in one request, and a loser of that race sees ``resource_already_exists`` and moves on.
    """
    body = index_template(prefix)
    await es.indices.put_index_template(
        name=template_name(prefix),
        index_patterns=body["index_patterns"],
        priority=body["priority"],
        template=body["template"],
        meta=body["_meta"],
    )
    alias = alias_name(prefix)
    live = await aliased_indices(es, alias)
    if live:
        return live[-1]
    existing = await versioned_indices(es, prefix)
    if existing:  # the alias was lost (deleted by hand): point it at the newest index again
        await es.indices.update_aliases(actions=[{"add": {"index": existing[-1], "alias": alias}}])
        return existing[-1]
    first = index_name(prefix, 1)
    try:
        await es.indices.create(
            index=first,
            settings=index_settings(),
            mappings=index_mappings(),
            aliases={alias: {}},
        )
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
    live = await aliased_indices(es, alias)
    return live[-1] if live else first


def _backoff(attempt: int, initial: float, maximum: float) -> float:
    """Exponential backoff with equal jitter, so retrying workers do not hit the cluster in step."""
    cap = min(maximum, initial * 2**attempt)
    return cap / 2 + random.uniform(0, cap / 2)


def _reason(info: Mapping[str, Any]) -> tuple[str, str]:
    error = info.get("error")
    if isinstance(error, Mapping):
        return str(error.get("type", "error")), str(error.get("reason", error))[:2000]
    exc = info.get("exception")
    return (type(exc).__name__ if exc is not None else "error"), str(error or exc)[:2000]


def _classify(op: str, info: Mapping[str, Any]) -> tuple[str, Failure | None]:
    """``ok``/``noop`` (acknowledged), ``transient`` (retry later) or ``permanent`` (dead letter)."""
    status = int(info.get("status") or 0)
    error_type, reason = _reason(info)
    if 200 <= status < 300:
        return "ok", None
    if status == 409 and error_type == "version_conflict_engine_exception":
        return "noop", None
    if op == "delete" and status == 404 and not info.get("error"):
        return "ok", None
    if status == 429 or status >= 500 or status == 0 or error_type == "index_not_found_exception":
        return "transient", Failure(error_type, reason)
    return "permanent", Failure(error_type, reason)


async def bulk_write(
    es: AsyncElasticsearch,
    index: str,
    docs: Mapping[int, Document | None],
    *,
    max_retries: int = 5,
    initial_backoff: float = 0.5,
    max_backoff: float = 30.0,
    chunk_size: int = 500,
    require_alias: bool = False,
) -> SinkResult:
    """Write ``docs`` (``None`` = delete) to ``index`` with external versions, retrying what may pass later.

    429, 5xx and connection errors are retried with backoff up to ``max_retries`` times; what still
    fails is reported transient. Other refusals (mapping errors) are permanent on the first try.
    """
    result = SinkResult()
    pending = dict(docs)
    for attempt in range(max_retries + 1):
        if attempt:
            await asyncio.sleep(_backoff(attempt - 1, initial_backoff, max_backoff))
        actions: list[dict[str, Any]] = []
        for tid, doc in pending.items():
            if doc is None:
                actions.append({"_op_type": "delete", "_index": index, "_id": str(tid)})
            else:
                actions.append(
                    {
                        "_op_type": "index",
                        "_index": index,
                        "_id": str(tid),
                        "version": int(doc["version"]),
                        "version_type": "external",
                        "_source": doc,
                    }
                )
        retry: dict[int, Document | None] = {}
        try:
            async for _ok, item in async_streaming_bulk(
                es,
                actions,
                chunk_size=chunk_size,
                raise_on_error=False,
                raise_on_exception=False,
                require_alias=require_alias,
            ):
                op, info = next(iter(item.items()))
                tid = int(info["_id"])
                outcome, failure = _classify(op, info)
                if outcome in ("ok", "noop"):
                    (result.deleted if op == "delete" else result.indexed).add(tid)
                    result.transient.pop(tid, None)
                elif outcome == "transient" and failure is not None:
                    result.transient[tid] = failure
                    retry[tid] = pending[tid]
                elif failure is not None:
                    result.permanent[tid] = failure
                    result.transient.pop(tid, None)
        except (TransportError, OSError, TimeoutError) as exc:
            logger.warning("bulk write to %s failed (attempt %d): %s", index, attempt + 1, exc)
            done = result.acknowledged | set(result.permanent)
            for tid in pending:
                if tid not in done:
                    result.transient[tid] = Failure(type(exc).__name__, str(exc)[:2000])
                    retry[tid] = pending[tid]
        pending = retry
        if not pending:
            break
    return result


class ElasticsearchSink:
    """Incremental writes through the alias (and to a rebuild's new index while one runs)."""

    def __init__(
        self,
        es: AsyncElasticsearch,
        *,
        prefix: str,
        max_retries: int = 5,
        initial_backoff: float = 0.5,
        max_backoff: float = 30.0,
        chunk_size: int = 500,
    ) -> None:
        self.es = es
        self.prefix = prefix
        self.alias = alias_name(prefix)
        self._options: dict[str, Any] = {
            "max_retries": max_retries,
            "initial_backoff": initial_backoff,
            "max_backoff": max_backoff,
            "chunk_size": chunk_size,
        }

    async def write(self, session: AsyncSession, docs: Mapping[int, Document | None]) -> SinkResult:
        """Write through the alias; during a rebuild also into the new index (see ``indexers.rebuild``).

        The marker is read after the documents were loaded and *before* writing through the alias,
        which is what makes the rebuild's catch-up complete: a change not in the rebuild's snapshot
        is written to the new index directly, or through the alias once it points there.
        """
        try:
            targets = await aliased_indices(self.es, rebuild_marker(self.prefix))
        except (TransportError, OSError, TimeoutError) as exc:
            failure = Failure(type(exc).__name__, str(exc)[:2000])
            return SinkResult(transient=dict.fromkeys(docs, failure))
        result = await bulk_write(self.es, self.alias, docs, require_alias=True, **self._options)
        for target in targets:
            result = result.merge(await bulk_write(self.es, target, docs, **self._options))
        return result
