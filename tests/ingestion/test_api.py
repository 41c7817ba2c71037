"""Ingestion over HTTP against real PostgreSQL: acknowledgements, per-item errors, auth, formats."""

from __future__ import annotations

import gzip
from collections.abc import Awaitable, Callable

import httpx
import orjson
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.models import IngestIssue, OutboxEntry, StatusEvent, Transaction, TransactionReference
from tests.fixtures.factories import make_event

KeyMaker = Callable[[str], Awaitable[str]]


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def count(session_factory: async_sessionmaker[AsyncSession], model: type) -> int:
    async with session_factory() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_single_event_is_stored_once_and_queued(
    client: httpx.AsyncClient, agency_key: KeyMaker, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    key = await agency_key("MOHU")
    event = make_event()
    first = await client.post("/api/v1/events", json=event, headers=auth(key))
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["outcome"] == "created"
    assert body["tracking_number"].startswith("MK-")
    again = await client.post("/api/v1/events", json=event, headers=auth(key))
    assert again.status_code == 200
    assert again.json()["outcome"] == "duplicate"
    assert again.json()["tracking_number"] == body["tracking_number"]
    assert await count(session_factory, StatusEvent) == 1
    assert await count(session_factory, OutboxEntry) >= 1


async def test_same_event_id_with_other_content_is_a_conflict(client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    key = await agency_key("MOHU")
    event = make_event()
    assert (await client.post("/api/v1/events", json=event, headers=auth(key))).status_code == 201
    changed = {**event, "status_code": "approved"}
    response = await client.post("/api/v1/events", json=changed, headers=auth(key))
    assert response.status_code == 409
    assert response.json()["error"] == "conflict"
    assert response.json()["detail"]["field"] == "event_id"


async def test_bulk_answers_each_item_in_order(
    client: httpx.AsyncClient, agency_key: KeyMaker, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    key = await agency_key("MOHU")
    good = make_event()
    items = [
        good,
        make_event(status_code="no-such-code"),
        make_event(applicant={"national_id": "1000000000"}),
        good,
        make_event(agency="HCM"),
        make_event(occurred_at="2999-01-01T00:00:00+03:00"),
        make_event(),
    ]
    response = await client.post("/api/v1/events/bulk", json=items, headers=auth(key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["errors"] is True
    outcomes = [(i["index"], i["outcome"], i.get("error"), i.get("field")) for i in body["items"]]
    assert outcomes == [
        (0, "created", None, None),
        (1, "error", "unknown_status", "status_code"),
        (2, "error", "invalid_national_id", "applicant.national_id"),
        (3, "duplicate", None, None),
        (4, "error", "forbidden_agency", "agency"),
        (5, "error", "date_in_future", "occurred_at"),
        (6, "created", None, None),
    ]
    assert "RECEIVED" in body["items"][1]["known_codes"] or "received" in body["items"][1]["known_codes"]
    assert await count(session_factory, StatusEvent) == 2
    async with session_factory() as session:
        kinds = (await session.scalars(select(IngestIssue.error_code))).all()
    assert sorted(kinds) == sorted(["unknown_status", "invalid_national_id", "", "forbidden_agency", "date_in_future"])


async def test_ndjson_gzip_and_cloudevents(client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    key = await agency_key("MOHU")
    lines = b"\n".join(orjson.dumps(make_event()) for _ in range(3))
    response = await client.post(
        "/api/v1/events/bulk",
        content=gzip.compress(lines),
        headers={**auth(key), "Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 200, response.text
    assert [i["outcome"] for i in response.json()["items"]] == ["created"] * 3

    data = make_event()
    envelope = {
        "specversion": "1.0",
        "id": data.pop("event_id"),
        "source": "/agencies/MOHU",
        "type": "sa.gov.makkah.inquiry.status",
        "time": data.pop("occurred_at"),
        "sequence": "7",
        "data": data,
    }
    single = await client.post(
        "/api/v1/events",
        content=orjson.dumps(envelope),
        headers={**auth(key), "Content-Type": "application/cloudevents+json"},
    )
    assert single.status_code == 201, single.text
    foreign = {**envelope, "id": "other", "source": "/agencies/HCM"}
    batch = await client.post(
        "/api/v1/events/bulk",
        content=orjson.dumps([foreign]),
        headers={**auth(key), "Content-Type": "application/cloudevents-batch+json"},
    )
    assert batch.json()["items"][0]["error"] == "forbidden_agency"


async def test_authentication_and_revocation(client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    assert (await client.post("/api/v1/events", json=make_event())).status_code == 401
    bad = await client.post("/api/v1/events", json=make_event(), headers=auth("uiak_nope_nope"))
    assert bad.status_code == 401
    assert bad.json()["error"] == "unauthorized"
    key = await agency_key("MOHU")
    key_id = key.split("_")[1]
    assert (await client.post("/api/v1/events", json=make_event(), headers=auth(key))).status_code == 201
    from app.auth.service import revoke_api_key

    session_factory = client._transport.app.state.resources.session_factory  # type: ignore[attr-defined]
    async with session_factory() as session:
        await revoke_api_key(session, key_id=key_id)
        await session.commit()
    assert (await client.post("/api/v1/events", json=make_event(), headers=auth(key))).status_code == 401


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 422),
        (b"\xff\xfe\x00", "application/json", 422),
        (b"[]", "application/json", 422),
        (
            orjson.dumps({"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": {"j": 1}}}}}}}}}}),
            "application/json",
            422,
        ),
    ],
)
async def test_malformed_bodies_are_clear_4xx(
    client: httpx.AsyncClient, agency_key: KeyMaker, body: bytes, content_type: str, status: int
) -> None:
    key = await agency_key("MOHU")
    response = await client.post(
        "/api/v1/events/bulk", content=body, headers={**auth(key), "Content-Type": content_type}
    )
    assert response.status_code == status
    assert response.json()["error"] == "invalid"


async def test_limits_are_413(client: httpx.AsyncClient, agency_key: KeyMaker, app: object) -> None:
    key = await agency_key("MOHU")
    settings = client._transport.app.state.resources.settings  # type: ignore[attr-defined]
    too_many = [make_event() for _ in range(settings.max_bulk_items + 1)]
    response = await client.post("/api/v1/events/bulk", json=too_many, headers=auth(key))
    assert response.status_code == 413
    huge = b"[" + b" " * (settings.max_body_bytes + 10) + b"]"
    response = await client.post(
        "/api/v1/events/bulk", content=huge, headers={**auth(key), "Content-Type": "application/json"}
    )
    assert response.status_code == 413
    bomb = gzip.compress(b"[" + b" " * (settings.max_body_bytes * 2) + b"]")
    response = await client.post(
        "/api/v1/events/bulk",
        content=bomb,
        headers={**auth(key), "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert response.status_code == 413


async def test_field_length_is_checked_after_normalization(client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    key = await agency_key("MOHU")
    long_title = "ب" * 600
    response = await client.post("/api/v1/events", json=make_event(title=long_title), headers=auth(key))
    assert response.status_code == 422
    assert response.json()["detail"]["field"] == "title"
    padded = "  طلب\u200b  رخصة\u202e  " + "\u200c" * 900
    ok = await client.post("/api/v1/events", json=make_event(title=padded), headers=auth(key))
    assert ok.status_code == 201, ok.text


async def test_handover_links_both_agencies_references(
    client: httpx.AsyncClient, agency_key: KeyMaker, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    mohu, hcm = await agency_key("MOHU"), await agency_key("HCM")
    sent = make_event(reference="١٤٤٧/٥٥", status_code="referred", to_agency="HCM")
    first = await client.post("/api/v1/events", json=sent, headers=auth(mohu))
    received = make_event(
        reference="HCM-9", status_code="received", from_agency="MOHU", from_reference="1447-55", applicant=None
    )
    second = await client.post("/api/v1/events", json=received, headers=auth(hcm))
    assert first.json()["tracking_number"] == second.json()["tracking_number"]
    async with session_factory() as session:
        transaction = await session.scalar(select(Transaction))
        assert transaction is not None
        assert transaction.holder_agency == "HCM"
        assert transaction.origin_agency == "MOHU"
        refs = (await session.scalars(select(TransactionReference.reference_key))).all()
    assert sorted(refs) == ["1447/55".replace("/", ""), "HCM9"]


async def test_database_down_is_503_never_2xx(agency_key: KeyMaker, pg_settings: object, db_engine: object) -> None:
    from app.main import create_app

    key = await agency_key("MOHU")
    broken = pg_settings.model_copy(  # type: ignore[attr-defined]
        update={"database_url": "postgresql+asyncpg://inquiry:inquiry@127.0.0.1:1/inquiry_test"}
    )
    application = create_app(broken)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.post("/api/v1/events", json=make_event(), headers=auth(key))
    assert response.status_code == 503
    assert response.headers["Retry-After"]
    assert response.json()["error"] == "database_unavailable"


async def test_a_claimed_handover_joins_the_senders_file_only_once_the_sender_referred_it(
    client: httpx.AsyncClient,
    agency_key: KeyMaker,
    staff_token: Callable[..., Awaitable[str]],
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    mohu, hcm = await agency_key("MOHU"), await agency_key("HCM")
    first = await client.post("/api/v1/events", json=make_event(reference="M-1"), headers=auth(mohu))
    mohu_tracking = first.json()["tracking_number"]
    # HCM claims to have received MOHU's file, but MOHU never referred it: HCM gets a file of its own.
    claim = make_event(reference="H-1", from_agency="MOHU", from_reference="M-1", applicant=None)
    claimed = await client.post("/api/v1/events", json=claim, headers=auth(hcm))
    assert claimed.status_code == 201
    assert claimed.json()["tracking_number"] != mohu_tracking
    hcm_staff = {"Authorization": f"Bearer {await staff_token('staff', 'HCM')}"}
    assert (await client.get(f"/api/v1/staff/transactions/{mohu_tracking}", headers=hcm_staff)).status_code == 404
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Transaction)) == 2
    # MOHU's referral confirms it: the two become one file, which HCM's staff now see.
    referral = make_event(reference="M-1", status_code="referred", to_agency="HCM", applicant=None)
    assert (await client.post("/api/v1/events", json=referral, headers=auth(mohu))).status_code == 201
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(Transaction)) == 1
        transaction = await session.scalar(select(Transaction))
        assert transaction is not None and transaction.tracking_number == mohu_tracking
        refs = sorted((await session.scalars(select(TransactionReference.reference_key))).all())
    assert refs == ["H1", "M1"]
    assert (await client.get(f"/api/v1/staff/transactions/{mohu_tracking}", headers=hcm_staff)).status_code == 200
