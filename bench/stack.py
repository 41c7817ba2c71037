"""The system under test: a fresh PostgreSQL database, Elasticsearch prefix, Redis db, and the
API (uvicorn) and indexer (arq) as subprocesses, exactly as they are deployed."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
SECRET = "bench-secret-key-0123456789abcdef0123456789"


@dataclass
class StackConfig:
    pg_admin_dsn: str = "postgresql://inquiry:inquiry@127.0.0.1:5432/postgres"
    database: str = "inquiry_bench"
    pg_host: str = "inquiry:inquiry@127.0.0.1:5432"
    es_url: str = "http://127.0.0.1:9200"
    index_prefix: str = "bench-"
    redis_url: str = "redis://127.0.0.1:6379/14"
    api_workers: int = 1
    arq_workers: int = 1
    uvicorn_flags: tuple[str, ...] = ("--loop", "uvloop", "--http", "httptools")
    pool_size: int = 10
    index_batch_size: int = 500
    log_level: str = "WARNING"
    extra_env: dict[str, str] = field(default_factory=dict)

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://{self.pg_host}/{self.database}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "INQUIRY_ENVIRONMENT": "production",
                "INQUIRY_SECRET_KEY": SECRET,
                "INQUIRY_DATABASE_URL": self.database_url,
                "INQUIRY_ELASTICSEARCH_URL": self.es_url,
                "INQUIRY_INDEX_PREFIX": self.index_prefix,
                "INQUIRY_REDIS_URL": self.redis_url,
                "INQUIRY_SEARCH_BACKEND": "elasticsearch",
                "INQUIRY_DATABASE_POOL_SIZE": str(self.pool_size),
                "INQUIRY_INDEX_BATCH_SIZE": str(self.index_batch_size),
                "INQUIRY_LOG_LEVEL": self.log_level,
                "INQUIRY_INQUIRY_FAILURES_PER_HOUR": "1000000",
                "PYTHONUNBUFFERED": "1",
            }
        )
        env.update(self.extra_env)
        return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(cmd: list[str], env: dict[str, str]) -> None:
    subprocess.run(cmd, cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


async def reset(config: StackConfig) -> None:
    """Drop and recreate the bench database, delete the bench indices, flush the bench Redis db."""
    import asyncpg
    from elasticsearch import AsyncElasticsearch
    from redis.asyncio import Redis

    conn = await asyncpg.connect(config.pg_admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{config.database}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{config.database}"')
    finally:
        await conn.close()
    es = AsyncElasticsearch(config.es_url, request_timeout=60)
    try:
        await es.options(ignore_status=404).indices.delete(index=f"{config.index_prefix}*", expand_wildcards="all")
        templates = await es.options(ignore_status=404).indices.get_index_template(name=f"{config.index_prefix}*")
        for t in (templates.body or {}).get("index_templates", []):
            await es.indices.delete_index_template(name=t["name"])
    finally:
        await es.close()
    redis = Redis.from_url(config.redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()
    env = config.env()
    _run([str(VENV_BIN / "inquiry"), "migrate"], env)
    _run([str(VENV_BIN / "inquiry"), "agencies", "load"], env)


def children_of(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(FileNotFoundError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(FileNotFoundError):
                out.extend(int(c) for c in (task / "children").read_text().split())
    return out


def proc_status(pid: int, key: str) -> int | None:
    """A ``kB`` field of /proc/<pid>/status (VmHWM, VmRSS) in kB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """User + system CPU of a process (and of its waited-for children, e.g. PostgreSQL's exited backends)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if with_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / CLOCK_TICKS


def pids_named(name: str) -> list[int]:
    """Processes whose command name is ``name`` (e.g. every PostgreSQL process)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(FileNotFoundError, ProcessLookupError):
                if (entry / "comm").read_text().strip() == name:
                    found.append(int(entry.name))
    return found


def cpu_by_component(stack: Stack) -> dict[str, float]:
    """Cumulative CPU seconds of the API, the workers, PostgreSQL, Elasticsearch and this load generator."""
    return {
        "api": sum(cpu_seconds(p) for p in {*stack.api_pids(), *([stack.api.pid] if stack.api else [])}),
        "worker": sum(cpu_seconds(p) for p in stack.worker_pids()),
        "postgresql": sum(cpu_seconds(p, with_children=True) for p in pids_named("postgres")),
        "elasticsearch": sum(cpu_seconds(p) for p in pids_named("java")),
        "redis": sum(cpu_seconds(p) for p in pids_named("redis-server")),
        "load_generator": cpu_seconds(os.getpid()),
    }


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {k: round(after[k] - before.get(k, 0.0), 1) for k in after}


class Stack:
    """uvicorn and arq subprocesses; logs go to ``log_dir``."""

    def __init__(self, config: StackConfig, log_dir: Path) -> None:
        self.config = config
        self.log_dir = log_dir
        self.port = free_port()
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self._logs: list[Any] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, cmd: list[str], name: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"{name}.log").open("wb")
        self._logs.append(log)
        return subprocess.Popen(
            cmd, cwd=REPO, env=self.config.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    async def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            str(VENV_BIN / "uvicorn"),
            "app.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
            *self.config.uvicorn_flags,
        ]
        if self.config.api_workers > 1:
            cmd += ["--workers", str(self.config.api_workers)]
        self.api = self._spawn(cmd, "api")
        for i in range(self.config.arq_workers):
            self.workers.append(self._spawn([str(VENV_BIN / "arq"), "app.worker.WorkerSettings"], f"worker-{i}"))
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while True:
                if self.api.poll() is not None:
                    raise RuntimeError(f"the API exited; see {self.log_dir / 'api.log'}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError("the API did not become ready within 60 s")
                await asyncio.sleep(0.2)
        for w in self.workers:
            if w.poll() is not None:
                raise RuntimeError(f"an arq worker exited; see {self.log_dir}")

    def api_pids(self) -> list[int]:
        """The processes that serve requests: the uvicorn workers (or the single process)."""
        if self.api is None:
            return []
        if self.config.api_workers > 1:
            kids = children_of(self.api.pid)
            # uvicorn's supervisor may also run a resource tracker; serving workers import the app (bigger RSS).
            return kids or [self.api.pid]
        return [self.api.pid]

    def worker_pids(self) -> list[int]:
        return [w.pid for w in self.workers]

    def peak_rss_mb(self) -> dict[str, Any]:
        def mb(pid: int) -> float | None:
            kb = proc_status(pid, "VmHWM")
            return round(kb / 1024, 1) if kb is not None else None

        api = {str(p): mb(p) for p in self.api_pids()}
        workers = {str(p): mb(p) for p in self.worker_pids()}
        return {
            "api_processes": api,
            "api_max_mb": max((v for v in api.values() if v), default=None),
            "worker_processes": workers,
            "worker_max_mb": max((v for v in workers.values() if v), default=None),
        }

    async def stop(self) -> None:
        procs = [p for p in [self.api, *self.workers] if p is not None]
        for p in procs:
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for p in procs:
            while p.poll() is None and time.monotonic() < deadline:  # noqa: ASYNC110 - polling a child process
                await asyncio.sleep(0.1)
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
        for log in self._logs:
            log.close()
