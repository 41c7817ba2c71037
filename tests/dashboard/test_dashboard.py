"""Dashboard numbers: known values on each backend, and identical numbers from both backends."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from app.resources import Resources
from app.search.database import DatabaseBackend
from app.search.elastic import ElasticsearchBackend
from app.search.types import AccessScope, DashboardQuery
from tests.search.support import Ingest, load_dataset, reported_backend


async def test_dashboard_numbers(
    client: httpx.AsyncClient, ingest: Ingest, staff_token: Any, backend_name: str
) -> None:
    await load_dataset(ingest)
    admin = {"Authorization": f"Bearer {await staff_token('admin')}"}
    body = (await client.get("/api/v1/dashboard", params={"days": 60}, headers=admin)).json()
    assert body["backend"] == reported_backend(backend_name) and body["total"] == 30
    assert {r["status"]: r["count"] for r in body["by_status"]}["completed"] == 3
    flows = {f["agency"]: (f["incoming"], f["outgoing"]) for f in body["flows"]}
    assert flows == {"HCM": (1, 0), "GOV-JEDDAH": (0, 1)}
    assert body["top_agencies"][0] == {"agency": "HCM", "name_ar": "أمانة العاصمة المقدسة", "count": 25}
    assert body["overdue_by_agency"] == [{"agency": "HCM", "name_ar": "أمانة العاصمة المقدسة", "count": 1}]
    moh = [p for p in body["processing"] if p["agency"] == "MOH-MAKKAH"]
    assert {(p["transaction_type"], p["count"], p["median_days"], p["p90_days"]) for p in moh} == {
        (None, 3, 2.0, 3.6),
        ("medical_report", 3, 2.0, 3.6),
    }
    assert sum(d["count"] for d in body["daily"]) == 30 and len(body["daily"]) == 60
    assert all(d["hijri"] for d in body["daily"])
    assert body["bottlenecks"][0]["agency"] == "HCM"
    card = {r["agency"]: r for r in body["scorecard"]}
    assert card["HCM"]["events"] == 25 and card["HCM"]["rejected_rate"] == 0.0

    manager = {"Authorization": f"Bearer {await staff_token('manager', 'GOV-JEDDAH')}"}
    mine = (await client.get("/api/v1/dashboard", headers=manager)).json()
    assert mine["scope"] == "GOV-JEDDAH" and mine["total"] == 1
    assert [r["agency"] for r in mine["scorecard"]] == ["GOV-JEDDAH"]
    other = await client.get("/api/v1/dashboard", params={"agency": "HCM"}, headers=manager)
    assert other.status_code == 403


async def test_scorecard_counts_rejected_and_unknown_statuses(
    client: httpx.AsyncClient, agency_key: Any, staff_token: Any, backend_name: str
) -> None:
    from tests.fixtures.factories import make_event

    key = await agency_key("TAIF-MUN")
    events = [make_event(), make_event(status_code="NOT_A_CODE"), make_event(occurred_at="bad")]
    events.append(dict(events[0]))
    await client.post("/api/v1/events/bulk", json=events, headers={"Authorization": f"Bearer {key}"})
    admin = {"Authorization": f"Bearer {await staff_token('admin')}"}
    body = (await client.get("/api/v1/dashboard", params={"agency": "TAIF-MUN"}, headers=admin)).json()
    (row,) = body["scorecard"]
    assert (row["events"], row["rejected"], row["unknown_status"], row["duplicates"]) == (1, 2, 1, 1)
    assert row["rejected_rate"] == 0.5 and row["unknown_status_rate"] == 0.25
    assert row["out_of_order"] == 0


async def test_scorecard_counts_late_events_from_batches_and_single_events(
    client: httpx.AsyncClient, agency_key: Any, staff_token: Any, backend_name: str
) -> None:
    from tests.fixtures.factories import make_event

    headers = {"Authorization": f"Bearer {await agency_key('TAIF-MUN')}"}
    later = make_event(reference="1447/LATE", status_code="under_review", occurred_at="2026-11-20T10:00:00+03:00")
    earlier = make_event(reference="1447/LATE", status_code="received", occurred_at="2026-11-19T10:00:00+03:00")
    second = make_event(reference="1447/LATE-2", status_code="under_review", occurred_at="2026-11-20T10:00:00+03:00")
    first = make_event(reference="1447/LATE-2", status_code="received", occurred_at="2026-11-19T10:00:00+03:00")
    assert (await client.post("/api/v1/events/bulk", json=[later, earlier], headers=headers)).status_code == 200
    assert (await client.post("/api/v1/events", json=second, headers=headers)).status_code == 201
    assert (await client.post("/api/v1/events", json=first, headers=headers)).status_code == 201
    admin = {"Authorization": f"Bearer {await staff_token('admin')}"}
    body = (await client.get("/api/v1/dashboard", params={"agency": "TAIF-MUN"}, headers=admin)).json()
    (row,) = body["scorecard"]
    assert (row["events"], row["out_of_order"], row["out_of_order_rate"]) == (4, 2, 0.5)


@pytest.mark.parametrize("backend_name", ["elasticsearch"])
async def test_both_backends_give_the_same_numbers(ingest: Ingest, resources: Resources) -> None:
    """The contract's core: the same searches and aggregations from SQL and from the index, compared."""
    await load_dataset(ingest)
    es = ElasticsearchBackend(
        client=resources.elasticsearch, alias=resources.settings.index_alias, catalog=resources.catalog
    )
    now = datetime.now(UTC)
    async with resources.session_factory() as session:
        db = DatabaseBackend(session=session, catalog=resources.catalog)
        for scope in (AccessScope(None), AccessScope("HCM"), AccessScope("GOV-JEDDAH"), AccessScope("MOH-MAKKAH")):
            query = DashboardQuery(now=now, days=40)
            assert asdict(await db.dashboard(query, scope)) == asdict(await es.dashboard(query, scope)), scope
