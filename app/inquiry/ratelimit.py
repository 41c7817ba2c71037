"""Failed-verifier counters per client and per reference: Redis when configured, memory otherwise.

Limiting per reference (not only per address) is what stops a botnet from guessing one
transaction's verifier from many addresses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

WINDOW_S = 3600


class FailureCounter(Protocol):
    async def blocked_for(self, keys: list[str], limit: int) -> int:
        """Seconds until the first of ``keys`` is below ``limit`` again; 0 when none is blocked."""
        ...

    async def record_failure(self, keys: list[str]) -> None: ...


@dataclass
class MemoryCounter:
    """For the embedded mode (one process); counts reset after the window."""

    counts: dict[str, tuple[int, float]] = field(default_factory=dict)

    def _current(self, key: str) -> tuple[int, float]:
        count, expires = self.counts.get(key, (0, 0.0))
        if expires <= time.monotonic():
            return 0, 0.0
        return count, expires

    async def blocked_for(self, keys: list[str], limit: int) -> int:
        waits = [
            int(expires - time.monotonic()) + 1 for count, expires in (self._current(k) for k in keys) if count >= limit
        ]
        return max(waits, default=0)

    async def record_failure(self, keys: list[str]) -> None:
        for key in keys:
            count, expires = self._current(key)
            self.counts[key] = (count + 1, expires or time.monotonic() + WINDOW_S)


@dataclass
class RedisCounter:
    """Shared by every API process: INCR with an expiry set on the first failure."""

    redis: Any

    async def blocked_for(self, keys: list[str], limit: int) -> int:
        values = await self.redis.mget(keys)
        waits = []
        for key, value in zip(keys, values, strict=True):
            if value is not None and int(value) >= limit:
                ttl = await self.redis.ttl(key)
                waits.append(max(int(ttl), 1))
        return max(waits, default=0)

    async def record_failure(self, keys: list[str]) -> None:
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.incr(key)
            pipe.expire(key, WINDOW_S, nx=True)
        await pipe.execute()


def failure_keys(*, client: str, reference_key: str) -> list[str]:
    return [f"inquiry:fail:client:{client}", f"inquiry:fail:ref:{reference_key}"]
