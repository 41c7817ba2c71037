"""Loading demo traffic through the ingestion service, plus demo users for the web UI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog
from app.demo.generator import Delivery, DemoGenerator
from app.ingestion.service import ingest_items


@dataclass(slots=True)
class DemoReport:
    events_sent: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def group_by_agency(window: list[Delivery]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Per-agency batches of a window, each in delivery order, agencies in order of first appearance."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for delivery in window:
        groups.setdefault(delivery.agency_code, []).append(delivery.event)
    return list(groups.items())


async def load_demo(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    catalog: Catalog,
    secret: str,
    transactions: int,
    seed: int = 2026,
    window: int = 20000,
    progress: Callable[[int], None] | None = None,
) -> DemoReport:
    """Send ``transactions`` demo transactions through ``ingest_items``, committing each agency batch."""
    generator = DemoGenerator(catalog, seed=seed)
    report = DemoReport()
    buffer: list[Delivery] = []

    async def flush() -> None:
        for agency_code, items in group_by_agency(buffer):
            async with session_factory() as session:
                summary = await ingest_items(
                    session, items=items, agency_code=agency_code, catalog=catalog, secret=secret, source="demo"
                )
                await session.commit()
            for result in summary.results:
                report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
        report.events_sent += len(buffer)
        if progress:
            progress(len(buffer))
        buffer.clear()

    for delivery in generator.deliveries(transactions):
        buffer.append(delivery)
        if len(buffer) >= window:
            await flush()
    if buffer:
        await flush()
    return report
