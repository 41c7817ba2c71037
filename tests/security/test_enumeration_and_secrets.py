"""Public inquiry gives an enumerator nothing; revoked credentials fail at once; secrets never reach logs.

The per-reference lockout across client addresses is tested in tests/inquiry; here the lockout
is lifted (a high ``inquiry_failures_per_hour``) so that hundreds of failures can be timed.
"""

from __future__ import annotations

import json
import logging
import statistics
import time
from collections.abc import Awaitable, Callable

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.auth.service import create_api_key, deactivate_user, revoke_api_key
from app.settings import Settings
from tests.fixtures.factories import make_event

SAMPLES = 500
CLIENT_LOGGERS = ("httpx", "httpcore")


@pytest.fixture
def app_settings(pg_settings: Settings) -> Settings:
    return pg_settings.model_copy(update={"inquiry_failures_per_hour": 1_000_000})


async def test_unknown_reference_and_wrong_verifier_look_the_same(
    client: httpx.AsyncClient, agency_key: Callable[[str], Awaitable[str]]
) -> None:
    """Same status, same bytes, and close medians over 500 samples each (reported; loose bound)."""
    key = await agency_key("HCM")
    created = await client.post(
        "/api/v1/events", json=make_event(reference="TIMING-1"), headers={"Authorization": f"Bearer {key}"}
    )
    tracking = created.json()["tracking_number"]
    cases = {
        "wrong_verifier": {"reference": tracking, "verifier": "1234"},
        "unknown_reference": {"reference": "MK-2026-ZZZZZZ-0", "verifier": "1234"},
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    bodies: dict[str, set[tuple[int, bytes]]] = {name: set() for name in cases}
    for _ in range(10):  # warm-up
        for body in cases.values():
            await client.post("/api/v1/inquiry", json=body)
    for _ in range(SAMPLES):  # interleaved, so drift (GC, other load) hits both alike
        for name, body in cases.items():
            started = time.perf_counter()
            response = await client.post("/api/v1/inquiry", json=body)
            times[name].append((time.perf_counter() - started) * 1000)
            bodies[name].add((response.status_code, response.content))
    assert bodies["wrong_verifier"] == bodies["unknown_reference"]
    assert len(bodies["wrong_verifier"]) == 1 and next(iter(bodies["wrong_verifier"]))[0] == 404
    medians = {name: statistics.median(t) for name, t in times.items()}
    diff = abs(medians["wrong_verifier"] - medians["unknown_reference"])
    ratio = max(medians.values()) / min(medians.values())
    print(
        f"\ninquiry timing over {SAMPLES} samples each: "
        + ", ".join(f"{n} median {m:.2f} ms" for n, m in medians.items())
        + f"; |diff| {diff:.2f} ms, ratio {ratio:.2f}"
    )
    assert diff < 5 or ratio < 1.5, medians


async def test_revoked_key_and_deactivated_user_fail_at_once(
    client: httpx.AsyncClient,
    session_factory: async_sessionmaker[AsyncSession],
    staff_token: Callable[..., Awaitable[str]],
) -> None:
    """No cache keeps a revoked credential alive: the very next request is a 401."""
    async with session_factory() as session:
        api_key, plaintext = await create_api_key(session, agency_code="HCM")
        await session.commit()
    auth = {"Authorization": f"Bearer {plaintext}"}
    assert (await client.post("/api/v1/events", json=make_event(), headers=auth)).status_code == 201
    async with session_factory() as session:
        await revoke_api_key(session, key_id=api_key.key_id)
        await session.commit()
    assert (await client.post("/api/v1/events", json=make_event(), headers=auth)).status_code == 401
    assert (await client.post("/api/v1/events/bulk", json=[make_event()], headers=auth)).status_code == 401

    token = await staff_token("staff", "HCM", username="leaver")
    staff = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v1/staff/search", headers=staff)).status_code == 200
    async with session_factory() as session:
        await deactivate_user(session, username="leaver")
        await session.commit()
    assert (await client.get("/api/v1/staff/search", headers=staff)).status_code == 401
    client.cookies.set("ui_token", token)
    page = await client.get("/staff")
    client.cookies.clear()
    assert page.status_code == 401 and 'name="token"' in page.text


async def test_keys_and_tokens_never_reach_the_logs(
    client: httpx.AsyncClient,
    agency_key: Callable[[str], Awaitable[str]],
    staff_token: Callable[..., Awaitable[str]],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A run that uses, misuses and mistypes credentials logs none of them (records and stderr)."""
    caplog.set_level(logging.DEBUG)
    key = await agency_key("HCM")
    token = await staff_token("call_center")
    secrets = [key, token, key.split("_", 2)[-1], token.split("_", 2)[-1]]
    wrong_secret = key[:-4] + "XXXX"
    auth = {"Authorization": f"Bearer {key}"}
    await client.post("/api/v1/events", json=make_event(), headers=auth)
    await client.post("/api/v1/events/bulk", json=[make_event(), {"event_id": "bad"}], headers=auth)
    await client.post("/api/v1/events", json=make_event(), headers={"Authorization": f"Bearer {wrong_secret}"})
    await client.get("/api/v1/staff/search", headers={"Authorization": f"Bearer {token}"})
    await client.get(f"/api/v1/staff/search?token={token}", headers={"Authorization": f"Bearer {token}"})
    await client.get("/api/v1/staff/search", headers={"Authorization": f"Bearer {token}x"})
    await client.get("/api/v1/dashboard", headers={"Authorization": f"Basic {key}"})
    await client.post("/staff/signin", data={"token": token, "next": "/callcenter"})
    await client.post("/staff/signin", data={"token": wrong_secret})
    client.cookies.clear()
    # the test's own HTTP client logs its URLs; only the server's logs are under test
    records = [r for r in caplog.records if not r.name.startswith(CLIENT_LOGGERS)]
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in records)
    out, err = capfd.readouterr()
    printed = "\n".join(line for line in (out + err).splitlines() if not _from_client(line))
    assert any(r.name == "inquiry.access" for r in records), "the server must have logged for this to mean anything"
    for secret in [*secrets, wrong_secret]:
        assert secret not in logged
        assert secret not in printed


def _from_client(line: str) -> bool:
    try:
        return str(json.loads(line).get("logger", "")).startswith(CLIENT_LOGGERS)
    except (ValueError, AttributeError):
        return False
