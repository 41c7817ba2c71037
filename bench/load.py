"""Load-generation helpers: bounded closed-loop clients and latency statistics."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of already sorted values (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def summarize(latencies_s: list[float], elapsed_s: float, errors: int = 0) -> dict[str, Any]:
    values = sorted(latencies_s)
    ms = [v * 1000 for v in values]
    return {
        "requests": len(values),
        "errors": errors,
        "elapsed_s": round(elapsed_s, 3),
        "throughput_rps": round(len(values) / elapsed_s, 1) if elapsed_s > 0 else None,
        "p50_ms": round(percentile(ms, 50), 2) if ms else None,
        "p95_ms": round(percentile(ms, 95), 2) if ms else None,
        "p99_ms": round(percentile(ms, 99), 2) if ms else None,
        "mean_ms": round(sum(ms) / len(ms), 2) if ms else None,
        "max_ms": round(ms[-1], 2) if ms else None,
    }


async def closed_loop(
    call: Callable[[int], Awaitable[bool]],
    *,
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    warmup: int = 0,
) -> dict[str, Any]:
    """``concurrency`` clients call ``call(i)`` back to back until ``max_requests`` or ``max_seconds``.

    ``call`` returns True on success; failures are counted (and their latency is not recorded).
    The first ``warmup`` calls (made before the clock starts, ``concurrency`` at a time, so every
    client's connection is open) are not measured: the figures are steady state, not connection setup.
    """
    for start in range(0, warmup, concurrency):
        await asyncio.gather(*(call(i) for i in range(start, min(warmup, start + concurrency))), return_exceptions=True)
    latencies: list[float] = []
    errors = 0
    counter = 0
    started = time.perf_counter()
    deadline = started + max_seconds

    async def client() -> None:
        nonlocal counter, errors
        while True:
            if counter >= max_requests or time.perf_counter() >= deadline:
                return
            i = counter
            counter += 1
            t0 = time.perf_counter()
            try:
                ok = await call(warmup + i)
            except Exception:
                ok = False
            if ok:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return summarize(latencies, time.perf_counter() - started, errors)
