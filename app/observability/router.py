"""``/metrics`` for Prometheus; gauges that describe the database are read at scrape time."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from sqlalchemy import func, select

from app.deps import ResourcesDep
from app.models import DeadLetter, OutboxEntry
from app.observability.metrics import DEAD_LETTERS, OUTBOX_DEPTH, OUTBOX_OLDEST

router = APIRouter(tags=["operations"])


@router.get("/metrics", include_in_schema=False)
async def metrics(resources: ResourcesDep) -> Response:
    async with resources.session_factory() as session:
        pending, oldest = (await session.execute(select(func.count(), func.min(OutboxEntry.created_at)))).one()
        dead = await session.scalar(
            select(func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))
        )
    OUTBOX_DEPTH.set(pending)
    OUTBOX_OLDEST.set((datetime.now(UTC) - oldest).total_seconds() if oldest else 0)
    DEAD_LETTERS.set(dead or 0)
    if "PROMETHEUS_MULTIPROC_DIR" in os.environ:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
