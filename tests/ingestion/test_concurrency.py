"""Concurrent deliveries on real PostgreSQL: duplicates apply once, racing first events share one transaction."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog import get_catalog
from app.ingestion.handover import _lock_id, handover_keys, lock_handovers
from app.ingestion.schemas import ItemResult
from app.ingestion.service import IngestSummary, _apply_one_by_one
from app.ingestion.validation import NormalizedEvent, validate_event
from app.models import StatusEvent, Transaction, TransactionReference
from tests.fixtures.factories import make_event
from tests.fixtures.services import TEST_SECRET

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


def _referrals_in_reverse_lock_order() -> tuple[NormalizedEvent, NormalizedEvent]:
    """Two MOHU referrals whose handover locks sort the other way round from their delivery order."""
    catalog = get_catalog()
    first, second = (
        validate_event(
            make_event(reference=f"1447/LOCK-{name}", status_code="referred", to_agency="HCM"),
            agency_code="MOHU",
            catalog=catalog,
            secret=TEST_SECRET,
        )
        for name in ("A", "B")
    )
    (first_key,), (second_key,) = handover_keys([first]), handover_keys([second])
    return (first, second) if _lock_id(*first_key) > _lock_id(*second_key) else (second, first)


async def test_an_item_by_item_replay_takes_its_handover_locks_in_sorted_order(
    session_factory: async_sessionmaker[AsyncSession], agency_key: KeyMaker
) -> None:
    """A replay must not hold a later lock while it waits for an earlier one: another batch that locks
    in sorted order (as the fast path does) would wait on it in turn, and PostgreSQL would report a
    deadlock that no retry undoes (seen once in the 1M benchmark as a 500)."""
    await agency_key("MOHU")
    delivered_first, delivered_second = _referrals_in_reverse_lock_order()
    summary = IngestSummary(results=[ItemResult(index=i, outcome="error") for i in range(2)])

    async def replay() -> None:
        async with session_factory() as session, session.begin():
            await _apply_one_by_one(
                session, [(0, delivered_first), (1, delivered_second)], summary, source="api", catalog=get_catalog()
            )

    async with session_factory() as other, other.begin():
        await lock_handovers(other, handover_keys([delivered_second]))  # the lower lock, held by another batch
        replaying = asyncio.create_task(replay())
        await asyncio.sleep(0.5)
        assert not replaying.done()
        # The other batch goes on to the higher lock, in sorted order: it must not wait for the replay.
        await asyncio.wait_for(lock_handovers(other, handover_keys([delivered_first])), timeout=5)
    await asyncio.wait_for(replaying, timeout=30)
    assert [r.outcome for r in summary.results] == ["created", "created"]
    assert await count(session_factory, StatusEvent) == 2
