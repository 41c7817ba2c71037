"""Bad input never makes a 500 and never returns foreign records.

Schemathesis generates valid and invalid requests for every operation of the OpenAPI schema; the
explicit cases cover what a generator rarely finds: size and depth bombs, broken encodings,
invisible characters, search-engine syntax and SQL injection in every search parameter.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from sqlalchemy.ext.asyncio import AsyncEngine

from app.auth.service import create_api_key, create_user, issue_token
from app.main import create_app
from app.settings import Settings
from tests.fixtures.database import truncate_all
from tests.fixtures.factories import make_event
from tests.fixtures.services import ES_URL, PG_URL, TEST_SECRET

MAX_EXAMPLES = 20
HTTPX_ARGS = ("method", "url", "headers", "params", "json", "content")
LIMITS = {"max_body_bytes": 100_000, "max_bulk_items": 100, "inquiry_failures_per_hour": 1_000_000}


def test_schemathesis_finds_no_server_error(pg_engine: AsyncEngine, run_index_prefix: str) -> None:
    """Positive and negative cases for every operation, authenticated, in-process; 0 responses >= 500."""
    loop = asyncio.new_event_loop()
    app = create_app(
        Settings(
            environment="test", database_url=PG_URL, secret_key=TEST_SECRET, index_prefix=run_index_prefix, **LIMITS
        )
    )
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    lifespan = app.router.lifespan_context(app)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")

    async def start() -> dict[str, str]:
        await lifespan.__aenter__()
        await truncate_all(app.state.resources.engine)
        async with app.state.resources.session_factory() as session:
            _, key = await create_api_key(session, agency_code="HCM")
            await create_user(session, username="fuzz-admin", role="admin", agency_code=None)
            _, token = await issue_token(session, username="fuzz-admin", ttl_hours=1)
            await session.commit()
        seeded = await client.post("/api/v1/events", json=make_event(), headers={"Authorization": f"Bearer {key}"})
        assert seeded.status_code == 201
        return {"key": key, "token": token}

    errors: list[str] = []
    counts: dict[str, int] = {}
    unsatisfiable: list[str] = []

    def fuzz(strategy: Any, cred: str) -> Callable[[], None]:
        """One hypothesis run over an operation's cases, each sent through the in-process client."""

        @settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def call(case: schemathesis.Case) -> None:
            kwargs = case.as_transport_kwargs(base_url="http://testserver")
            kwargs["headers"] = {**(kwargs.get("headers") or {}), "Authorization": f"Bearer {cred}"}
            if "data" in kwargs:
                kwargs["content"] = kwargs.pop("data")
            kwargs = {k: v for k, v in kwargs.items() if k in HTTPX_ARGS}
            response = loop.run_until_complete(client.request(**kwargs))
            counts[str(response.status_code)] = counts.get(str(response.status_code), 0) + 1
            if response.status_code >= 500:
                errors.append(f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text[:300]}")

        return call

    try:
        creds = loop.run_until_complete(start())
        for result in schema.get_all_operations():
            operation = result.ok()
            cred = creds["key"] if operation.path.startswith("/api/v1/events") else creds["token"]
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                strategy = operation.as_strategy(generation_mode=mode)

                try:
                    fuzz(strategy, cred)()
                except Unsatisfiable:  # nothing can be made invalid (an operation without inputs)
                    assert mode is GenerationMode.NEGATIVE, operation.path
                    unsatisfiable.append(operation.path)
    finally:
        loop.run_until_complete(client.aclose())
        if hasattr(app.state, "resources"):
            loop.run_until_complete(lifespan.__aexit__(None, None, None))
        loop.close()
    print(f"\nschemathesis responses by status: {dict(sorted(counts.items()))}; no negative cases for {unsatisfiable}")
    assert sum(counts.values()) > 100
    assert errors == [], "\n".join(errors[:20])


@pytest.fixture(params=["database", "elasticsearch"])
def app_settings(pg_settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """Small body limits; both search backends (Elasticsearch under this test's own prefix)."""
    base = pg_settings.model_copy(update=LIMITS)
    if request.param == "database":
        return base.model_copy(update={"search_backend": "database"})
    prefix = request.getfixturevalue("es_prefix")
    return base.model_copy(
        update={"elasticsearch_url": ES_URL, "search_backend": "elasticsearch", "index_prefix": prefix}
    )


Creds = dict[str, dict[str, str]]


@pytest.fixture
async def creds(
    client: httpx.AsyncClient,
    agency_key: Callable[[str], Awaitable[str]],
    staff_token: Callable[..., Awaitable[str]],
    resources: Any,
) -> Creds:
    """Keys and tokens, one HCM and one MOHU transaction, indexed."""
    from tests.search.support import sync_index

    hcm, mohu = await agency_key("HCM"), await agency_key("MOHU")
    tokens = {
        "hcm": {"Authorization": f"Bearer {hcm}"},
        "mohu": {"Authorization": f"Bearer {mohu}"},
        "staff": {"Authorization": f"Bearer {await staff_token('staff', 'HCM')}"},
        "cc": {"Authorization": f"Bearer {await staff_token('call_center')}"},
        "admin": {"Authorization": f"Bearer {await staff_token('admin')}"},
    }
    for key, ref in ((tokens["hcm"], "HCM-OWN-1"), (tokens["mohu"], "MOHU-SECRET-1")):
        r = await client.post("/api/v1/events", json=make_event(reference=ref, title=f"ملف {ref}"), headers=key)
        assert r.status_code == 201
        tokens.setdefault("tracking", {})[ref] = r.json()["tracking_number"]
    await sync_index(resources)
    return tokens


def clean_4xx_or_ok(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert response.json()["error"], response.text[:300]


async def test_oversized_and_bombs(client: httpx.AsyncClient, creds: Creds) -> None:
    """Too large, too many, gzip bombs and deep nesting: each a clear 4xx."""
    key = creds["hcm"]
    big = make_event(title="x" * 150_000)
    assert (await client.post("/api/v1/events", json=big, headers=key)).status_code == 413
    many = [make_event() for _ in range(101)]
    r = await client.post("/api/v1/events/bulk", json=many, headers=key)
    assert r.status_code in (413, 422), r.text[:300]
    bomb = gzip.compress(b"[" + b" " * 50_000_000 + b"]")
    r = await client.post(
        "/api/v1/events/bulk",
        content=bomb,
        headers={**key, "Content-Type": "application/json", "Content-Encoding": "gzip"},
    )
    assert r.status_code == 413, r.text[:300]
    deep = "[" * 5000 + "]" * 5000
    for path in ("/api/v1/events", "/api/v1/events/bulk", "/api/v1/inquiry"):
        r = await client.post(path, content=deep, headers={**key, "Content-Type": "application/json"})
        assert 400 <= r.status_code < 500, (path, r.status_code, r.text[:200])
    nested = make_event(applicant={"national_id": {"a": [[[{"b": 1}]]]}})
    clean_4xx_or_ok(await client.post("/api/v1/events", json=nested, headers=key))


async def test_broken_encodings_and_invisible_characters(client: httpx.AsyncClient, creds: Creds) -> None:
    """Invalid UTF-8 is refused; bidi and zero-width characters are stripped or refused, never a 500."""
    key = {**creds["hcm"], "Content-Type": "application/json"}
    for body in (b'{"event_id": "\xff\xfe"}', b"\xc3\x28", b'[{"event_id": "a\xed\xa0\x80"}]', b"\x00\x00"):
        for path in ("/api/v1/events", "/api/v1/events/bulk", "/api/v1/inquiry"):
            r = await client.post(path, content=body, headers=key)
            assert 400 <= r.status_code < 500, (path, body, r.status_code)
    sneaky = "\u202eطلب\u200b رخصة\u2066\u200f\ufeff"
    r = await client.post(
        "/api/v1/events", json=make_event(title=sneaky, reference="BIDI\u200b-1"), headers=creds["hcm"]
    )
    clean_4xx_or_ok(r)
    if r.status_code == 201:
        detail = await client.get(f"/api/v1/staff/transactions/{r.json()['tracking_number']}", headers=creds["staff"])
        assert not any(ch in detail.json()["title"] for ch in "\u202e\u200b\u2066\u200f\ufeff")
    for q in (sneaky, "\u200b", "\u202e" * 50):
        clean_4xx_or_ok(await client.get("/api/v1/staff/search", params={"q": q}, headers=creds["staff"]))
    clean_4xx_or_ok(await client.post("/api/v1/inquiry", json={"reference": sneaky, "verifier": "\u200b0008"}))


INJECTIONS = [
    "*",
    "?",
    ":",
    "title:*",
    "*:*",
    "status:completed OR agency:MOHU",
    '{"query":{"match_all":{}}}',
    '"}},{"match_all":{}}',
    "\\",
    "\\\\*",
    "/.*/",
    "a~10",
    "((((((((",
    "' OR '1'='1",
    "1; DROP TABLE transactions; --",
    "%' OR 1=1 --",
    "MOHU' UNION SELECT * FROM api_keys --",
    "\u0000",
    "HCM\x00MOHU",
]
SEARCH_PARAMS = [
    "q",
    "status",
    "holder_agency",
    "counterpart_agency",
    "sector",
    "transaction_type",
    "agency",
    "direction",
    "created_from",
    "created_to",
    "updated_from",
    "updated_to",
    "sort",
    "cursor",
]


async def test_search_syntax_and_sql_injection(client: httpx.AsyncClient, creds: Creds) -> None:
    """Every search and lookup parameter: a clear 4xx or a harmless answer, never a foreign record."""
    foreign = creds["tracking"]["MOHU-SECRET-1"]
    seen: dict[int, int] = {}

    def note(r: httpx.Response) -> None:
        seen[r.status_code] = seen.get(r.status_code, 0) + 1
        clean_4xx_or_ok(r)

    for value in INJECTIONS:
        for param in SEARCH_PARAMS:
            r = await client.get("/api/v1/staff/search", params={param: value}, headers=creds["staff"])
            note(r)
            assert foreign not in r.text and "MOHU-SECRET" not in r.text, (param, value)
        for param in ("national_id", "mobile", "name", "reference"):
            note(await client.get("/api/v1/callcenter/lookup", params={param: value}, headers=creds["cc"]))
        for param in ("username", "agency", "action", "date_from", "date_to"):
            note(await client.get("/api/v1/admin/audit", params={param: value}, headers=creds["admin"]))
        note(await client.get("/api/v1/dashboard", params={"agency": value}, headers=creds["admin"]))
        r = await client.get(f"/api/v1/staff/transactions/{quote(value, safe='')}", headers=creds["staff"])
        note(r)
        assert foreign not in r.text
        r = await client.post("/api/v1/inquiry", json={"reference": value, "verifier": value[:40] or "x"})
        note(r)
        assert r.status_code in (404, 422, 429), (value, r.status_code)
    assert sum(seen.values()) > 300
