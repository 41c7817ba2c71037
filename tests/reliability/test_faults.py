"""A steady stream of events survives Elasticsearch, worker, Redis and PostgreSQL faults without loss.

Everything runs for real: the API in a uvicorn subprocess, an arq worker subprocess, and the
``faults`` service instance (see conftest). The client retries on 503 and connection errors, as
an agency's client must; it records every event the API acknowledged with a 2xx. After the
faults and the drain, every acknowledged event is stored exactly once and the index equals the
database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.service import create_api_key
from app.catalog.loader import load_catalog
from app.db import create_session_factory
from app.models import DeadLetter, OutboxEntry, StatusEvent
from app.settings import REPO_ROOT, Settings
from indexers.verify import verify
from tests.fixtures.database import migrated_database
from tests.fixtures.elasticsearch import delete_prefix
from tests.fixtures.factories import VALID_IDS
from tests.fixtures.services import TEST_SECRET
from tests.reliability.conftest import FAULT_ES_URL, FAULT_PG_SERVER, FAULT_REDIS_URL, services

pytestmark = [pytest.mark.faults, pytest.mark.timeout(420)]

RUN = uuid.uuid4().hex[:8]
DATABASE = f"inquiry_faults_{RUN}"
PREFIX = f"faults-{RUN}-"
AGENCY = "HCM"
BATCH = 25
MAX_EVENTS = 6000
PAUSE_S = 0.25
DRAIN_TIMEOUT_S = 150
ARTIFACTS = REPO_ROOT / "artifacts" / "faults"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """The API and worker processes of one test, with the environment both read."""

    env: dict[str, str]
    port: int
    settings: Settings
    api: subprocess.Popen[bytes] | None = None
    worker: subprocess.Popen[bytes] | None = None
    worker_starts: int = 0
    logs: list[Path] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = ARTIFACTS / f"{name}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("wb") as out:
            return subprocess.Popen(args, cwd=REPO_ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def start_api(self) -> None:
        uvicorn = str(REPO_ROOT / ".venv" / "bin" / "uvicorn")
        args = [uvicorn, "app.main:create_app", "--factory", "--host", "127.0.0.1", "--port", str(self.port)]
        self.api = self._spawn("api", args)

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", [str(REPO_ROOT / ".venv" / "bin" / "arq"), "app.worker.WorkerSettings"])
        self.worker_starts += 1

    def ensure_worker(self) -> None:
        """What a supervisor (systemd, Kubernetes) does: start the worker again if it exited."""
        if self.worker is None or self.worker.poll() is not None:
            self.start_worker()

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait(10)

    def stop(self) -> None:
        for proc in (self.api, self.worker):
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)


@pytest.fixture(scope="module")
async def fault_db(fault_services: dict[str, str]) -> AsyncIterator[AsyncEngine]:
    """A migrated database of its own on the fault instance, with the agencies loaded."""
    async with migrated_database(FAULT_PG_SERVER, DATABASE, maintenance_db="inquiry", pool_size=2) as engine:
        try:
            yield engine
        finally:
            es = AsyncElasticsearch(FAULT_ES_URL, request_timeout=30)
            with contextlib.suppress(Exception):  # the instance keeps its data between runs: leave no indices
                await delete_prefix(es, PREFIX)
            await es.close()


@pytest.fixture
def stack(fault_db: AsyncEngine) -> Iterator[Stack]:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "INQUIRY_ENVIRONMENT": "test",
        "INQUIRY_DATABASE_URL": f"{FAULT_PG_SERVER}/{DATABASE}",
        "INQUIRY_DATABASE_POOL_SIZE": "5",
        "INQUIRY_ELASTICSEARCH_URL": FAULT_ES_URL,
        "INQUIRY_SEARCH_BACKEND": "elasticsearch",
        "INQUIRY_REDIS_URL": FAULT_REDIS_URL,
        "INQUIRY_INDEX_PREFIX": PREFIX,
        "INQUIRY_INDEX_IN_PROCESS": "false",
        "INQUIRY_SECRET_KEY": TEST_SECRET,
        "INQUIRY_LOG_LEVEL": "INFO",
    }
    settings = Settings(
        database_url=env["INQUIRY_DATABASE_URL"],
        elasticsearch_url=FAULT_ES_URL,
        index_prefix=PREFIX,
        secret_key=TEST_SECRET,
        environment="test",
    )
    s = Stack(env=env, port=free_port(), settings=settings)
    try:
        yield s
    finally:
        s.stop()


def make_events() -> list[dict[str, Any]]:
    """Pairs of events per file: received (opens it), then under review; at most MAX_EVENTS."""
    base = datetime.now(UTC) - timedelta(days=2)
    events = []
    for n in range(MAX_EVENTS):
        file_no, second = divmod(n, 2)
        event: dict[str, Any] = {
            "event_id": f"F-{RUN}-{n:05d}",
            "reference": f"FLT-{file_no:05d}",
            "status_code": "under_review" if second else "received",
            "occurred_at": (base + timedelta(seconds=n)).isoformat(),
        }
        if not second:
            event |= {
                "transaction_type": "building_permit",
                "title": f"طلب رخصة بناء رقم {file_no}",
                "applicant": {"national_id": VALID_IDS[file_no % len(VALID_IDS)], "name": "محمد عبدالله"},
            }
        events.append(event)
    return events


@dataclass
class Producer:
    """Sends bulks in order, retrying each until a 2xx, and records what was acknowledged."""

    client: httpx.AsyncClient
    key: str
    acked: dict[str, str] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    requests: list[tuple[float, float, int]] = field(default_factory=list)
    """(sent, answered, status) of every request; status 0 = connection error."""
    other_5xx: list[str] = field(default_factory=list)
    bad_items: list[dict[str, Any]] = field(default_factory=list)
    resent: int = 0

    async def send(self, batch: list[dict[str, Any]]) -> None:
        delay = 0.1
        while True:
            sent = time.monotonic()
            try:
                response = await self.client.post(
                    "/api/v1/events/bulk", json=batch, headers={"Authorization": f"Bearer {self.key}"}
                )
                status = response.status_code
            except httpx.TransportError:
                status = 0
            self.requests.append((sent, time.monotonic(), status))
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if 200 <= status < 300:
                for item in response.json()["items"]:
                    event_id = batch[item["index"]]["event_id"]
                    if item["outcome"] in ("created", "duplicate"):
                        self.acked[event_id] = item["outcome"]
                    else:
                        self.bad_items.append(item)
                return
            if status >= 500 and status != 503:
                self.other_5xx.append(f"{status}: {response.text[:300]}")
            elif 400 <= status < 500:
                raise AssertionError(f"client error {status}: {response.text[:500]}")
            await asyncio.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(2.0, delay * 2)

    async def run(self, events: list[dict[str, Any]], stop: asyncio.Event) -> int:
        """Send batches until the events run out or ``stop`` is set (then finish one more batch)."""
        sent = 0
        previous: list[dict[str, Any]] = []
        for start in range(0, len(events), BATCH):
            batch = events[start : start + BATCH]
            if start // BATCH % 10 == 9 and previous:  # an agency resending part of its last bulk
                batch = previous[-5:] + batch
                self.resent += 5
            await self.send(batch)
            sent = start + len(events[start : start + BATCH])
            previous = batch
            if stop.is_set():
                break
            await asyncio.sleep(PAUSE_S)
        return sent


async def wait_http(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    async with httpx.AsyncClient() as c:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if (await c.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.3)
    raise AssertionError(f"{url} did not answer in {seconds}s")


async def outbox_depth(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(OutboxEntry)) or 0)


async def test_stream_survives_faults(stack: Stack, fault_db: AsyncEngine) -> None:
    """Inject four faults into a live stream; nothing acknowledged is lost, the index equals the database."""
    async with create_session_factory(fault_db)() as session:
        _, key = await create_api_key(session, agency_code=AGENCY)
        await session.commit()
    stack.start_api()
    stack.start_worker()
    await wait_http(f"{stack.url}/healthz")

    faults: list[str] = []
    pg_down: list[tuple[float, float]] = []
    stop = asyncio.Event()
    events = make_events()
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as client:
        producer = Producer(client, key)
        task = asyncio.create_task(producer.run(events, stop))

        async def settle(seconds: float) -> None:
            await asyncio.sleep(seconds)
            assert not task.done() or task.exception() is None

        await settle(3)
        # (a) Elasticsearch stops and comes back: ingestion goes on, the outbox keeps the work.
        await asyncio.to_thread(services, "down-es")
        await settle(3)
        await asyncio.to_thread(services, "up-es")
        faults.append("elasticsearch stopped and restarted")
        await settle(2)
        # (b) the worker is killed mid-drain; a new one takes over.
        for _ in range(50):  # wait for work in the outbox, so the kill lands mid-batch
            if await outbox_depth(fault_db) > 0:
                break
            await asyncio.sleep(0.1)
        stack.kill_worker()
        faults.append("arq worker killed -9 and replaced")
        await settle(1)
        stack.start_worker()
        await settle(3)
        # (c) Redis restarts with its data wiped: queued jobs and kicks are gone, the outbox is not.
        await asyncio.to_thread(services, "down-redis")
        for name in ("dump.rdb", "appendonly.aof", "appendonlydir"):
            path = REPO_ROOT / ".cache" / "services" / "faults" / "redis" / name
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)
        await settle(1)
        await asyncio.to_thread(services, "up-redis")
        faults.append("redis restarted with its data wiped")
        await settle(2)
        stack.ensure_worker()
        # (d) PostgreSQL restarts: ingestion answers 503 meanwhile, never 2xx.
        await asyncio.to_thread(services, "down-pg")
        down_at = time.monotonic()
        await settle(4)
        up_at = time.monotonic()
        await asyncio.to_thread(services, "up-pg")
        pg_down.append((down_at, up_at))
        faults.append("postgresql restarted")
        await settle(3)
        stack.ensure_worker()
        stop.set()
        sent = await task
        stream_s = time.monotonic() - started

        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        depth = await outbox_depth(fault_db)
        while depth and time.monotonic() < deadline:
            stack.ensure_worker()
            await asyncio.sleep(1)
            depth = await outbox_depth(fault_db)
        drain_s = time.monotonic() - started - stream_s

    assert depth == 0, f"outbox not drained in {DRAIN_TIMEOUT_S}s ({depth} left)"
    sent_ids = [e["event_id"] for e in events[:sent]]
    async with fault_db.connect() as conn:
        rows = (
            await conn.execute(
                select(StatusEvent.event_id, func.count())
                .where(StatusEvent.agency_code == AGENCY)
                .group_by(StatusEvent.event_id)
            )
        ).all()
        dead = int(await conn.scalar(select(func.count()).select_from(DeadLetter)) or 0)
    stored = dict(rows)
    lost = sorted(set(producer.acked) - set(stored))
    twice = sorted(e for e, n in stored.items() if n != 1)
    during_pg_down = [
        (s, a, st) for s, a, st in producer.requests for d, u in pg_down if s >= d and a <= u and 200 <= st < 300
    ]
    es = AsyncElasticsearch(FAULT_ES_URL, request_timeout=30)
    try:
        await es.indices.refresh(index=stack.settings.index_alias)
        report = await verify(create_session_factory(fault_db), es, stack.settings, load_catalog())
        indexed = int((await es.count(index=stack.settings.index_alias))["count"])
    finally:
        await es.close()

    figures = {
        "events_sent": sent,
        "requests": len(producer.requests),
        "responses_by_status": {str(k): v for k, v in sorted(producer.statuses.items())},
        "acknowledged": len(producer.acked),
        "acknowledged_as_duplicate": sum(1 for v in producer.acked.values() if v == "duplicate"),
        "resent_on_purpose": producer.resent,
        "stored_events": len(stored),
        "transactions_in_db": report.db_count,
        "documents_indexed": indexed,
        "verify_missing_stale_orphans": [len(report.missing), len(report.stale), len(report.orphans)],
        "dead_letters": dead,
        "faults_injected": faults,
        "worker_starts": stack.worker_starts,
        "non_503_5xx": len(producer.other_5xx),
        "2xx_while_postgres_down": len(during_pg_down),
        "lost": len(lost),
        "stream_seconds": round(stream_s, 1),
        "drain_seconds": round(drain_s, 1),
    }
    (ARTIFACTS / "figures.json").write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    print("\nfault-injection figures:\n" + json.dumps(figures, indent=2, ensure_ascii=False))

    assert not producer.bad_items, producer.bad_items[:5]
    assert lost == [], f"{len(lost)} acknowledged events lost: {lost[:10]}"
    assert twice == [], f"events stored more than once: {twice[:10]}"
    assert set(stored) == set(sent_ids), "the database holds exactly the events that were sent"
    assert len(producer.acked) == len(sent_ids)
    assert producer.other_5xx == [], producer.other_5xx[:5]
    assert during_pg_down == []
    assert producer.statuses.get(503, 0) > 0, "PostgreSQL was down: the API must have answered 503"
    assert report.ok, (report.missing[:10], report.stale[:10], report.orphans[:10])
    assert indexed == report.db_count
