"""The arq worker: drains the outbox into the search index (``arq app.worker.WorkerSettings``).

The web process enqueues ``drain_outbox`` under one fixed job id after each commit, so many kicks
collapse into one queued job; the job loops until the outbox is empty. A cron every two seconds
is the safety net for kicks that were lost or arrived while a drain was already running. When
Elasticsearch is down the job asks arq to retry it later (``Retry(defer=...)``) and the outbox
keeps the work, so nothing acknowledged is lost.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from arq import Retry
from arq.connections import RedisSettings
from arq.cron import CronJob, cron
from arq.worker import Function, func

from app.indexing.runner import DRAIN_JOB, prepare_index
from app.observability.logging import configure_logging, request_id_var
from app.resources import Resources, close_resources, open_resources
from app.settings import Settings, get_settings

logger = logging.getLogger(__name__)

MAX_TRIES = 10
MAX_DEFER_S = 60.0


async def startup(ctx: dict[str, Any]) -> None:
    """Open the shared clients once per worker; ``ctx["settings"]`` (tests) overrides the environment."""
    settings: Settings = ctx.get("settings") or get_settings()
    configure_logging(settings.log_level)
    resources = await open_resources(settings)
    ctx["resources"] = resources
    ctx["index_ready"] = await prepare_index(resources)


async def shutdown(ctx: dict[str, Any]) -> None:
    resources: Resources | None = ctx.get("resources")
    if resources is not None:
        await close_resources(resources)


async def _drain(ctx: dict[str, Any]) -> dict[str, int]:
    from indexers.pipeline import drain_outbox, make_sink

    resources: Resources = ctx["resources"]
    if not ctx.get("index_ready"):
        ctx["index_ready"] = await prepare_index(resources)
    report = await drain_outbox(
        resources.session_factory,
        make_sink(resources.settings, resources.elasticsearch),
        catalog=resources.catalog,
        batch_size=resources.settings.index_batch_size,
    )
    return {
        "processed": report.processed,
        "indexed": report.indexed,
        "deleted": report.deleted,
        "dead_lettered": report.dead_lettered,
        "failed": report.failed,
    }


async def drain_outbox_job(ctx: dict[str, Any], request_id: str = "-") -> dict[str, int]:
    """The kicked job: drain until empty; when the index is unreachable, retry with growing delays.

    ``request_id`` is the id of the request whose commit kicked the job; the job's logs carry it.
    """
    token = request_id_var.set(request_id)
    try:
        result = await _drain(ctx)
        logger.info("outbox drained", extra=result)
    finally:
        request_id_var.reset(token)
    if result["failed"] and not result["processed"]:
        job_try = int(ctx.get("job_try", 1))
        if job_try < MAX_TRIES:
            raise Retry(defer=min(MAX_DEFER_S, 2.0**job_try))
        logger.warning("index still unreachable after %d tries; the cron keeps retrying", job_try)
    return result


async def drain_outbox_cron(ctx: dict[str, Any]) -> dict[str, int]:
    """Safety net: whatever kicks were lost, the outbox is drained within seconds."""
    return await _drain(ctx)


def _redis_settings() -> RedisSettings:
    url = get_settings().redis_url
    return RedisSettings.from_dsn(url) if url else RedisSettings()


class WorkerSettings:
    """arq's contract with the app: functions, cron jobs, startup and shutdown."""

    functions: ClassVar[list[Function]] = [
        # keep_result=0: the fixed job id is free again as soon as a drain finishes.
        func(drain_outbox_job, name=DRAIN_JOB, keep_result=0, max_tries=MAX_TRIES, timeout=600),
    ]
    cron_jobs: ClassVar[list[CronJob]] = [
        cron(drain_outbox_cron, second=set(range(0, 60, 2)), run_at_startup=True, unique=True, timeout=600),
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = _redis_settings()
    keep_result = 0
    max_tries = MAX_TRIES
