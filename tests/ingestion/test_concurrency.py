"""Concurrent deliveries on real PostgreSQL: duplicates apply once, racing first events share one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import StatusEvent, Transaction, TransactionReference
from tests.fixtures.factories import make_event

KeyMaker = Callable[[str], Awaitable[str]]


async def count(factory: async_sessionmaker[AsyncSession], model: type) -> int:
    async with factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_concurrent_duplicates_apply_once(
    client: httpx.AsyncClient, agency_key: KeyMaker, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    key = await agency_key("MOHU")
    event = make_event()
    headers = {"Authorization": f"Bearer {key}"}
    responses = await asyncio.gather(*(client.post("/api/v1/events", json=event, headers=headers) for _ in range(12)))
    outcomes = sorted(r.json()["outcome"] for r in responses)
    assert outcomes == ["created"] + ["duplicate"] * 11
    assert {r.json()["tracking_number"] for r in responses} == {responses[0].json()["tracking_number"]}
    assert await count(session_factory, StatusEvent) == 1


async def test_racing_events_of_one_new_transaction_share_it(
    client: httpx.AsyncClient, agency_key: KeyMaker, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    key = await agency_key("MOHU")
    headers = {"Authorization": f"Bearer {key}"}
    events = [make_event(reference="1447/RACE", status_code=s) for s in ("received", "under_review", "approved")]
    bulks = [[e] for e in events] * 2  # each event twice, all at once
    responses = await asyncio.gather(*(client.post("/api/v1/events/bulk", json=b, headers=headers) for b in bulks))
    assert all(r.status_code == 200 for r in responses)
    assert await count(session_factory, Transaction) == 1
    assert await count(session_factory, TransactionReference) == 1
    assert await count(session_factory, StatusEvent) == 3
    async with session_factory() as session:
        transaction = await session.scalar(select(Transaction))
    assert transaction is not None and transaction.version == 3
