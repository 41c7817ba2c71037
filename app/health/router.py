"""``/healthz`` says the process is alive; ``/readyz`` checks every configured dependency."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text

from app.deps import ResourcesDep
from app.models import OutboxEntry
from app.resources import Resources

router = APIRouter(tags=["health"])
CHECK_TIMEOUT_S = 3.0


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _database(resources: Resources) -> dict[str, Any]:
    async with resources.session_factory() as session:
        await session.execute(text("SELECT 1"))
        pending, oldest = (await session.execute(select(func.count(), func.min(OutboxEntry.created_at)))).one()
    lag = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    if oldest is not None and oldest.tzinfo is None:
        lag = (datetime.now(UTC) - oldest.replace(tzinfo=UTC)).total_seconds()
    return {"status": "up", "outbox_pending": pending, "outbox_oldest_age_s": round(lag, 3)}


async def _elasticsearch(resources: Resources) -> dict[str, Any]:
    health = await resources.elasticsearch.cluster.health()
    status = health["status"]
    return {"status": "up" if status in ("yellow", "green") else "down", "cluster": status}


async def _redis(resources: Resources) -> dict[str, Any]:
    await resources.redis.ping()
    return {"status": "up"}


async def _check(name: str, probe: Any, resources: Resources) -> tuple[str, dict[str, Any]]:
    try:
        return name, await asyncio.wait_for(probe(resources), CHECK_TIMEOUT_S)
    except Exception as exc:
        return name, {"status": "down", "error": type(exc).__name__}


@router.get("/readyz", summary="Every configured dependency answers", responses={503: {"description": "one is down"}})
async def readyz(resources: ResourcesDep) -> JSONResponse:
    probes: list[tuple[str, Any]] = [("database", _database)]
    if resources.elasticsearch is not None:
        probes.append(("elasticsearch", _elasticsearch))
    if resources.redis is not None:
        probes.append(("redis", _redis))
    checks = dict(await asyncio.gather(*(_check(name, probe, resources) for name, probe in probes)))
    ready = all(c["status"] == "up" for c in checks.values())
    return JSONResponse(
        status_code=200 if ready else 503,
        content={
            "status": "ready" if ready else "unavailable",
            "search_backend": resources.settings.effective_search_backend,
            "checks": checks,
        },
    )
