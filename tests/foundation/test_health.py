"""/healthz and /readyz: per-dependency detail, 503 when a configured dependency is down."""

from __future__ import annotations

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.fixtures.services import ES_URL, REDIS_URL


async def readyz(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        return await client.get("/readyz")


async def test_ready_with_every_service_up(pg_settings: Settings, db_engine: object, es_prefix: str) -> None:
    settings = pg_settings.model_copy(
        update={"elasticsearch_url": ES_URL, "redis_url": REDIS_URL, "index_prefix": es_prefix}
    )
    response = await readyz(settings)
    assert response.status_code == 200, response.text
    checks = response.json()["checks"]
    assert {name: c["status"] for name, c in checks.items()} == {
        "database": "up",
        "elasticsearch": "up",
        "redis": "up",
    }
    assert "outbox_oldest_age_s" in checks["database"]


@pytest.mark.parametrize(
    ("down", "update"),
    [
        ("elasticsearch", {"elasticsearch_url": "http://127.0.0.1:9"}),
        ("redis", {"redis_url": "redis://127.0.0.1:9/0"}),
        ("database", {"database_url": "postgresql+asyncpg://inquiry:inquiry@127.0.0.1:9/none"}),
    ],
)
async def test_unready_when_a_dependency_is_down(
    pg_settings: Settings, db_engine: object, down: str, update: dict[str, str]
) -> None:
    response = await readyz(pg_settings.model_copy(update=update))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"][down]["status"] == "down"
    others = {name: c["status"] for name, c in body["checks"].items() if name != down}
    assert all(status == "up" for status in others.values())


async def test_one_error_format_for_unknown_routes(client: httpx.AsyncClient) -> None:
    response = await client.get("/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not Found"}
