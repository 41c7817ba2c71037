"""Role × endpoint enforcement, the transaction detail's visibility rules, and the audit trail."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.audit import service as audit_service
from app.models import AuditEntry, TransactionView
from tests.search.support import Ingest, ingest, load_dataset

__all__ = ["ingest"]

ENDPOINTS = {
    "search": "/api/v1/staff/search",
    "lookup": "/api/v1/callcenter/lookup?name=x",
    "dashboard": "/api/v1/dashboard",
    "audit": "/api/v1/admin/audit",
}
ALLOWED = {
    "search": {"staff", "manager", "call_center", "admin"},
    "lookup": {"call_center", "admin"},
    "dashboard": {"manager", "admin"},
    "audit": {"admin"},
}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
async def test_role_matrix(client: httpx.AsyncClient, staff_token: Any, endpoint: str) -> None:
    url = ENDPOINTS[endpoint]
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers={"Authorization": "Bearer uist_nope"})).status_code == 401
    for role in ("staff", "manager", "call_center", "admin"):
        agency = "HCM" if role in ("staff", "manager") else None
        token = await staff_token(role, agency)
        response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
        expected = 200 if role in ALLOWED[endpoint] else 403
        assert response.status_code == expected, (endpoint, role, response.text)


async def test_detail_visibility_internal_notes_and_access_log(
    client: httpx.AsyncClient,
    ingest: Ingest,
    staff_token: Any,
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    data = await load_dataset(ingest)
    hcm = {"Authorization": f"Bearer {await staff_token('staff', 'HCM', username='hcm-clerk')}"}
    gj = {"Authorization": f"Bearer {await staff_token('staff', 'GOV-JEDDAH')}"}
    jm = {"Authorization": f"Bearer {await staff_token('staff', 'JEDDAH-MUN')}"}

    mine = await client.get(f"/api/v1/staff/transactions/{data['overdue']}", headers=hcm)
    assert mine.status_code == 200
    body = mine.json()
    assert body["timeline"][0]["note"] == "سري: ملاحظة داخلية للأمانة فقط"
    assert body["applicant"]["national_id"] == "******7897" and body["overdue"] is True
    assert body["status"]["name_en"] and body["created_hijri"]

    # Another agency that handled the file sees it, but not HCM's internal note.
    handover = await client.get(f"/api/v1/staff/transactions/{data['handover'].lower()}", headers=gj)
    assert handover.status_code == 200
    assert [r["agency"] for r in handover.json()["references"]] == ["GOV-JEDDAH", "HCM"]
    assert (await client.get(f"/api/v1/staff/transactions/{data['overdue']}", headers=jm)).status_code == 404
    assert (await client.get("/api/v1/staff/transactions/MK-2026-XXXXXX-0", headers=hcm)).status_code == 404

    async with session_factory() as session:
        views = (await session.scalars(select(TransactionView))).all()
        assert {(v.agency_code, v.role) for v in views} == {("HCM", "staff"), ("GOV-JEDDAH", "staff")}
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.username == "hcm-clerk"))).all()
        assert [a.action for a in audit] == ["staff.view"] and len(audit[0].query_fingerprint) == 64


async def test_every_search_and_lookup_is_audited(
    client: httpx.AsyncClient, ingest: Ingest, staff_token: Any, session_factory: async_sessionmaker[AsyncSession]
) -> None:
    data = await load_dataset(ingest)
    cc = {"Authorization": f"Bearer {await staff_token('call_center', username='agent-1')}"}
    admin = {"Authorization": f"Bearer {await staff_token('admin', username='root')}"}
    await client.get("/api/v1/staff/search", params={"q": "مدرسة"}, headers=cc)
    await client.get("/api/v1/staff/search", params={"q": " مدرســة "}, headers=cc)
    await client.get("/api/v1/callcenter/lookup", params={"national_id": "1000000008"}, headers=cc)
    async with session_factory() as session:
        rows = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    search1, search2, lookup = rows
    assert search1.action == "staff.search" and search1.role == "call_center"
    assert search1.query_fingerprint == search2.query_fingerprint  # same normalized query
    assert lookup.action == "callcenter.lookup" and "1000000008" not in str(lookup.query_fingerprint)
    assert lookup.result_ids and len(lookup.result_ids) >= 1
    listing = await client.get("/api/v1/admin/audit", params={"username": "agent-1", "size": 2}, headers=admin)
    page = listing.json()
    assert [i["action"] for i in page["items"]] == ["callcenter.lookup", "staff.search"]
    rest = await client.get(
        "/api/v1/admin/audit", params={"username": "agent-1", "before_id": page["next_before_id"]}, headers=admin
    )
    assert [i["action"] for i in rest.json()["items"]] == ["staff.search"]
    assert data


async def test_no_answer_without_audit(
    client: httpx.AsyncClient,
    ingest: Ingest,
    staff_token: Any,
    session_factory: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = await load_dataset(ingest)
    hcm = {"Authorization": f"Bearer {await staff_token('staff', 'HCM')}"}
    original = audit_service.build_entry

    def too_long(**kwargs: Any) -> AuditEntry:
        entry = original(**kwargs)
        entry.username = "x" * 500  # the column holds 100: PostgreSQL refuses the insert
        return entry

    monkeypatch.setattr(audit_service, "build_entry", too_long)
    for url in ("/api/v1/staff/search?q=مدرسة", f"/api/v1/staff/transactions/{data['school']}"):
        response = await client.get(url, headers=hcm)
        assert response.status_code == 503, response.text
        assert "school" not in response.text and response.json()["error"] == "service_unavailable"
    async with session_factory() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0
        assert await session.scalar(select(func.count()).select_from(TransactionView)) == 0
