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


async def test_a_referral_and_its_claim_racing_still_end_in_one_file(
    client: httpx.AsyncClient, agency_key: KeyMaker, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    """The sender's referral and the receiver's claim, committed at the same time, must still meet."""
    mohu = {"Authorization": f"Bearer {await agency_key('MOHU')}"}
    hcm = {"Authorization": f"Bearer {await agency_key('HCM')}"}
    pairs = 12
    for i in range(pairs):
        opened = make_event(reference=f"1447/RACE-{i}", status_code="received")
        assert (await client.post("/api/v1/events", json=opened, headers=mohu)).status_code == 201
    requests = []
    for i in range(pairs):
        referral = make_event(reference=f"1447/RACE-{i}", status_code="referred", to_agency="HCM")
        claim = make_event(
            reference=f"H-RACE-{i}", status_code="received", from_agency="MOHU", from_reference=f"1447/RACE-{i}"
        )
        requests.append(client.post("/api/v1/events/bulk", json=[referral], headers=mohu))
        requests.append(client.post("/api/v1/events/bulk", json=[claim], headers=hcm))
    responses = await asyncio.gather(*requests)
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses if r.status_code != 200]
    assert all(r.json()["items"][0]["outcome"] == "created" for r in responses)
    assert await count(session_factory, Transaction) == pairs
    assert await count(session_factory, TransactionReference) == 2 * pairs
