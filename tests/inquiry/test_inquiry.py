"""Citizen inquiry against real PostgreSQL (and Redis for the shared lockout)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.db import IDLE_BEFORE_PING_S
from app.main import create_app
from app.models import TransactionView
from app.settings import Settings
from tests.fixtures.factories import make_event
from tests.fixtures.services import REDIS_URL

KeyMaker = Callable[[str], Awaitable[str]]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def seed(client: httpx.AsyncClient, agency_key: KeyMaker) -> str:
    """MOHU receives and refers to HCM with an internal note; HCM receives. Returns the tracking number."""
    mohu, hcm = await agency_key("MOHU"), await agency_key("HCM")
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)  # a Sunday
    first = await client.post(
        "/api/v1/events",
        json=make_event(reference="1447/٩٩٨", occurred_at=start.isoformat(), transaction_type="building_permit"),
        headers=auth(mohu),
    )
    tracking = first.json()["tracking_number"]
    await client.post(
        "/api/v1/events",
        json=make_event(
            reference="1447/998",
            status_code="referred",
            to_agency="HCM",
            occurred_at=(start + timedelta(days=2)).isoformat(),
            note={"text": "سري: ملاحظة داخلية", "visibility": "internal"},
        ),
        headers=auth(mohu),
    )
    await client.post(
        "/api/v1/events",
        json=make_event(
            reference="HCM/55",
            status_code="received",
            from_agency="MOHU",
            from_reference="1447/998",
            occurred_at=(start + timedelta(days=3)).isoformat(),
            note={"text": "تم الاستلام في الأمانة", "visibility": "public"},
        ),
        headers=auth(hcm),
    )
    return str(tracking)


async def ask(client: httpx.AsyncClient, reference: str, verifier: str, ip: str | None = None) -> httpx.Response:
    headers = {"X-Test-Client": ip} if ip else {}
    return await client.post("/api/v1/inquiry", json={"reference": reference, "verifier": verifier}, headers=headers)


async def test_lookup_by_tracking_number_and_any_reference(client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    tracking = await seed(client, agency_key)
    for reference, verifier in [
        (tracking, "0008"),
        (tracking.lower().replace("-", " "), "٠٠٠٨"),
        ("١٤٤٧-٩٩٨", "0551234567"),
        ("hcm 55", "+966 55 123 4567"),
        ("HCM/55", "٠٥٥١٢٣٤٥٦٧"),
    ]:
        response = await ask(client, reference, verifier)
        assert response.status_code == 200, (reference, response.text)
        assert response.json()["tracking_number"] == tracking


async def test_answer_content(client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    tracking = await seed(client, agency_key)
    body = (await ask(client, tracking, "0008")).json()
    assert body["status"] == {"code": "received", "ar": "مستلمة لدى الجهة", "en": "Received by the agency"}
    assert body["holder"]["code"] == "HCM"
    assert body["next_step_ar"] and body["next_step_en"]
    assert [e["agency"]["code"] for e in body["timeline"]] == ["MOHU", "MOHU", "HCM"]
    assert [e["status"]["code"] for e in body["timeline"]] == ["received", "referred", "received"]
    assert body["timeline"][0]["date_hijri"].startswith("1448-05")
    notes = [e.get("note") for e in body["timeline"]]
    assert "تم الاستلام في الأمانة" in notes
    assert not any(n and "داخلية" in n for n in notes), "internal notes must never reach the public"
    per_agency = {t["agency"]["code"]: t["days"] for t in body["time_per_agency"]}
    assert per_agency["MOHU"] == pytest.approx(2.0, abs=0.01)
    assert per_agency["HCM"] > 0
    # building_permit: 15 working days from Sunday 2026-11-01, Friday/Saturday off.
    assert body["expected_completion"] == "2026-11-22"
    assert body["overdue"] is (date.today() > date(2026, 11, 22))
    assert "1000000008" not in str(body) and "0551234567" not in str(body)


async def test_unknown_and_wrong_verifier_are_identical(client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    tracking = await seed(client, agency_key)
    wrong = await ask(client, tracking, "1234")
    unknown = await ask(client, "MK-2026-000000-0", "0008")
    nonsense = await ask(client, "no such ref", "0551234567")
    assert wrong.status_code == unknown.status_code == nonsense.status_code == 404
    assert wrong.content == unknown.content == nonsense.content


async def test_access_transparency_lists_agency_views(
    client: httpx.AsyncClient, agency_key: KeyMaker, session_factory: object
) -> None:
    tracking = await seed(client, agency_key)
    body = (await ask(client, tracking, "0008")).json()
    assert body["accessed_by"] == []
    from sqlalchemy import select

    from app.models import Transaction

    async with session_factory() as session:  # type: ignore[operator]
        transaction_id = await session.scalar(select(Transaction.id))
        session.add(TransactionView(transaction_id=transaction_id, agency_code="HCM", role="staff"))
        await session.commit()
    body = (await ask(client, tracking, "0008")).json()
    assert [(v["agency"]["code"], v["role"]) for v in body["accessed_by"]] == [("HCM", "staff")]


async def _lockout(client_for: Callable[[str], httpx.AsyncClient], tracking: str) -> None:
    for n in range(5):
        response = await client_for(f"198.51.100.{n}").post(
            "/api/v1/inquiry", json={"reference": tracking, "verifier": f"{n:04d}"}
        )
        assert response.status_code == 404
    blocked = await client_for("198.51.100.200").post(
        "/api/v1/inquiry", json={"reference": tracking, "verifier": "0008"}
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["Retry-After"]) > 0
    other = await client_for("198.51.100.201").post(
        "/api/v1/inquiry", json={"reference": "MK-2026-000000-0", "verifier": "0008"}
    )
    assert other.status_code == 404, "another reference from a fresh address is not locked"


def _clients(app: FastAPI) -> Callable[[str], httpx.AsyncClient]:
    def make(ip: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(ip, 5000)), base_url="http://t")

    return make


async def test_per_reference_lockout_in_memory(app: FastAPI, client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    tracking = await seed(client, agency_key)
    await _lockout(_clients(app), tracking)


async def test_per_reference_lockout_in_redis_is_shared(
    pg_settings: Settings, client: httpx.AsyncClient, agency_key: KeyMaker
) -> None:
    tracking = await seed(client, agency_key)
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    settings = pg_settings.model_copy(update={"redis_url": REDIS_URL})
    first, second = create_app(settings), create_app(settings)
    async with first.router.lifespan_context(first), second.router.lifespan_context(second):
        apps = [first, second]
        counter = iter(range(100))

        def alternate(ip: str) -> httpx.AsyncClient:
            return _clients(apps[next(counter) % 2])(ip)

        await _lockout(alternate, tracking)
    assert await redis.keys("inquiry:fail:ref:*")
    await redis.flushdb()
    await redis.aclose()


async def _drop_other_connections(engine: AsyncEngine) -> int:
    """What a database restart or failover does to every pooled connection but this one."""
    async with engine.connect() as conn:
        dropped = await conn.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    return int(dropped or 0)


async def test_inquiry_after_the_database_dropped_its_connections(
    client: httpx.AsyncClient, agency_key: KeyMaker, db_engine: AsyncEngine
) -> None:
    """Dropped pooled connections cost at most one 503 under load, none after an idle spell, never a 500."""
    tracking = await seed(client, agency_key)
    assert (await ask(client, tracking, "0008")).status_code == 200

    assert await _drop_other_connections(db_engine) >= 1
    right_after = await ask(client, tracking, "0008")
    assert right_after.status_code in (200, 503), right_after.text
    assert (await ask(client, tracking, "0008")).status_code == 200

    assert await _drop_other_connections(db_engine) >= 1
    await asyncio.sleep(IDLE_BEFORE_PING_S + 0.2)
    after_idle = await ask(client, tracking, "0008")
    assert after_idle.status_code == 200, after_idle.text
