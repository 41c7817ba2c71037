"""The full access matrix: every endpoint × every actor × records owned by A, B, both (A→B) and neither (C).

tests/staff/test_access_and_audit.py checks roles on the staff endpoints; this module checks the
whole table, record by record, and that fields a caller should not control are ignored or refused.
Each endpoint is one test: it builds the same four records through the ingestion API, then walks
the table and fails with every wrong cell listed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from app.main import create_app
from app.settings import Settings
from tests.fixtures.factories import make_event

A, B, C = "HCM", "MOHU", "GOV-JEDDAH"
ACTORS = ("agency_A", "staff_A", "staff_B", "call_center", "manager_A", "admin", "anonymous")
RECORDS = ("A", "B", "AB", "C")
SEES = {  # which records each actor may see on the staff/call-center side
    "staff_A": {"A", "AB"},
    "manager_A": {"A", "AB"},
    "staff_B": {"B", "AB"},
    "call_center": set(RECORDS),
    "admin": set(RECORDS),
}
NIDS = {"A": "1000000008", "B": "1234567897", "AB": "2000000006", "C": "1000000016"}


def title(record: str) -> str:
    return f"ملف اختبار الصلاحيات {record}"


@pytest.fixture
def app_settings(pg_settings: Settings) -> Settings:
    """The matrix asks every record many times with a wrong verifier: no lockout in this module."""
    return pg_settings.model_copy(update={"inquiry_failures_per_hour": 10_000})


@dataclass
class World:
    """The four records and a credential per actor."""

    tracking: dict[str, str]
    reference: dict[str, str]
    creds: dict[str, str | None]
    keys: dict[str, str]

    def headers(self, actor: str) -> dict[str, str]:
        cred = self.creds[actor]
        return {"Authorization": f"Bearer {cred}"} if cred else {}

    def cookies(self, actor: str) -> dict[str, str]:
        cred = self.creds[actor]
        return {"ui_token": cred} if cred else {}


async def post(client: httpx.AsyncClient, key: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    response = await client.post("/api/v1/events/bulk", json=events, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    assert all(i["outcome"] == "created" for i in items), items
    return items


@pytest.fixture
async def world(
    client: httpx.AsyncClient,
    agency_key: Callable[[str], Awaitable[str]],
    staff_token: Callable[..., Awaitable[str]],
) -> World:
    keys = {code: await agency_key(code) for code in (A, B, C)}
    ref = {"A": "SEC-A-1", "B": "SEC-B-1", "AB": "SEC-AB-1", "C": "SEC-C-1"}

    def opening(name: str) -> dict[str, Any]:
        return make_event(
            reference=ref[name],
            title=title(name),
            applicant={"national_id": NIDS[name], "name": f"مراجع {name}", "mobile": "0551234567"},
            note={"text": f"ملاحظة داخلية سرية {name}", "visibility": "internal"},
        )

    tracking = {"A": (await post(client, keys[A], [opening("A")]))[0]["tracking_number"]}
    tracking["B"] = (await post(client, keys[B], [opening("B")]))[0]["tracking_number"]
    tracking["C"] = (await post(client, keys[C], [opening("C")]))[0]["tracking_number"]
    ab = opening("AB")
    tracking["AB"] = (await post(client, keys[A], [ab]))[0]["tracking_number"]
    await post(client, keys[A], [make_event(reference=ref["AB"], status_code="referred", to_agency=B)])
    await post(
        client,
        keys[B],
        [make_event(reference="SEC-AB-M", from_agency=A, from_reference=ref["AB"], status_code="received")],
    )
    creds: dict[str, str | None] = {
        "agency_A": keys[A],
        "staff_A": await staff_token("staff", A),
        "staff_B": await staff_token("staff", B),
        "call_center": await staff_token("call_center"),
        "manager_A": await staff_token("manager", A),
        "admin": await staff_token("admin"),
        "anonymous": None,
    }
    return World(tracking=tracking, reference=ref, creds=creds, keys=keys)


Cell = tuple[str, str]
"""(actor, record); record "-" for endpoints that are not about one record."""


def check(table: dict[Cell, tuple[bool, bool, str]]) -> None:
    """``table[cell] = (expected, got, evidence)``; fail listing every wrong cell."""
    wrong = [
        f"{actor:12} {record:3} expected={exp} got={got} ({why})"
        for (actor, record), (exp, got, why) in table.items()
        if exp != got
    ]
    assert not wrong, "wrong cells:\n" + "\n".join(wrong)


def denied_status(actor: str, role_ok: bool) -> set[int]:
    """Anonymous and agency keys are not staff: 401; staff without the role: 403."""
    if actor in ("anonymous", "agency_A"):
        return {401}
    return {404} if role_ok else {403}


async def test_staff_search(client: httpx.AsyncClient, world: World) -> None:
    """A record appears in a search only for actors whose scope includes it."""
    table: dict[Cell, tuple[bool, bool, str]] = {}
    for actor in ACTORS:
        for record in RECORDS:
            r = await client.get(
                "/api/v1/staff/search", params={"q": world.reference[record]}, headers=world.headers(actor)
            )
            found = r.status_code == 200 and world.tracking[record] in r.text
            if r.status_code != 200:
                assert r.status_code in denied_status(actor, False), (actor, r.status_code)
            table[(actor, record)] = (record in SEES.get(actor, set()), found, str(r.status_code))
            if found:
                assert "سرية" not in r.text or actor in ("staff_A", "manager_A")  # internal notes stay home
    check(table)


async def test_staff_detail(client: httpx.AsyncClient, world: World) -> None:
    """Outside the scope the detail is a 404, the same as an unknown number."""
    table: dict[Cell, tuple[bool, bool, str]] = {}
    for actor in ACTORS:
        for record in RECORDS:
            r = await client.get(f"/api/v1/staff/transactions/{world.tracking[record]}", headers=world.headers(actor))
            ok = r.status_code == 200
            if not ok:
                assert r.status_code in denied_status(actor, True), (actor, record, r.status_code)
                assert world.tracking[record] not in r.text
            table[(actor, record)] = (record in SEES.get(actor, set()), ok, str(r.status_code))
    check(table)


async def test_callcenter_lookup(client: httpx.AsyncClient, world: World) -> None:
    """Only the call center and admins look people up, across agencies."""
    table: dict[Cell, tuple[bool, bool, str]] = {}
    for actor in ACTORS:
        for record in RECORDS:
            for params in ({"reference": world.reference[record]}, {"national_id": NIDS[record]}):
                r = await client.get("/api/v1/callcenter/lookup", params=params, headers=world.headers(actor))
                found = r.status_code == 200 and world.tracking[record] in r.text
                if r.status_code != 200:
                    assert r.status_code in denied_status(actor, False), (actor, r.status_code)
                table[(actor, f"{record}:{next(iter(params))[:3]}")] = (
                    actor in ("call_center", "admin"),
                    found,
                    str(r.status_code),
                )
    check(table)


async def test_dashboard_and_audit(client: httpx.AsyncClient, world: World) -> None:
    """Dashboards: managers (own agency only) and admins; the audit trail: admins only."""
    table: dict[Cell, tuple[bool, bool, str]] = {}
    for actor in ACTORS:
        for name, url, allowed in (
            ("dash", "/api/v1/dashboard", {"manager_A", "admin"}),
            ("dash:B", f"/api/v1/dashboard?agency={B}", {"admin"}),
            ("audit", "/api/v1/admin/audit", {"admin"}),
        ):
            r = await client.get(url, headers=world.headers(actor))
            if r.status_code != 200:
                assert r.status_code in denied_status(actor, False), (actor, url, r.status_code)
            table[(actor, name)] = (actor in allowed, r.status_code == 200, str(r.status_code))
    check(table)
    mine = (await client.get("/api/v1/dashboard", headers=world.headers("manager_A"))).json()
    assert mine["scope"] == A


async def test_public_inquiry(client: httpx.AsyncClient, world: World) -> None:
    """Public by design: the same answer whoever asks (credentials change nothing), never internal notes."""
    table: dict[Cell, tuple[bool, bool, str]] = {}
    for actor in ACTORS:
        for record in RECORDS:
            body = {"reference": world.reference[record], "verifier": NIDS[record][-4:]}
            r = await client.post("/api/v1/inquiry", json=body, headers=world.headers(actor))
            table[(actor, record)] = (True, r.status_code == 200, str(r.status_code))
            assert "سرية" not in r.text
            wrong = await client.post(
                "/api/v1/inquiry", json={**body, "verifier": "9999"}, headers=world.headers(actor)
            )
            assert wrong.status_code == 404, (actor, record, wrong.status_code)
    check(table)


async def test_ingestion(client: httpx.AsyncClient, world: World) -> None:
    """Only agency keys write; an event naming another agency's transaction (or agency) changes nothing."""
    table: dict[Cell, tuple[bool, bool, str]] = {}
    for actor in ACTORS:
        for record in RECORDS:
            event = make_event(
                reference=f"SEC-ING-{actor}-{record}", tracking_number=world.tracking[record], status_code="received"
            )
            for path, body in (("/api/v1/events", event), ("/api/v1/events/bulk", [event])):
                r = await client.post(path, json=body, headers=world.headers(actor))
                if actor != "agency_A":
                    assert r.status_code == 401, (actor, path, r.status_code)
                    ok = False
                elif path.endswith("bulk"):
                    ok = r.status_code == 200 and r.json()["items"][0]["outcome"] in ("created", "duplicate")
                else:
                    ok = r.status_code in (200, 201)
                # A writes to its own files (A, and AB that it handed over); never into B's or C's
                table[(actor, f"{record}:{path.rsplit('/', 1)[-1]}")] = (
                    actor == "agency_A" and record in ("A", "AB"),
                    ok,
                    f"{r.status_code} {r.text[:120]}",
                )
    check(table)


async def test_mass_assignment(client: httpx.AsyncClient, world: World) -> None:
    """Fields a caller must not control are refused (agency, unknown fields) or have no say (version)."""
    key = {"Authorization": f"Bearer {world.keys[A]}"}
    as_b = await client.post("/api/v1/events", json=make_event(agency=B), headers=key)
    assert as_b.status_code == 403 and as_b.json()["detail"]["error"] == "forbidden_agency"
    bulk = await client.post("/api/v1/events/bulk", json=[make_event(agency=B), make_event(agency=A)], headers=key)
    assert [i["outcome"] for i in bulk.json()["items"]] == ["error", "created"]
    for extra in ({"version": 999}, {"holder_agency": B}, {"id": 1}, {"status": "completed"}, {"is_admin": True}):
        r = await client.post("/api/v1/events", json=make_event(**extra), headers=key)
        assert r.status_code == 422, (extra, r.status_code, r.text)
    # B's reference, sent by A, opens A's own file: it never lands in B's transaction
    r = await client.post("/api/v1/events", json=make_event(reference=world.reference["B"]), headers=key)
    assert r.status_code == 201 and r.json()["tracking_number"] != world.tracking["B"]
    # staff cannot widen their scope with parameters
    staff_a = world.headers("staff_A")
    r = await client.get("/api/v1/staff/search", params={"agency": B, "direction": "incoming"}, headers=staff_a)
    assert r.status_code == 422
    r = await client.get("/api/v1/staff/search", params={"holder_agency": B}, headers=staff_a)
    assert r.status_code == 200 and world.tracking["B"] not in r.text and world.tracking["AB"] in r.text
    r = await client.get("/api/v1/staff/search", params={"agency_code": B}, headers=staff_a)
    assert r.status_code == 422, "unknown query parameters are refused"
    r = await client.get("/api/v1/dashboard", params={"agency": B}, headers=world.headers("manager_A"))
    assert r.status_code == 403
    r = await client.post("/api/v1/inquiry", json={"reference": world.reference["A"], "verifier": "0008", "x": 1})
    assert r.status_code == 422


async def test_ui_pages(client: httpx.AsyncClient, world: World) -> None:
    """The web pages apply the same scope: content only for allowed actors, otherwise sign-in or 403/404."""
    table: dict[Cell, tuple[bool, bool, str]] = {}
    ui_roles = {"/staff": set(SEES), "/callcenter": {"call_center", "admin"}, "/staff/t": set(SEES)}
    for actor in ACTORS:
        client.cookies.clear()
        client.cookies.update(world.cookies(actor))
        for record in RECORDS:
            for page, url, params in (
                ("/staff", "/staff", {"q": world.reference[record]}),
                ("/callcenter", "/callcenter", {"by": "reference", "value": world.reference[record]}),
                ("/staff/t", f"/staff/t/{world.tracking[record]}", {}),
            ):
                r = await client.get(url, params=params)
                # the sign-in form echoes the path (with the number) in "next": content means no form
                shown = r.status_code == 200 and world.tracking[record] in r.text and 'name="token"' not in r.text
                role_ok = actor in ui_roles[page]
                expected = role_ok and (page == "/callcenter" or record in SEES.get(actor, set()))
                if not shown and actor != "anonymous" and r.status_code == 200 and "signin" not in r.text:
                    assert role_ok, (actor, url)
                table[(actor, f"{record}:{page}")] = (expected, shown, str(r.status_code))
        r = await client.get("/dashboard")
        table[(actor, "/dashboard")] = (
            actor in ("manager_A", "admin"),
            r.status_code == 200 and "signin" not in r.text and 'name="token"' not in r.text,
            str(r.status_code),
        )
    client.cookies.clear()
    check(table)


def test_every_route_is_in_the_matrix() -> None:
    """A new route must be added to this table (or to the public list) before it ships."""
    covered = {
        "/api/v1/events",
        "/api/v1/events/bulk",
        "/api/v1/inquiry",
        "/api/v1/staff/search",
        "/api/v1/staff/transactions/{tracking_number}",
        "/api/v1/callcenter/lookup",
        "/api/v1/dashboard",
        "/api/v1/admin/audit",
        "/staff",
        "/staff/t/{tracking_number}",
        "/callcenter",
        "/dashboard",
    }
    public = {"/", "/lang", "/staff/signin", "/staff/signout", "/healthz", "/readyz", "/metrics", "/static"}
    public |= {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
    paths = {getattr(route, "path", "") for route in create_app().routes} - {""}
    assert paths - covered - public == set()
