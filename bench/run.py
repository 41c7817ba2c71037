"""Unified Inquiry benchmarks: ``python -m bench.run --transactions N``.

Runs every scenario against the real services (PostgreSQL, Elasticsearch, Redis, the API under
uvicorn and the arq indexer as subprocesses) with the deterministic demo generator, prints a table
and writes ``bench/results/<timestamp>.json``. See bench/README.md for how to read it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson

from bench import scenarios
from bench.stack import REPO, Stack, StackConfig, reset

RESULTS = REPO / "bench" / "results"
ALL = ("ingest", "raw", "inquiry", "staff", "lag", "embedded")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine() -> dict[str, Any]:
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    cpu_model = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu_model = line.split(":", 1)[1].strip()
            break
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gb": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg_at_start": os.getloadavg(),
    }


async def service_versions(config: StackConfig) -> dict[str, Any]:
    import asyncpg

    out: dict[str, Any] = {}
    async with httpx.AsyncClient(timeout=5) as client:
        try:
            info = (await client.get(config.es_url + "/_nodes/_local/os,jvm")).json()
            node = next(iter(info["nodes"].values()))
            out["elasticsearch"] = node.get("version")
            out["elasticsearch_heap_max_mb"] = round(node["jvm"]["mem"]["heap_max_in_bytes"] / 2**20)
        except Exception as exc:  # the bench still runs; the version is simply unknown
            out["elasticsearch"] = f"unknown ({exc})"
    conn = await asyncpg.connect(config.pg_admin_dsn)
    try:
        out["postgresql"] = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return out


def fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        text = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    else:
        text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text}{unit}"


def verdict(value: float | None, target: float, *, at_most: bool) -> str:
    if value is None:
        return "n/a"
    ok = value <= target if at_most else value >= target
    return "PASS" if ok else "MISS"


def table(result: dict[str, Any]) -> str:
    """The human summary: one line per figure, the target and whether it is met."""
    rows: list[tuple[str, str, str, str]] = []
    s = result["scenarios"]
    if "ingest" in s and "raw" in s:
        e2e, raw = s["ingest"], s["raw"]
        rows.append(("a. raw ES bulk (docs/s)", fmt(raw["docs_per_s"]), "", ""))
        rows.append(("a. e2e HTTP bulk -> searchable (txn/s)", fmt(e2e["transactions_per_s"]), "", ""))
        rows.append(("a.    events/s accepted (HTTP)", fmt(e2e["events_per_s_http"]), "", ""))
        # A failed request is retried by the bench, so the figures above still count every event;
        # the API should never fail one (scenarios.ingest.failures has the answers).
        failed = e2e.get("failure_count", 0)
        rows.append(("a.    failed bulk requests (retried)", fmt(failed), "0", "PASS" if failed == 0 else "MISS"))
        r = result["ratios"].get("ingest_e2e_vs_raw_ratio")
        rows.append(("a. ratio e2e / raw", fmt(r), ">= 0.5", verdict(r, 0.5, at_most=False)))
    if "inquiry" in s:
        for level, api in s["inquiry"]["api"].items():
            raw = s["inquiry"]["raw_es"][level]
            rows.append(
                (
                    f"b. inquiry c={level} p50/p95/p99 ms (rps)",
                    f"{fmt(api['p50_ms'])}/{fmt(api['p95_ms'])}/{fmt(api['p99_ms'])} ({fmt(api['throughput_rps'])})",
                    "",
                    "",
                )
            )
            rows.append(
                (
                    f"b. raw ES  c={level} p50/p95/p99 ms (rps)",
                    f"{fmt(raw['p50_ms'])}/{fmt(raw['p95_ms'])}/{fmt(raw['p99_ms'])} ({fmt(raw['throughput_rps'])})",
                    "",
                    "",
                )
            )
            r = result["ratios"].get(f"inquiry_p99_ratio_c{level}")
            rows.append((f"b. p99 ratio API / raw ES c={level}", fmt(r), "<= 2", verdict(r, 2, at_most=True)))
    if "staff" in s:
        for name, st in s["staff"].items():
            if not isinstance(st, dict) or "p99_ms" not in st:
                continue
            target = 100 if name.startswith("staff_search") else 300
            rows.append(
                (
                    f"c. {name} p50/p95/p99 ms",
                    f"{fmt(st['p50_ms'])}/{fmt(st['p95_ms'])}/{fmt(st['p99_ms'])}",
                    f"p99 <= {target}",
                    verdict(st["p99_ms"], target, at_most=True),
                )
            )
    if "lag" in s:
        lag = s["lag"]
        rows.append(
            (
                "d. ingest->searchable lag p50/p99 ms",
                f"{fmt(lag['p50_ms'])}/{fmt(lag['p99_ms'])}",
                "p99 <= 2000",
                verdict(lag["p99_ms"], 2000, at_most=True),
            )
        )
    if "embedded" in s:
        emb = s["embedded"]
        for name in ("sqlite_backend", "sqlite_naive_like", "elasticsearch_backend"):
            st = emb[name]
            rows.append((f"e. {name} p50/p99 ms", f"{fmt(st['p50_ms'])}/{fmt(st['p99_ms'])}", "", ""))
        r = result["ratios"].get("embedded_naive_like_vs_backend_p50_ratio")
        rows.append(("e. naive LIKE / SQLite backend (p50)", fmt(r), "", ""))
    rss = result.get("peak_rss")
    if rss:
        rows.append(
            ("f. peak RSS API (MB)", fmt(rss["api_max_mb"]), "<= 300", verdict(rss["api_max_mb"], 300, at_most=True))
        )
        rows.append(("f. peak RSS worker (MB)", fmt(rss["worker_max_mb"]), "", ""))
    width = max(len(r[0]) for r in rows) if rows else 10
    vw = max(len(r[1]) for r in rows) if rows else 10
    lines = [f"{'figure':<{width}}  {'value':>{vw}}  {'target':<12} verdict", "-" * (width + vw + 24)]
    lines += [f"{a:<{width}}  {b:>{vw}}  {c:<12} {d}" for a, b, c, d in rows]
    return "\n".join(lines)


def ratios(s: dict[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}

    def div(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a is not None and b else None

    if "ingest" in s and "raw" in s:
        out["ingest_e2e_vs_raw_ratio"] = div(s["ingest"]["transactions_per_s"], s["raw"]["docs_per_s"])
    if "inquiry" in s:
        for level, api in s["inquiry"]["api"].items():
            out[f"inquiry_p99_ratio_c{level}"] = div(api["p99_ms"], s["inquiry"]["raw_es"][level]["p99_ms"])
            out[f"inquiry_throughput_ratio_c{level}"] = div(
                api["throughput_rps"], s["inquiry"]["raw_es"][level]["throughput_rps"]
            )
    if "embedded" in s:
        e = s["embedded"]
        out["embedded_naive_like_vs_backend_p50_ratio"] = div(
            e["sqlite_naive_like"]["p50_ms"], e["sqlite_backend"]["p50_ms"]
        )
        out["embedded_backend_vs_elasticsearch_p50_ratio"] = div(
            e["sqlite_backend"]["p50_ms"], e["elasticsearch_backend"]["p50_ms"]
        )
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    only = set(args.only.split(",")) if args.only else set(ALL)
    config = StackConfig(
        api_workers=args.api_workers,
        arq_workers=args.arq_workers,
        pool_size=args.pool_size,
        index_batch_size=args.index_batch_size,
        uvicorn_flags=tuple(args.uvicorn_flags.split()) if args.uvicorn_flags else (),
        log_level=args.log_level,
    )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / "logs" / stamp
    result: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "label": args.label,
        "machine": machine(),
        "parameters": {k: v for k, v in vars(args).items()},
        "scenarios": {},
        "notes": [],
    }
    if args.transactions < args.requested_transactions:
        result["notes"].append(
            f"ran {args.transactions} transactions instead of {args.requested_transactions} to fit the time budget"
        )
    result["machine"].update(await service_versions(config))
    if args.reuse:
        log("reusing the existing bench database and index (no ingestion)")
    else:
        log(f"resetting database {config.database}, indices {config.index_prefix}*, redis db 14")
        await reset(config)
    stack = Stack(config, log_dir)
    await stack.start()
    log(f"API on {stack.base_url} (pids {stack.api_pids()}), arq workers {stack.worker_pids()}")
    profilers: list[Any] = []
    try:
        ctx = await scenarios.prepare(stack, config, args, log)
        s = result["scenarios"]
        if args.profile:
            profilers = scenarios.start_profilers(stack, log_dir, args.profile)
        if "ingest" in only and not args.reuse:
            s["ingest"] = await scenarios.ingest(ctx, log)
        docs: dict[int, dict[str, Any]] = {}
        if "raw" in only or "embedded" in only:
            docs = await scenarios.load_all_documents(ctx, log)
        if "raw" in only:
            s["raw"] = await scenarios.raw_bulk(ctx, docs, log)
        if "inquiry" in only:
            s["inquiry"] = await scenarios.inquiry(ctx, log)
        if "staff" in only:
            s["staff"] = await scenarios.staff(ctx, log)
        if "lag" in only:
            s["lag"] = await scenarios.lag(ctx, log)
        scenarios.stop_profilers(profilers)
        result["peak_rss"] = stack.peak_rss_mb()
        if "embedded" in only:
            s["embedded"] = await scenarios.embedded(ctx, docs, log)
        await ctx.close()
    finally:
        scenarios.stop_profilers(profilers)
        await stack.stop()
    result["ratios"] = ratios(result["scenarios"])
    result["finished_at"] = datetime.now(UTC).isoformat()
    result["machine"]["loadavg_at_end"] = os.getloadavg()
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{stamp}.json"
    path.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    print()
    print(f"Unified Inquiry benchmark — {args.transactions:,} transactions, {result['machine']['cpu_count']} CPUs")
    for note in result["notes"]:
        print(f"NOTE: {note}")
    print(table(result))
    print(f"\nresults: {path.relative_to(REPO)}")
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--transactions", type=int, default=30_000, help="demo transactions to ingest")
    p.add_argument(
        "--max-transactions",
        type=int,
        default=None,
        help="cap --transactions at this number (used by `make bench` to fit 10 minutes on small machines)",
    )
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ALL)}")
    p.add_argument("--reuse", action="store_true", help="skip reset and ingestion; benchmark the data already there")
    p.add_argument("--label", default="", help="free text stored in the JSON (e.g. 'before', 'after')")
    p.add_argument("--api-workers", type=int, default=1, help="uvicorn --workers")
    p.add_argument("--arq-workers", type=int, default=1, help="arq worker processes")
    p.add_argument("--pool-size", type=int, default=10, help="INQUIRY_DATABASE_POOL_SIZE")
    p.add_argument("--index-batch-size", type=int, default=500, help="INQUIRY_INDEX_BATCH_SIZE (outbox drain)")
    p.add_argument("--uvicorn-flags", default="--loop uvloop --http httptools")
    p.add_argument("--log-level", default="WARNING", help="INQUIRY_LOG_LEVEL of the API and worker")
    p.add_argument("--bulk-clients", type=int, default=4, help="concurrent HTTP bulk clients")
    p.add_argument("--bulk-window", type=int, default=50_000, help="deliveries grouped per agency into one window")
    p.add_argument("--bulk-max-items", type=int, default=1000, help="events per bulk request at most")
    p.add_argument("--raw-chunk", type=int, default=1000, help="documents per raw bulk request")
    p.add_argument("--raw-concurrency", type=int, default=2, help="raw bulk requests in flight")
    p.add_argument("--concurrency", default="1,16,64", help="inquiry concurrency levels")
    p.add_argument("--requests", type=int, default=2000, help="requests per inquiry level at most")
    p.add_argument("--seconds", type=float, default=15.0, help="seconds per load level at most")
    p.add_argument("--lag-events", type=int, default=100)
    p.add_argument("--lag-rate", type=float, default=10.0, help="single events per second in the lag scenario")
    p.add_argument("--embedded-transactions", type=int, default=100_000, help="rows copied into SQLite at most")
    p.add_argument(
        "--profile",
        default="",
        help="py-spy output format (speedscope|flamegraph|raw) over the HTTP scenarios that run (--only picks them)",
    )
    args = p.parse_args(argv)
    args.requested_transactions = args.transactions
    if args.max_transactions is not None:
        args.transactions = min(args.transactions, args.max_transactions)
    random.seed(args.seed)
    return args


if __name__ == "__main__":
    parsed = parse_args()
    out = asyncio.run(main(parsed))
    json.dumps(out, default=str)  # fail loudly if anything is not serializable
