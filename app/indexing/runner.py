"""Wiring the outbox drain into a running process.

With Redis, ``kick_indexer`` enqueues the arq job ``drain_outbox`` under a fixed job id, so a burst
of ingestion requests queues one job, not thousands; the worker's cron is the safety net for a kick
that was lost. Without Redis (the embedded mode) an in-process task drains, woken by the kick and
polling every second; it logs and backs off on errors and never dies. The outbox is durable either
way: a lost kick only delays indexing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random

from app.observability.logging import request_id_var
from app.resources import Resources
from app.settings import Settings

logger = logging.getLogger(__name__)

DRAIN_JOB = "drain_outbox"
DRAIN_JOB_ID = "drain-outbox"
POLL_INTERVAL_S = 1.0
MAX_BACKOFF_S = 30.0


def in_process_enabled(settings: Settings) -> bool:
    """``index_in_process`` when the setting exists, otherwise on everywhere but in tests.

    Tests drain explicitly (or run a burst worker), so a background loop would race them.
    """
    configured: bool | None = getattr(settings, "index_in_process", None)
    if configured is not None:
        return configured
    return settings.environment != "test"


async def prepare_index(resources: Resources) -> bool:
    """Create the Elasticsearch template, index and alias if needed; False when the cluster is unreachable."""
    if resources.elasticsearch is None or resources.settings.effective_search_backend != "elasticsearch":
        return True
    from indexers.elastic import ensure_index

    try:
        await ensure_index(resources.elasticsearch, resources.settings.index_prefix)
    except Exception as exc:  # startup must not fail because the cluster is down: the drain retries later
        logger.warning("search index not ready yet (%s); indexing will retry", exc)
        return False
    return True


class InProcessIndexer:
    """Drains the outbox in this process whenever kicked, and at least every ``poll_interval`` seconds."""

    def __init__(self, resources: Resources, *, poll_interval: float = POLL_INTERVAL_S) -> None:
        self.resources = resources
        self.poll_interval = poll_interval
        self._wake = asyncio.Event()
        self._index_ready = False

    async def kick(self) -> None:
        self._wake.set()

    async def run_once(self) -> int:
        """One drain until the outbox is empty; returns how many documents failed transiently."""
        from indexers.pipeline import drain_outbox, make_sink

        res = self.resources
        if not self._index_ready:
            self._index_ready = await prepare_index(res)
            if not self._index_ready:
                return 1
        report = await drain_outbox(
            res.session_factory,
            make_sink(res.settings, res.elasticsearch),
            catalog=res.catalog,
            batch_size=res.settings.index_batch_size,
        )
        if report.processed or report.failed:
            logger.info("outbox drained: %s", report)
        return report.failed

    async def run(self) -> None:
        """The loop; only cancellation ends it."""
        failures = 0
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
            self._wake.clear()
            try:
                failed = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("outbox drain failed; retrying after a pause")
                failed = 1
            failures = failures + 1 if failed else 0
            if failures:
                delay = min(MAX_BACKOFF_S, 2.0 ** (failures - 1))
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))


async def start_indexing(resources: Resources) -> None:
    """Set ``resources.kick_indexer`` (and start the in-process loop in embedded mode)."""
    await prepare_index(resources)
    if resources.redis is not None:
        redis = resources.redis

        async def enqueue() -> None:
            # The request that committed the work travels with the job, so its logs can be followed.
            await redis.enqueue_job(DRAIN_JOB, request_id=request_id_var.get(), _job_id=DRAIN_JOB_ID)

        resources.kick_indexer = enqueue
        return
    if not in_process_enabled(resources.settings):
        return
    indexer = InProcessIndexer(resources)
    resources.kick_indexer = indexer.kick
    resources.background.append(asyncio.create_task(indexer.run(), name="outbox-indexer"))
