"""The search contract: what both backends must answer identically (each test runs on both)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.normalization.dates import RIYADH, to_hijri_string
from tests.search.support import BASE, Ingest, load_dataset, reported_backend


@pytest.fixture
async def data(ingest: Ingest) -> dict[str, str]:
    return await load_dataset(ingest)


@pytest.fixture
async def auth(staff_token: Any) -> dict[str, dict[str, str]]:
    tokens = {
        "hcm": await staff_token("staff", "HCM"),
        "gj": await staff_token("staff", "GOV-JEDDAH"),
        "cc": await staff_token("call_center"),
        "admin": await staff_token("admin"),
    }
    return {k: {"Authorization": f"Bearer {v}"} for k, v in tokens.items()}


async def search(client: httpx.AsyncClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/staff/search", params=params, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def tracking(body: dict[str, Any]) -> list[str]:
    return [i["tracking_number"] for i in body["items"]]


@pytest.mark.parametrize(
    "q",
    ["مدرسه", "مدرســة", "مَدْرَسَة", "الامل", "احمد", "مصطفي", "أحمد الزهراني", "MADRASA-not", "building PERMIT"],
)
async def test_arabic_and_english_variants_match(
    client: httpx.AsyncClient, data: dict[str, str], auth: Any, backend_name: str, q: str
) -> None:
    body = await search(client, auth["hcm"], q=q)
    assert body["backend"] == reported_backend(backend_name)
    if q == "MADRASA-not":
        assert body["total"] == 0
    elif q == "building PERMIT":
        assert tracking(body) == [data["overdue"]]
    else:
        assert tracking(body) == [data["school"]]


async def test_references_exact_prefix_eastern_digits_and_tracking(
    client: httpx.AsyncClient, data: dict[str, str], auth: Any
) -> None:
    assert tracking(await search(client, auth["hcm"], q="1447-3456")) == [data["school"]]
    assert tracking(await search(client, auth["hcm"], q="١٤٤٧/٣٤")) == [data["school"]]
    prefix = await search(client, auth["hcm"], q="hcm bulk 00", size=50)
    assert prefix["total"] == 10
    exact = await search(client, auth["hcm"], q=data["handover"].lower(), sort="relevance")
    assert tracking(exact)[0] == data["handover"]
    assert tracking(await search(client, auth["hcm"], q=data["bulk0"][:10])) != []


async def test_query_syntax_characters_are_harmless(client: httpx.AsyncClient, data: dict[str, str], auth: Any) -> None:
    for q in ["*", "title:مدرسة", '{"a":1}', "((", "a OR b", "\\", "%", "_"]:
        await search(client, auth["hcm"], q=q)


async def test_filters_and_facets(client: httpx.AsyncClient, data: dict[str, str], auth: Any) -> None:
    everything = await search(client, auth["admin"], size=100)
    assert everything["total"] == 30
    facets = {k: {b["value"]: b["count"] for b in v} for k, v in everything["facets"].items()}
    assert facets["holder_agency"] == {"HCM": 25, "MOH-MAKKAH": 3, "JEDDAH-MUN": 2}
    assert facets["sector"] == {"municipal": 27, "health": 3}
    assert facets["overdue"] == {"true": 1, "false": 29}
    assert facets["status"]["completed"] == 3
    assert facets["transaction_type"]["medical_report"] == 3

    assert (await search(client, auth["admin"], status="completed"))["total"] == 3
    assert (await search(client, auth["admin"], sector="health"))["total"] == 3
    assert (await search(client, auth["admin"], transaction_type=["complaint", "commercial_license"]))["total"] == 2
    assert tracking(await search(client, auth["admin"], overdue="true")) == [data["overdue"]]
    assert (await search(client, auth["admin"], overdue="false"))["total"] == 29
    assert tracking(await search(client, auth["admin"], counterpart_agency="GOV-JEDDAH")) == [data["handover"]]
    incoming = await search(client, auth["hcm"], direction="incoming")
    assert tracking(incoming) == [data["handover"]]
    assert {b["value"]: b["count"] for b in incoming["facets"]["direction"]} == {"incoming": 1}
    assert tracking(await search(client, auth["gj"], direction="outgoing")) == [data["handover"]]
    assert (await search(client, auth["hcm"], direction="outgoing"))["total"] == 0
    day = BASE.astimezone(RIYADH).date()
    hijri = to_hijri_string(BASE)
    gregorian = await search(client, auth["admin"], created_from=day.isoformat(), created_to=day.isoformat())
    by_hijri = await search(client, auth["admin"], created_from=hijri, created_to=hijri)
    assert gregorian["total"] == by_hijri["total"] > 0
    for bad in ({"created_from": "2026-13-40"}, {"status": "nope"}, {"size": 0}, {"sort": "x"}, {"bogus": 1}):
        response = await client.get("/api/v1/staff/search", params=bad, headers=auth["admin"])
        assert response.status_code == 422, (bad, response.text)
        assert set(response.json()) == {"error", "detail"}
    response = await client.get("/api/v1/staff/search", params={"direction": "incoming"}, headers=auth["admin"])
    assert response.status_code == 422
    # Blank agency codes mean "not given" (schemathesis found a form feed that gave a 500).
    blanks = await search(client, auth["admin"], agency=" ", counterpart_agency="\x0c", size=100)
    assert blanks["total"] == everything["total"]


async def test_scope_is_enforced_in_the_query(client: httpx.AsyncClient, data: dict[str, str], auth: Any) -> None:
    gj = await search(client, auth["gj"], size=100)
    assert tracking(gj) == [data["handover"]]
    assert tracking(await search(client, auth["gj"], holder_agency="JEDDAH-MUN")) == []
    assert tracking(await search(client, auth["gj"], q="JM-1")) == []
    hcm = await search(client, auth["hcm"], q="رخصة", size=100)
    assert data["jm1"] not in tracking(hcm) and data["school"] in tracking(hcm)
    assert {b["value"] for b in hcm["facets"]["holder_agency"]} == {"HCM"}


async def test_sorting(client: httpx.AsyncClient, data: dict[str, str], auth: Any) -> None:
    newest = tracking(await search(client, auth["admin"], size=100))
    oldest = tracking(await search(client, auth["admin"], size=100, sort="oldest"))
    assert newest == list(reversed(oldest))
    assert oldest[0] == data["school"]
    due = tracking(await search(client, auth["admin"], size=100, sort="due"))
    assert due[0] == data["overdue"]


async def test_cursor_paging_has_no_gaps_or_duplicates(
    client: httpx.AsyncClient, data: dict[str, str], auth: Any
) -> None:
    for sort in ("newest", "oldest", "due", "relevance"):
        params: dict[str, Any] = {"size": 4, "sort": sort, "q": "ملف" if sort == "relevance" else None}
        params = {k: v for k, v in params.items() if v is not None}
        full = await search(client, auth["admin"], **{**params, "size": 100})
        seen: list[str] = []
        body = await search(client, auth["admin"], **params)
        assert body["facets"] is not None
        while True:
            seen.extend(tracking(body))
            assert body["total"] == full["total"]
            if body["next_cursor"] is None:
                break
            body = await search(client, auth["admin"], **params, cursor=body["next_cursor"])
            assert body["facets"] is None
        assert seen == tracking(full), sort
        assert len(set(seen)) == len(seen)
    bad = await client.get("/api/v1/staff/search", params={"cursor": "garbage!"}, headers=auth["admin"])
    assert bad.status_code == 422
    first = await search(client, auth["admin"], size=2)
    other = await client.get(
        "/api/v1/staff/search",
        params={"size": 2, "status": "received", "cursor": first["next_cursor"]},
        headers=auth["admin"],
    )
    assert other.status_code == 422


async def test_highlights_mark_title_and_public_notes_only(
    client: httpx.AsyncClient, data: dict[str, str], auth: Any
) -> None:
    body = await search(client, auth["hcm"], q="مدرسه المراجعة")
    (item,) = body["items"]
    assert item["highlights"]["title"].startswith("<mark>مدرسة</mark>")
    assert item["highlights"]["notes"] == ["أحيلت إلى لجنة <mark>المراجعة</mark> الفنية"]
    assert item["applicant"] == {"name": "أحمد مصطفى الزهراني", "national_id": "******0008", "mobile": "******4567"}
    assert "mark" not in str(item["applicant"])


async def test_internal_notes_are_not_searchable(client: httpx.AsyncClient, data: dict[str, str], auth: Any) -> None:
    assert (await search(client, auth["hcm"], q="سري"))["total"] == 0


async def test_callcenter_lookups(client: httpx.AsyncClient, data: dict[str, str], auth: Any) -> None:
    async def lookup(**params: str) -> list[str]:
        response = await client.get("/api/v1/callcenter/lookup", params=params, headers=auth["cc"])
        assert response.status_code == 200, response.text
        return [i["tracking_number"] for i in response.json()["items"]]

    assert data["school"] in await lookup(national_id="١٠٠٠٠٠٠٠٠٨")
    assert data["overdue"] in await lookup(national_id="1234567897")
    assert await lookup(mobile="+966551234567") == await lookup(mobile="055 123 4567")
    assert data["school"] in await lookup(mobile="٠٥٥١٢٣٤٥٦٧")
    assert await lookup(name="احمد الزهراني") == [data["school"]]
    assert await lookup(reference="1447/3456") == [data["school"]]
    assert await lookup(reference=data["jm2"]) == [data["jm2"]]
    bad = await client.get("/api/v1/callcenter/lookup", params={"national_id": "1000000000"}, headers=auth["cc"])
    assert bad.status_code == 422
    none = await client.get("/api/v1/callcenter/lookup", headers=auth["cc"])
    assert none.status_code == 422
