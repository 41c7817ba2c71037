"""Who drains: the arq worker (burst mode, real Redis) and the in-process loop of the embedded mode."""

from __future__ import annotations

import asyncio
import dataclasses
import logging

import pytest
from arq.connections import ArqRedis, RedisSettings
from arq.worker import Worker
from elasticsearch import AsyncElasticsearch
from sqlalchemy import func, select

from app.indexing import start_indexing
from app.indexing.runner import DRAIN_JOB_ID, InProcessIndexer
from app.models import OutboxEntry
from app.observability.logging import request_id_var
from app.resources import Resources
from app.settings import Settings
from app.worker import WorkerSettings, shutdown, startup
from tests.fixtures.factories import make_event
from tests.indexers.conftest import Ingest


async def _outbox(resources: Resources) -> int:
    async with resources.session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(OutboxEntry)) or 0)


async def test_kick_enqueues_one_deduplicated_job_and_burst_worker_drains(
    ingest: Ingest,
    resources: Resources,
    arq_redis: ArqRedis,
    redis_settings: RedisSettings,
    app_settings: Settings,
    es: AsyncElasticsearch,
    alias: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await ingest("HCM", [make_event() for _ in range(4)])
    with_redis = dataclasses.replace(resources, redis=arq_redis, kick_indexer=None, background=[])
    await start_indexing(with_redis)
    assert with_redis.kick_indexer is not None

    token = request_id_var.set("req-kick-1")
    try:
        for _ in range(3):
            await with_redis.after_commit()
    finally:
        request_id_var.reset(token)

    queued = await arq_redis.queued_jobs()
    assert [j.job_id for j in queued] == [DRAIN_JOB_ID]
    assert queued[0].kwargs == {"request_id": "req-kick-1"}, "the committing request's id travels with the job"
    worker = Worker(
        functions=WorkerSettings.functions,
        on_startup=startup,
        on_shutdown=shutdown,
        redis_settings=redis_settings,
        burst=True,
        handle_signals=False,
        poll_delay=0.05,
        ctx={"settings": app_settings},
    )
    caplog.set_level(logging.INFO, logger="app.worker")
    try:
        await worker.main()
    finally:
        await worker.close()

    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    drained = [r for r in caplog.records if r.getMessage() == "outbox drained"]
    assert drained and drained[0].request_id == "req-kick-1"  # type: ignore[attr-defined]
    assert await _outbox(resources) == 0
    await es.indices.refresh(index=alias)
    assert (await es.count(index=alias))["count"] == 4
    assert await arq_redis.enqueue_job("drain_outbox", _job_id=DRAIN_JOB_ID) is not None  # id freed


async def test_in_process_loop_drains_on_kick_and_survives_errors(
    ingest: Ingest,
    resources: Resources,
    es: AsyncElasticsearch,
    alias: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    indexer = InProcessIndexer(resources, poll_interval=30)  # only the kick wakes it quickly
    calls = 0
    real_run_once = indexer.run_once

    async def flaky_run_once() -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("first drain fails")
        return await real_run_once()

    monkeypatch.setattr(indexer, "run_once", flaky_run_once)
    monkeypatch.setattr("app.indexing.runner.MAX_BACKOFF_S", 0.05)
    task = asyncio.create_task(indexer.run())
    try:
        await ingest("HCM", [make_event(), make_event()])
        await indexer.kick()
        for _ in range(100):
            if calls >= 2 and await _outbox(resources) == 0:
                break
            await asyncio.sleep(0.05)
            await indexer.kick()
        assert not task.done()
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    assert await _outbox(resources) == 0
    await es.indices.refresh(index=alias)
    assert (await es.count(index=alias))["count"] == 2


def test_in_process_loop_is_off_in_tests_unless_enabled(app_settings: Settings) -> None:
    from app.indexing.runner import in_process_enabled

    assert in_process_enabled(app_settings) is False
    assert in_process_enabled(app_settings.model_copy(update={"environment": "development"})) is True
