"""Server-side behaviour of the pages without a browser: error messages, redirects, headers."""

from __future__ import annotations

import httpx
import pytest

from app.main import create_app
from app.settings import Settings


@pytest.fixture
def app_settings(pg_settings: Settings) -> Settings:
    return pg_settings.model_copy(update={"inquiry_failures_per_hour": 2})


async def lookup(client: httpx.AsyncClient, **headers: str) -> httpx.Response:
    return await client.post("/", data={"reference": "MK-2026-AAAAAA-1", "verifier": "1234"}, headers=headers)


async def test_unknown_reference_then_lockout_in_minutes(client: httpx.AsyncClient) -> None:
    first = await lookup(client)
    assert first.status_code == 404
    assert "لا توجد معاملة مطابقة" in first.text and 'role="alert"' in first.text
    await lookup(client)
    locked = await lookup(client)
    assert locked.status_code == 429
    assert "حاول مرة أخرى بعد 60 دقيقة" in locked.text


async def test_messages_follow_the_language_cookie(client: httpx.AsyncClient) -> None:
    client.cookies.set("lang", "en")
    response = await lookup(client, **{"X-UI-Fragment": "1"})
    assert "No transaction matches this number and verifier" in response.text
    assert "<html" not in response.text  # the script's fragment, not a whole page


async def test_missing_fields_are_marked(client: httpx.AsyncClient) -> None:
    response = await client.post("/", data={"reference": "", "verifier": ""})
    assert response.status_code == 422
    assert response.text.count('aria-invalid="true"') == 2


async def test_database_down_is_a_clear_message(pg_settings: Settings) -> None:
    settings = pg_settings.model_copy(update={"database_url": "postgresql+asyncpg://x:y@127.0.0.1:1/none"})
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 1))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await lookup(client)
    assert response.status_code == 503
    assert "الخدمة غير متاحة مؤقتاً" in response.text


async def test_language_toggle_redirects_only_inside_the_site(client: httpx.AsyncClient) -> None:
    ok = await client.post("/lang", data={"lang": "en", "next": "/staff?q=1"})
    assert ok.status_code == 303 and ok.headers["location"] == "/staff?q=1"
    assert "lang=en" in ok.headers["set-cookie"]
    for evil in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        response = await client.post("/lang", data={"lang": "en", "next": evil})
        assert response.headers["location"] == "/"


async def test_pages_send_a_strict_content_security_policy(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert '<html lang="ar" dir="rtl">' in response.text
    assert (await client.get("/static/ui.css")).status_code == 200


async def test_expired_token_cookie_shows_sign_in_and_is_dropped(client: httpx.AsyncClient) -> None:
    client.cookies.set("ui_token", "uist_000000000000_nope")
    response = await client.get("/staff")
    assert response.status_code == 401
    assert "منتهي الصلاحية" in response.text
    assert 'ui_token=""' in response.headers["set-cookie"]


async def test_cross_site_form_posts_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/staff/signin", data={"token": "uist_x"}, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403


async def test_sign_in_sets_an_httponly_strict_cookie(client: httpx.AsyncClient, staff_token: object) -> None:
    token = await staff_token("call_center")  # type: ignore[operator]
    response = await client.post("/staff/signin", data={"token": token, "next": "/"})
    assert response.status_code == 303 and response.headers["location"] == "/callcenter"
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
