"""A live server (uvicorn in a thread) on a per-run PostgreSQL database, seeded through the HTTP API,
and a real Chromium driven by Playwright. One server per module keeps the browser tests fast."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.service import create_api_key, create_user, issue_token
from app.db import create_session_factory
from app.main import create_app
from app.settings import REPO_ROOT, Settings
from tests.fixtures.database import truncate_all
from tests.fixtures.factories import make_event
from tests.fixtures.services import PG_URL, TEST_SECRET

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "artifacts" / "screenshots"
TITLE = "طلب رخصة بناء سكني في حي العزيزية"


@dataclass
class LiveSite:
    base_url: str
    tracking: str
    """MOHU received it, referred it to HCM, HCM holds it (applicant 1000000008 / 0551234567)."""
    tokens: dict[str, str]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _tokens(engine: AsyncEngine) -> dict[str, str]:
    out = {}
    async with create_session_factory(engine)() as session:
        for name, role, agency in [
            ("ui-staff-hcm", "staff", "HCM"),
            ("ui-agent", "call_center", None),
            ("ui-manager-hcm", "manager", "HCM"),
        ]:
            await create_user(session, username=name, role=role, agency_code=agency)
            _, out[role] = await issue_token(session, username=name, ttl_hours=1)
        _, out["key:MOHU"] = await create_api_key(session, agency_code="MOHU")
        _, out["key:HCM"] = await create_api_key(session, agency_code="HCM")
        await session.commit()
    return out


async def _seed(base_url: str, keys: dict[str, str]) -> str:
    """A referred transaction plus a handful of HCM files with distinct words, through the real API."""
    start = datetime.now(UTC) - timedelta(days=10)
    mohu = {"Authorization": f"Bearer {keys['key:MOHU']}"}
    hcm = {"Authorization": f"Bearer {keys['key:HCM']}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:

        async def post(event: dict[str, Any], headers: dict[str, str]) -> dict[str, Any]:
            response = await client.post("/api/v1/events", json=event, headers=headers)
            assert response.status_code < 300, response.text
            body: dict[str, Any] = response.json()
            return body

        first = await post(make_event(reference="1447/998", title=TITLE, occurred_at=start.isoformat()), mohu)
        await post(
            make_event(
                reference="1447/998",
                status_code="referred",
                to_agency="HCM",
                occurred_at=(start + timedelta(days=2)).isoformat(),
            ),
            mohu,
        )
        await post(
            make_event(
                reference="HCM/55",
                status_code="under_review",
                from_agency="MOHU",
                from_reference="1447/998",
                occurred_at=(start + timedelta(days=3)).isoformat(),
                note={"text": "تم الاستلام في الأمانة وجارٍ الكشف على الموقع", "visibility": "public"},
            ),
            hcm,
        )
        others = [
            ("شكوى تسرب مياه في حي الشوقية", "received", None),
            ("طلب ترخيص محل تجاري في العوالي", "under_review", "commercial_license"),
            ("طلب رخصة هدم مبنى قديم", "completed", "demolition_permit"),
            ("طلب رخصة بناء ملحق علوي", "awaiting_applicant", "building_permit"),
        ]
        for i, (title, status, ttype) in enumerate(others):
            await post(
                make_event(
                    reference=f"HCM/{100 + i}",
                    title=title,
                    status_code=status,
                    transaction_type=ttype or "building_permit",
                    occurred_at=(start + timedelta(days=i)).isoformat(),
                    due_date=(start + timedelta(days=4)).date().isoformat(),
                    applicant={"national_id": "1234567897", "name": "سارة أحمد الغامدي", "mobile": "0559876543"},
                ),
                hcm,
            )
    return str(first["tracking_number"])


@pytest.fixture(scope="module")
async def live_site(pg_engine: AsyncEngine, run_index_prefix: str) -> AsyncIterator[LiveSite]:
    await truncate_all(pg_engine)
    settings = Settings(
        environment="test",
        database_url=PG_URL,
        secret_key=TEST_SECRET,
        database_pool_size=5,
        index_prefix=run_index_prefix,
    )
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="ui-live-server", daemon=True)
    thread.start()
    for _ in range(200):
        if server.started:
            break
        await asyncio.sleep(0.05)
    assert server.started, "the UI test server did not start"
    base_url = f"http://127.0.0.1:{port}"
    tokens = await _tokens(pg_engine)
    tracking = await _seed(base_url, tokens)
    try:
        yield LiveSite(base_url=base_url, tracking=tracking, tokens=tokens)
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, 10)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, never a downloaded one (install: apt-get install -y chromium)."""
    if not HAVE_CHROMIUM:
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium: apt-get install -y chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Any, live_site: LiveSite) -> AsyncIterator[Any]:
    """A fresh context per test (no cookies carried over), desktop-sized, base URL set."""
    context = await browser.new_context(base_url=live_site.base_url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = await context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    try:
        yield pg
    finally:
        await context.close()
    # Error pages are answered with their real status (401, 404, 429...), which Chromium logs; scripts must not fail.
    assert not [e for e in errors if "Failed to load resource" not in e], errors


async def screenshot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
