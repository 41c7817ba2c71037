"""Metrics move when events are ingested; logs are JSON with a request id and carry no secrets or PII."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import httpx
import orjson
import pytest

from tests.fixtures.factories import make_event

KeyMaker = Callable[[str], Awaitable[str]]


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_ingestion_moves_the_metrics(client: httpx.AsyncClient, agency_key: KeyMaker) -> None:
    key = await agency_key("MOHU")
    before = (await client.get("/metrics")).text
    items = [make_event(), make_event(), make_event(status_code="bogus")]
    await client.post("/api/v1/events/bulk", json=items, headers={"Authorization": f"Bearer {key}"})
    after = (await client.get("/metrics")).text
    created = "inquiry_events_ingested_total"
    assert (
        metric(after, created, agency="MOHU", outcome="created")
        - metric(before, created, agency="MOHU", outcome="created")
        == 2
    )
    assert (
        metric(after, created, agency="MOHU", outcome="error") - metric(before, created, agency="MOHU", outcome="error")
        == 1
    )
    assert metric(after, "inquiry_outbox_pending") >= 0
    assert metric(after, "inquiry_http_request_duration_seconds_count", route="/api/v1/events/bulk") >= 1


async def test_logs_are_json_with_request_id_and_no_secrets(
    client: httpx.AsyncClient, agency_key: KeyMaker, caplog: pytest.LogCaptureFixture
) -> None:
    from app.observability.logging import JsonFormatter

    key = await agency_key("MOHU")
    caplog.set_level(logging.INFO)
    response = await client.post(
        "/api/v1/events",
        json=make_event(),
        headers={"Authorization": f"Bearer {key}", "X-Request-ID": "req-12345"},
    )
    assert response.headers["x-request-id"] == "req-12345"
    await client.post("/api/v1/inquiry", json={"reference": "1447/1", "verifier": "0551234567"})
    formatter = JsonFormatter()
    lines = [formatter.format(r) for r in caplog.records]
    parsed = [orjson.loads(line) for line in lines]
    access = [p for p in parsed if p["logger"] == "inquiry.access"]
    assert any(p["request_id"] == "req-12345" and p["route"] == "/api/v1/events" for p in access)
    everything = "\n".join(lines)
    assert key not in everything and key.split("_", 2)[2] not in everything
    assert "1000000008" not in everything and "0551234567" not in everything


async def test_search_and_indexing_move_their_metrics(
    client: httpx.AsyncClient, agency_key: KeyMaker, staff_token: Callable[..., Awaitable[str]], resources: object
) -> None:
    from indexers.pipeline import drain_outbox, make_sink

    key = await agency_key("HCM")
    await client.post(
        "/api/v1/events/bulk", json=[make_event(), make_event()], headers={"Authorization": f"Bearer {key}"}
    )
    before = (await client.get("/metrics")).text
    report = await drain_outbox(
        resources.session_factory,  # type: ignore[attr-defined]
        make_sink(resources.settings, None),  # type: ignore[attr-defined]
        catalog=resources.catalog,  # type: ignore[attr-defined]
    )
    assert report.indexed == 2
    token = await staff_token("staff", "HCM")
    response = await client.get(
        "/api/v1/staff/search", params={"q": "رخصة"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    after = (await client.get("/metrics")).text
    indexed = "inquiry_documents_indexed_total"
    assert metric(after, indexed, result="indexed") - metric(before, indexed, result="indexed") == 2
    searches = "inquiry_search_duration_seconds_count"
    assert (
        metric(after, searches, backend="database", kind="search")
        - metric(before, searches, backend="database", kind="search")
        == 1
    )
