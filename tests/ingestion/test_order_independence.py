"""Any permutation and duplication of a transaction's events gives the same final state (real PostgreSQL)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.catalog.loader import get_catalog
from app.ingestion.service import ingest_items
from app.models import StatusEvent, Transaction, TransactionReference
from tests.fixtures.database import truncate_all
from tests.fixtures.services import TEST_SECRET

BASE = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
APPLICANT = {"national_id": "1000000008", "name": "سارة ناصر القرشي", "mobile": "+966551234567"}


def story() -> list[tuple[str, dict[str, Any]]]:
    """MOHU receives, reviews and refers to HCM; HCM receives, reviews, completes; a late reopen-free event."""
    at = [(BASE + timedelta(hours=h)).isoformat() for h in range(8)]
    return [
        (
            "MOHU",
            {
                "event_id": "m1",
                "reference": "1447/77",
                "status_code": "received",
                "occurred_at": at[0],
                "transaction_type": "crowd_event_permit",
                "title": "تصريح فعالية",
                "applicant": APPLICANT,
            },
        ),
        (
            "MOHU",
            {
                "event_id": "m2",
                "reference": "1447/77",
                "status_code": "under_review",
                "occurred_at": at[1],
                "note": {"text": "قيد الدراسة", "visibility": "public"},
            },
        ),
        (
            "MOHU",
            {
                "event_id": "m3",
                "reference": "1447/77",
                "status_code": "referred",
                "occurred_at": at[2],
                "to_agency": "HCM",
            },
        ),
        (
            "HCM",
            {
                "event_id": "h1",
                "reference": "H-1",
                "status_code": "received",
                "occurred_at": at[3],
                "from_agency": "MOHU",
                "from_reference": "1447/77",
            },
        ),
        ("HCM", {"event_id": "h2", "reference": "H-1", "status_code": "under_review", "occurred_at": at[4]}),
        ("HCM", {"event_id": "h3", "reference": "H-1", "status_code": "completed", "occurred_at": at[5]}),
        ("HCM", {"event_id": "h4", "reference": "H-1", "status_code": "under_review", "occurred_at": at[6]}),
    ]


def batches(deliveries: list[tuple[str, dict[str, Any]]], batched: bool) -> list[tuple[str, list[dict[str, Any]]]]:
    """One request per event, or consecutive events of one agency together (merges inside one batch)."""
    out: list[tuple[str, list[dict[str, Any]]]] = []
    for agency, event in deliveries:
        if batched and out and out[-1][0] == agency:
            out[-1][1].append(event)
        else:
            out.append((agency, [event]))
    return out


async def deliver(
    factory: async_sessionmaker[AsyncSession], deliveries: list[tuple[str, dict[str, Any]]], batched: bool = False
) -> None:
    catalog = get_catalog()
    for agency, items in batches(deliveries, batched):
        async with factory() as session:
            await ingest_items(session, items=items, agency_code=agency, catalog=catalog, secret=TEST_SECRET)
            await session.commit()


async def final_state(factory: async_sessionmaker[AsyncSession]) -> dict[str, Any]:
    async with factory() as session:
        transactions = (await session.scalars(select(Transaction))).all()
        assert len(transactions) == 1
        t = transactions[0]
        refs = sorted((r.agency_code, r.reference_key) for r in (await session.scalars(select(TransactionReference))))
        events = sorted((e.agency_code, e.event_id) for e in (await session.scalars(select(StatusEvent))))
        return {
            "status": t.status,
            "holder": t.holder_agency,
            "origin": t.origin_agency,
            "created": t.created_at,
            "completed": t.completed_at,
            "title": t.title,
            "type": t.transaction_type,
            "nid": t.national_id_hash,
            "search": t.search_text,
            "refs": refs,
            "events": events,
        }


def test_permutations_and_duplicates_converge(pg_engine: AsyncEngine) -> None:
    """Runs hypothesis outside the event loop; each example truncates and replays on PostgreSQL."""
    from app.db import create_session_factory

    loop = asyncio.new_event_loop()
    expected: dict[str, Any] = {}

    async def replay(order: list[int], dupes: list[int], batched: bool = False) -> dict[str, Any]:
        from app.db import create_engine
        from app.settings import Settings
        from tests.fixtures.services import PG_URL

        engine = create_engine(Settings(database_url=PG_URL))
        try:
            await truncate_all(engine)
            deliveries = story()
            sequence = [deliveries[i] for i in order] + [deliveries[i] for i in dupes]
            factory = create_session_factory(engine)
            await deliver(factory, sequence, batched)
            return await final_state(factory)
        finally:
            await engine.dispose()

    expected.update(loop.run_until_complete(replay(list(range(7)), [])))
    assert expected["status"] == "completed"
    assert expected["holder"] == "HCM"
    assert expected["origin"] == "MOHU"

    # Receiver first, in one batch: its own file, then the claim; the referral batch merges them.
    receiver_first = [3, 4, 5, 6, 0, 1, 2]
    assert [len(items) for _, items in batches([story()[i] for i in receiver_first], True)] == [4, 3]
    assert loop.run_until_complete(replay(receiver_first, [], batched=True)) == expected
    # Sender first; the receiver's batch opens its own file, then claims the handover: merged in the batch.
    own_file_then_claim = [0, 1, 2, 4, 3, 5, 6]
    assert loop.run_until_complete(replay(own_file_then_claim, [], batched=True)) == expected

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(order=st.permutations(list(range(7))), dupes=st.lists(st.integers(0, 6), max_size=4), batched=st.booleans())
    def check(order: list[int], dupes: list[int], batched: bool) -> None:
        assert loop.run_until_complete(replay(order, dupes, batched)) == expected

    try:
        check()
    finally:
        loop.close()
