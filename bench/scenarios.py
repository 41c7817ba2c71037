"""The scenarios of ``bench.run``; each returns a JSON-able dict of figures."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import orjson
from elasticsearch.serializer import OrjsonSerializer
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog, load_catalog
from app.db import create_engine, create_session_factory
from app.demo.generator import DemoGenerator
from app.demo.service import group_by_agency
from app.models import OutboxEntry, Transaction
from app.settings import Settings
from bench.load import closed_loop, summarize
from bench.stack import REPO, VENV_BIN, Stack, StackConfig, cpu_by_component, cpu_delta

Log = Callable[[str], None]


@dataclass
class Context:
    stack: Stack
    config: StackConfig
    args: Any
    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    catalog: Catalog
    es: Any
    stamp: str
    keys: dict[str, str] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    staff_agency: str = ""

    @property
    def alias(self) -> str:
        return f"{self.config.index_prefix}transactions"

    def client(self, connections: int) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        return httpx.AsyncClient(base_url=self.stack.base_url, limits=limits, timeout=60)

    def load_client(self, connections: int) -> aiohttp.ClientSession:
        """The client of the latency scenarios: aiohttp, like the raw Elasticsearch client it is compared with.

        httpx's pool collapsed at 64 connections (213 requests/s, p99 1.7 s against the same API that
        answered aiohttp 402/s, p99 210 ms), which measured the load generator, not the service.
        """
        return aiohttp.ClientSession(
            base_url=self.stack.base_url,
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=60),
        )

    async def close(self) -> None:
        await self.es.close()
        await self.engine.dispose()


async def prepare(stack: Stack, config: StackConfig, args: Any, log: Log) -> Context:
    """Our own database engine and ES client, an API key per agency."""
    from elasticsearch import AsyncElasticsearch

    from app.auth.service import create_api_key

    settings = Settings(
        database_url=config.database_url,
        elasticsearch_url=config.es_url,
        index_prefix=config.index_prefix,
        secret_key="unused-by-the-bench",
        database_pool_size=4,
    )
    engine = create_engine(settings)
    ctx = Context(
        stack=stack,
        config=config,
        args=args,
        settings=settings,
        engine=engine,
        session_factory=create_session_factory(engine),
        catalog=load_catalog(settings.config_dir),
        # As fast as a client gets: enough connections for the highest concurrency, orjson.
        es=AsyncElasticsearch(
            config.es_url,
            request_timeout=60,
            connections_per_node=128,
            serializers={"application/json": OrjsonSerializer()},
        ),
        stamp=datetime.now(UTC).strftime("%Y%m%d%H%M%S"),
    )
    async with ctx.session_factory() as session:
        for code in sorted(ctx.catalog.agencies):
            _key, plaintext = await create_api_key(session, agency_code=code, name="bench")
            ctx.keys[code] = plaintext
        await session.commit()
    log(f"{len(ctx.keys)} agency API keys created")
    return ctx


# --- a. end-to-end ingestion ----------------------------------------------------------------------


def build_bulk_bodies(ctx: Context) -> tuple[list[tuple[str, bytes, int]], int]:
    """Per-agency bulk bodies in delivery order (window by window), pre-serialized so the clock
    measures the system, not the generator."""
    args = ctx.args
    gen = DemoGenerator(ctx.catalog, seed=args.seed)
    bodies: list[tuple[str, bytes, int]] = []
    window: list[Any] = []
    events = 0

    def flush() -> None:
        for agency, items in group_by_agency(window):
            for start in range(0, len(items), args.bulk_max_items):
                chunk = items[start : start + args.bulk_max_items]
                bodies.append((agency, orjson.dumps(chunk), len(chunk)))
        window.clear()

    for delivery in gen.deliveries(args.transactions):
        window.append(delivery)
        events += 1
        if len(window) >= args.bulk_window:
            flush()
    flush()
    return bodies, events


async def counts(ctx: Context) -> tuple[int, int, int]:
    """(transactions in the database, rows in the outbox, documents searchable in the index)."""
    async with ctx.session_factory() as session:
        txns = await session.scalar(select(func.count()).select_from(Transaction)) or 0
        outbox = await session.scalar(select(func.count()).select_from(OutboxEntry)) or 0
    try:
        docs = int((await ctx.es.count(index=ctx.alias))["count"])
    except Exception:
        docs = -1
    return txns, outbox, docs


async def ingest(ctx: Context, log: Log) -> dict[str, Any]:
    args = ctx.args
    t0 = time.perf_counter()
    bodies, events = await asyncio.to_thread(build_bulk_bodies, ctx)
    log(f"generated {events:,} events in {len(bodies):,} bulk bodies in {time.perf_counter() - t0:.1f}s")
    queue: asyncio.Queue[tuple[str, bytes, int]] = asyncio.Queue()
    for b in bodies:
        queue.put_nowait(b)
    outcomes: dict[str, int] = {}
    request_latencies: list[float] = []
    failures: list[str] = []
    posted_events = 0

    async def client_loop(client: httpx.AsyncClient) -> None:
        nonlocal posted_events
        while True:
            try:
                agency, body, n = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            headers = {"Authorization": f"Bearer {ctx.keys[agency]}", "Content-Type": "application/json"}
            for attempt in range(10):
                t = time.perf_counter()
                try:
                    response = await client.post("/api/v1/events/bulk", content=body, headers=headers)
                except httpx.HTTPError as exc:
                    failures.append(f"{type(exc).__name__}: {exc}")
                    await asyncio.sleep(0.5 * (attempt + 1))
                    continue
                if response.status_code == 200:
                    request_latencies.append(time.perf_counter() - t)
                    for item in orjson.loads(response.content)["items"]:
                        outcomes[item["outcome"]] = outcomes.get(item["outcome"], 0) + 1
                    posted_events += n
                    break
                failures.append(f"{response.status_code}: {response.text[:200]}")
                await asyncio.sleep(0.5 * (attempt + 1))

    async def progress(stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=10)
            if not stop.is_set():
                txns, outbox, docs = await counts(ctx)
                log(f"  posted {posted_events:,}/{events:,} events; db {txns:,} txns, outbox {outbox:,}, es {docs:,}")

    stop = asyncio.Event()
    reporter = asyncio.create_task(progress(stop))
    cpu_before = cpu_by_component(ctx.stack)
    started = time.perf_counter()
    async with ctx.client(args.bulk_clients) as client:
        await asyncio.gather(*(client_loop(client) for _ in range(args.bulk_clients)))
    http_done = time.perf_counter()
    log(f"HTTP bulk done in {http_done - started:.1f}s; waiting until everything is searchable")
    deadline = http_done + 1800
    while True:
        txns, outbox, docs = await counts(ctx)
        if outbox == 0 and docs == txns:
            break
        if time.perf_counter() > deadline:
            failures.append(f"not searchable after 30 min: db {txns}, outbox {outbox}, es {docs}")
            break
        await asyncio.sleep(0.1)
    searchable = time.perf_counter()
    cpu = cpu_delta(cpu_before, cpu_by_component(ctx.stack))
    stop.set()
    await reporter
    async with ctx.session_factory() as session:
        dead = await session.scalar(text("SELECT count(*) FROM dead_letters")) or 0
    elapsed = searchable - started
    log(f"searchable after {elapsed:.1f}s: {txns:,} transactions, {docs:,} documents")
    log("CPU seconds during ingestion: " + ", ".join(f"{k} {v}" for k, v in cpu.items()))
    lat = summarize(request_latencies, http_done - started)
    return {
        "transactions_generated": args.transactions,
        "transactions_in_db": txns,
        "documents_searchable": docs,
        "events_sent": events,
        "bulk_requests": len(bodies),
        "bulk_clients": args.bulk_clients,
        "bulk_window": args.bulk_window,
        "outcomes": outcomes,
        "dead_letters": dead,
        "http_seconds": round(http_done - started, 2),
        "catch_up_seconds": round(searchable - http_done, 2),
        "total_seconds": round(elapsed, 2),
        "events_per_s_http": round(events / (http_done - started), 1),
        "transactions_per_s": round(txns / elapsed, 1),
        "bulk_request_latency": lat,
        "cpu_seconds": cpu,
        "failures": failures[:20],
        "failure_count": len(failures),
    }


# --- a. raw Elasticsearch bulk --------------------------------------------------------------------


async def load_all_documents(ctx: Context, log: Log) -> dict[int, dict[str, Any]]:
    from indexers.documents import load_documents

    t0 = time.perf_counter()
    async with ctx.session_factory() as session:
        ids = list((await session.scalars(select(Transaction.id).order_by(Transaction.id))).all())
    docs: dict[int, dict[str, Any]] = {}
    now = datetime.now(UTC)
    for start in range(0, len(ids), 2000):
        async with ctx.session_factory() as session:
            built = await load_documents(session, ids[start : start + 2000], catalog=ctx.catalog, now=now)
        docs.update({k: v for k, v in built.items() if v is not None})
    ctx.docs_build_s = time.perf_counter() - t0  # type: ignore[attr-defined]
    log(f"built {len(docs):,} documents from the database in {ctx.docs_build_s:.1f}s")  # type: ignore[attr-defined]
    return docs


async def raw_bulk(ctx: Context, docs: dict[int, dict[str, Any]], log: Log) -> dict[str, Any]:
    """The final documents into a fresh index with the live mapping: the ceiling of this machine."""
    from indexers.mapping import index_mappings, index_settings

    args = ctx.args
    index = f"{ctx.config.index_prefix}raw-transactions-v1"
    await ctx.es.options(ignore_status=404).indices.delete(index=index)
    await ctx.es.indices.create(index=index, settings=index_settings(), mappings=index_mappings())
    bodies: list[bytes] = []
    items = list(docs.items())
    for start in range(0, len(items), args.raw_chunk):
        lines: list[bytes] = []
        for tid, doc in items[start : start + args.raw_chunk]:
            action = {"index": {"_id": str(tid), "version": int(doc["version"]), "version_type": "external"}}
            lines.append(orjson.dumps(action))
            lines.append(orjson.dumps(doc))
        bodies.append(b"\n".join(lines) + b"\n")
    sem = asyncio.Semaphore(args.raw_concurrency)
    errors = 0
    latencies: list[float] = []

    async def send(client: httpx.AsyncClient, body: bytes) -> None:
        nonlocal errors
        async with sem:
            t = time.perf_counter()
            r = await client.post(f"/{index}/_bulk", content=body, headers={"Content-Type": "application/x-ndjson"})
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200 or orjson.loads(r.content).get("errors"):
                errors += 1

    limits = httpx.Limits(max_connections=args.raw_concurrency)
    async with httpx.AsyncClient(base_url=ctx.config.es_url, timeout=120, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(send(client, b) for b in bodies))
        await client.post(f"/{index}/_refresh")
        elapsed = time.perf_counter() - started
        count = int((await client.get(f"/{index}/_count")).json()["count"])
        size = (await client.get(f"/{index}/_stats/store")).json()["_all"]["primaries"]["store"]["size_in_bytes"]
    await ctx.es.indices.delete(index=index)
    log(f"raw bulk: {count:,} docs in {elapsed:.1f}s ({count / elapsed:,.0f}/s)")
    return {
        "documents": count,
        "seconds": round(elapsed, 2),
        "docs_per_s": round(count / elapsed, 1),
        "chunk": args.raw_chunk,
        "concurrency": args.raw_concurrency,
        "bulk_errors": errors,
        "request_latency": summarize(latencies, elapsed),
        "index_size_mb": round(size / 2**20, 1),
        "document_build_seconds": round(getattr(ctx, "docs_build_s", 0.0), 2),
        "document_build_per_s": round(len(docs) / getattr(ctx, "docs_build_s", 1.0), 1),
    }


# --- b. citizen inquiry vs raw ES ----------------------------------------------------------------


async def inquiry_sample(ctx: Context, size: int) -> list[tuple[str, str, str]]:
    """(reference display, reference key, last 4 of the ID) of ``size`` transactions spread over the ids."""
    async with ctx.session_factory() as session:
        total = await session.scalar(select(func.count()).select_from(Transaction)) or 1
        step = max(1, total // size)
        rows = (
            await session.execute(
                text(
                    "SELECT r.reference_display, r.reference_key, t.national_id_last4 FROM transactions t "
                    "JOIN transaction_references r ON r.transaction_id = t.id "
                    "AND r.agency_code = t.origin_agency "
                    "WHERE t.id % :step = 0 AND t.national_id_last4 IS NOT NULL ORDER BY t.id LIMIT :size"
                ),
                {"step": step, "size": size},
            )
        ).all()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


async def with_cpu(ctx: Context, load: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """A load level's figures plus the CPU seconds each component spent during it (warm-up included)."""
    before = cpu_by_component(ctx.stack)
    out = await load
    out["cpu_seconds"] = cpu_delta(before, cpu_by_component(ctx.stack))
    return out


async def inquiry(ctx: Context, log: Log) -> dict[str, Any]:
    args = ctx.args
    sample = await inquiry_sample(ctx, 3000)
    levels = [int(x) for x in args.concurrency.split(",")]
    api_out: dict[str, Any] = {}
    raw_out: dict[str, Any] = {}
    for level in levels:
        async with ctx.load_client(level) as client:

            async def api_call(i: int, client: aiohttp.ClientSession = client) -> bool:
                display, _key, last4 = sample[i % len(sample)]
                async with client.post("/api/v1/inquiry", json={"reference": display, "verifier": last4}) as r:
                    await r.read()
                    return r.status == 200

            api_out[str(level)] = await with_cpu(
                ctx,
                closed_loop(
                    api_call,
                    concurrency=level,
                    max_requests=args.requests,
                    max_seconds=args.seconds,
                    warmup=max(20, level),
                ),
            )

        async def raw_call(i: int) -> bool:
            _display, key, last4 = sample[i % len(sample)]
            r = await ctx.es.search(
                index=ctx.alias,
                query={"bool": {"filter": [{"term": {"reference_keys": key}}]}},
                size=5,
            )
            # national_id_last4 is display-only (not indexed), so the verifier is checked on _source,
            # exactly as an index-backed inquiry would have to.
            return any(h["_source"].get("national_id_last4") == last4 for h in r["hits"]["hits"])

        raw_out[str(level)] = await closed_loop(
            raw_call, concurrency=level, max_requests=args.requests, max_seconds=args.seconds, warmup=max(20, level)
        )
        log(
            f"inquiry c={level}: API p99 {api_out[str(level)]['p99_ms']} ms "
            f"({api_out[str(level)]['throughput_rps']} rps), raw ES p99 {raw_out[str(level)]['p99_ms']} ms "
            f"({raw_out[str(level)]['throughput_rps']} rps)"
        )
    return {"api": api_out, "raw_es": raw_out, "sample": len(sample), "verifier": "last 4 digits of the ID number"}


# --- c. staff search and dashboard ------------------------------------------------------------


async def make_users(ctx: Context) -> None:
    from app.auth.service import create_user, issue_token

    async with ctx.session_factory() as session:
        row = (
            await session.execute(
                select(Transaction.holder_agency, func.count())
                .group_by(Transaction.holder_agency)
                .order_by(func.count().desc())
            )
        ).first()
        ctx.staff_agency = row[0] if row else sorted(ctx.catalog.agencies)[0]
        for role, agency in (("staff", ctx.staff_agency), ("manager", ctx.staff_agency), ("admin", None)):
            username = f"bench-{role}-{ctx.stamp}"
            await create_user(session, username=username, role=role, agency_code=agency)
            _token, plaintext = await issue_token(session, username=username, ttl_hours=12)
            ctx.tokens[role] = plaintext
        await session.commit()


async def staff_queries(ctx: Context) -> list[list[tuple[str, str]]]:
    async with ctx.session_factory() as session:
        titles = (
            await session.scalars(
                select(Transaction.title).where(Transaction.holder_agency == ctx.staff_agency).limit(200)
            )
        ).all()
        ref = await session.scalar(
            text("SELECT reference_display FROM transaction_references WHERE agency_code = :a LIMIT 1"),
            {"a": ctx.staff_agency},
        )
    words: list[str] = []
    for title in titles:
        for w in (title or "").split():
            if len(w) >= 4 and w not in words:
                words.append(w)
    words = words[:6] or ["طلب"]
    ttype = sorted(ctx.catalog.transaction_types)[0]
    queries: list[list[tuple[str, str]]] = [
        [],
        [("q", words[0])],
        [("status", "under_review")],
        [("q", words[min(1, len(words) - 1)]), ("sort", "relevance")],
        [("direction", "incoming")],
        [("overdue", "true")],
        [("q", (ref or "1447")[:6])],
        [("status", "completed"), ("transaction_type", ttype)],
        [("q", words[min(2, len(words) - 1)]), ("status", "approved"), ("status", "completed")],
        [("direction", "outgoing"), ("sort", "due")],
    ]
    return queries


async def staff(ctx: Context, log: Log) -> dict[str, Any]:
    args = ctx.args
    await make_users(ctx)
    queries = await staff_queries(ctx)
    out: dict[str, Any] = {"agency": ctx.staff_agency, "queries": [dict(q) for q in queries]}

    async def run(name: str, role: str, path: str, params: list[list[tuple[str, str]]], level: int, n: int) -> None:
        headers = {"Authorization": f"Bearer {ctx.tokens[role]}"}
        async with ctx.load_client(level) as client:

            async def call(i: int) -> bool:
                async with client.get(path, params=params[i % len(params)], headers=headers) as r:
                    await r.read()
                    return r.status == 200

            out[name] = await with_cpu(
                ctx, closed_loop(call, concurrency=level, max_requests=n, max_seconds=args.seconds, warmup=5)
            )
        log(f"{name}: p50 {out[name]['p50_ms']} ms, p99 {out[name]['p99_ms']} ms ({out[name]['throughput_rps']} rps)")

    await run("staff_search_c1", "staff", "/api/v1/staff/search", queries, 1, 400)
    await run("staff_search_c8", "staff", "/api/v1/staff/search", queries, 8, 1500)
    await run("dashboard_admin_region_c1", "admin", "/api/v1/dashboard", [[]], 1, 60)
    await run("dashboard_manager_c1", "manager", "/api/v1/dashboard", [[]], 1, 60)
    await run("dashboard_manager_c4", "manager", "/api/v1/dashboard", [[]], 4, 120)
    return out


# --- d. ingest-to-searchable lag -----------------------------------------------------------------


async def lag(ctx: Context, log: Log) -> dict[str, Any]:
    args = ctx.args
    generator = DemoGenerator(ctx.catalog, seed=args.seed)
    async with ctx.session_factory() as session:
        total = await session.scalar(select(func.count()).select_from(Transaction)) or 1
        step = max(1, total // args.lag_events)
        rows = (
            await session.execute(
                text(
                    "SELECT t.id, t.version, r.agency_code, r.reference_display FROM transactions t "
                    "JOIN transaction_references r ON r.transaction_id = t.id AND r.agency_code = t.holder_agency "
                    "WHERE t.id % :step = 1 ORDER BY t.id LIMIT :n"
                ),
                {"step": step, "n": args.lag_events},
            )
        ).all()
    lags: list[float] = []
    post_latencies: list[float] = []
    errors: list[str] = []
    poll_interval = 0.05

    async def one(client: httpx.AsyncClient, i: int, row: Any) -> None:
        tid, version, agency, display = row
        codes = generator.raw_codes[agency]
        event = {
            "event_id": f"bench-lag-{ctx.stamp}-{i}",
            "reference": display,
            "status_code": codes.get("under_review") or next(iter(codes.values())),
            "occurred_at": datetime.now(UTC).isoformat(),
            "note": {"text": f"bench lag probe {i}", "visibility": "internal"},
        }
        sent = time.perf_counter()
        r = await client.post("/api/v1/events", json=event, headers={"Authorization": f"Bearer {ctx.keys[agency]}"})
        post_latencies.append(time.perf_counter() - sent)
        if r.status_code != 201:
            errors.append(f"{r.status_code}: {r.text[:200]}")
            return
        deadline = sent + 30
        while time.perf_counter() < deadline:
            res = await ctx.es.search(index=ctx.alias, query={"term": {"id": tid}}, source_includes=["version"], size=1)
            hits = res["hits"]["hits"]
            if hits and int(hits[0]["_source"]["version"]) > version:
                lags.append(time.perf_counter() - sent)
                return
            await asyncio.sleep(poll_interval)
        errors.append(f"transaction {tid} not searchable with the new version after 30 s")

    tasks = []
    async with ctx.client(32) as client:
        start = time.perf_counter()
        for i, row in enumerate(rows):
            delay = start + i / args.lag_rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(client, i, row)))
        await asyncio.gather(*tasks)
    out = summarize(lags, time.perf_counter() - start, len(errors))
    out.update(
        {
            "events": len(rows),
            "rate_per_s": args.lag_rate,
            "poll_interval_ms": poll_interval * 1000,
            "post_latency": summarize(post_latencies, time.perf_counter() - start),
            "error_samples": errors[:5],
        }
    )
    log(f"lag: p50 {out['p50_ms']} ms, p99 {out['p99_ms']} ms over {len(lags)} events")
    return out


# --- e. embedded backend (SQLite) ----------------------------------------------------------------


def copy_to_sqlite(ctx: Context, path: Path, limit: int) -> dict[str, int]:
    """Copy agencies and the first ``limit`` transactions (with references and events) into SQLite."""
    from sqlalchemy import create_engine as create_sync_engine

    from app.models import Base

    pg = create_sync_engine(ctx.config.database_url.replace("+asyncpg", "+psycopg"))
    lite = create_sync_engine(f"sqlite:///{path}")
    copied: dict[str, int] = {}
    with pg.connect() as src, lite.begin() as dst:
        max_id = src.scalar(text("SELECT id FROM transactions ORDER BY id LIMIT 1 OFFSET :n"), {"n": limit - 1})
        for name, where in (
            ("agencies", None),
            ("transactions", "id"),
            ("transaction_references", "transaction_id"),
            ("status_events", "transaction_id"),
        ):
            table = Base.metadata.tables[name]
            query = select(table)
            if where is not None and max_id is not None:
                query = query.where(table.c[where] <= max_id)
            result = src.execution_options(yield_per=5000).execute(query)
            n = 0
            for part in result.partitions():
                dst.execute(table.insert(), [dict(row._mapping) for row in part])
                n += len(part)
            copied[name] = n
    pg.dispose()
    lite.dispose()
    return copied


async def embedded(ctx: Context, docs: dict[int, dict[str, Any]], log: Log) -> dict[str, Any]:
    from app.auth.service import StaffPrincipal
    from app.search.database import DatabaseBackend
    from app.search.elastic import ElasticsearchBackend
    from app.search.types import AccessScope
    from app.staff.schemas import SearchParams
    from app.staff.service import build_query
    from indexers.pipeline import fts_body

    args = ctx.args
    path = REPO / ".cache" / "bench" / "embedded.db"
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)  # noqa: ASYNC240 - setup, not measured
    url = f"sqlite+aiosqlite:///{path}"
    env = ctx.config.env() | {"INQUIRY_DATABASE_URL": url}
    migrate = [str(VENV_BIN / "inquiry"), "migrate"]
    await asyncio.to_thread(subprocess.run, migrate, cwd=REPO, env=env, check=True, capture_output=True)
    t0 = time.perf_counter()
    copied = await asyncio.to_thread(copy_to_sqlite, ctx, path, args.embedded_transactions)
    settings = Settings(database_url=url)
    engine = create_engine(settings)
    factory = create_session_factory(engine)
    async with factory() as session:
        ids = (await session.scalars(select(Transaction.id))).all()
        rows = [
            {"id": tid, "body": fts_body(docs[tid]), "names": docs[tid].get("applicant_name_norm") or ""}
            for tid in ids
            if tid in docs
        ]
        for start in range(0, len(rows), 5000):
            await session.execute(
                text("INSERT INTO transaction_fts(rowid, body, names) VALUES (:id, :body, :names)"),
                rows[start : start + 5000],
            )
        await session.commit()
    load_s = time.perf_counter() - t0
    log(f"SQLite loaded in {load_s:.1f}s: {copied}")

    words: list[str] = []
    async with factory() as session:
        for title in (await session.scalars(select(Transaction.title).limit(300))).all():
            for w in (title or "").split():
                if len(w) >= 4 and w not in words:
                    words.append(w)
        names = (await session.scalars(select(Transaction.applicant_name).limit(50))).all()
    words = words[:8]
    for name in names[:40:10]:
        if name:
            words.append(name.split()[-1])
    principal = StaffPrincipal(user_id=0, username="bench", role="admin", agency_code=None)
    now = datetime.now(UTC)
    queries = [build_query(SearchParams(q=w), principal=principal, catalog=ctx.catalog, now=now) for w in words]
    scope = AccessScope(agency_code=None)
    out: dict[str, Any] = {"load_seconds": round(load_s, 1), "copied": copied, "words": words}
    n = min(args.requests, 300)

    async with factory() as session:
        backend = DatabaseBackend(session=session, catalog=ctx.catalog)

        async def sqlite_call(i: int) -> bool:
            page = await backend.search(queries[i % len(queries)], scope)
            return page.total >= 0

        out["sqlite_backend"] = await closed_loop(sqlite_call, concurrency=1, max_requests=n, max_seconds=args.seconds)

        async def naive_call(i: int) -> bool:
            pattern = f"%{words[i % len(words)]}%"
            where = "title LIKE :p OR applicant_name LIKE :p"
            await session.execute(
                text(f"SELECT id FROM transactions WHERE {where} ORDER BY created_at DESC, id DESC LIMIT 20"),
                {"p": pattern},
            )
            await session.scalar(text(f"SELECT count(*) FROM transactions WHERE {where}"), {"p": pattern})
            return True

        out["sqlite_naive_like"] = await closed_loop(
            naive_call, concurrency=1, max_requests=n, max_seconds=args.seconds
        )
    await engine.dispose()

    es_backend = ElasticsearchBackend(client=ctx.es, alias=ctx.alias, catalog=ctx.catalog)

    async def es_call(i: int) -> bool:
        page = await es_backend.search(queries[i % len(queries)], scope)
        return page.total >= 0

    out["elasticsearch_backend"] = await closed_loop(es_call, concurrency=1, max_requests=n, max_seconds=args.seconds)
    out["notes"] = (
        "backends: word search with facets (what staff search runs), region scope; naive: LIKE '%word%' on "
        "title/name, top 20 newest + count, no facets; ES holds all transactions, SQLite the copied ones"
    )
    for name in ("sqlite_backend", "sqlite_naive_like", "elasticsearch_backend"):
        log(f"{name}: p50 {out[name]['p50_ms']} ms, p99 {out[name]['p99_ms']} ms")
    return out


# --- profiling ------------------------------------------------------------------------------------


def start_profilers(stack: Stack, log_dir: Path, fmt: str) -> list[subprocess.Popen[bytes]]:
    if not (VENV_BIN / "py-spy").exists():
        raise SystemExit("--profile needs py-spy: .venv/bin/pip install -e '.[profile]'")
    procs = []
    ext = {"speedscope": "json", "raw": "txt"}.get(fmt, "svg")
    for kind, pids in (("api", stack.api_pids()), ("worker", stack.worker_pids())):
        for pid in pids:
            out = log_dir / f"profile-{kind}-{pid}.{ext}"
            procs.append(
                subprocess.Popen(
                    [str(VENV_BIN / "py-spy"), "record", "-p", str(pid), "-o", str(out), "-f", fmt, "-r", "40"],
                    stdout=subprocess.DEVNULL,
                    stderr=(log_dir / f"py-spy-{pid}.log").open("wb"),
                )
            )
    return procs


def stop_profilers(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(timeout=60)
