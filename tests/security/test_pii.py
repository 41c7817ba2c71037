"""Raw national IDs and mobile numbers appear nowhere: not in logs, error bodies, answers or the search index.

Applicants are sent in many formats (Eastern digits, +966, spaces, dashes); the scan normalizes
digits and drops separators before looking, so a reformatted number is still found.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_scan

from app.resources import Resources
from app.settings import Settings
from tests.fixtures.factories import make_event
from tests.fixtures.services import ES_URL
from tests.search.support import sync_index

APPLICANTS = [  # (national_id as sent, mobile as sent)
    ("2000000006", "0559876543"),
    ("١٢٣٤٥٦٧٨٩٧", "+966 55 987 6544"),
    ("1000000016", "٠٥٥٩٨٧٦٥٤٥"),
    (" 2000000006 ", "(055) 987-6546"),
    ("1234567897", "966559876547"),
]
CORES = ["2000000006", "1234567897", "1000000016", *(f"55987654{n}" for n in range(3, 8))]
"""What identifies each person: the 10-digit ID and the mobile's 9-digit national number."""
INVALID = [("1000000009", "0559876548"), ("12345", "0559876549"), ("2000000006" * 3, "055987654")]
EASTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")
DIGIT_RUN = re.compile(r"\d[\d\s\-().+/]*\d")


def found_pii(text: str) -> list[str]:
    """Every sensitive number in ``text``, whatever digits and separators were used."""
    runs = ["".join(ch for ch in run if ch.isdigit()) for run in DIGIT_RUN.findall(text.translate(EASTERN))]
    cores = [*CORES, *(n for pair in INVALID for n in pair if len(n) >= 9)]
    return sorted({core for core in cores for run in runs if core in run})


@pytest.fixture
def app_settings(pg_settings: Settings, es_prefix: str) -> Settings:
    return pg_settings.model_copy(update={"elasticsearch_url": ES_URL, "index_prefix": es_prefix})


async def test_no_raw_identifiers_anywhere(
    client: httpx.AsyncClient,
    agency_key: Callable[[str], Awaitable[str]],
    staff_token: Callable[..., Awaitable[str]],
    resources: Resources,
    es: AsyncElasticsearch,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Ingest, fail, search, look up and inquire with real-looking numbers; then scan everything."""
    assert found_pii("id ١٢٣٤٥٦٧٨٩٧ and +966 55-987 6543") == ["1234567897", "559876543"]
    caplog.set_level(logging.DEBUG)
    auth = {"Authorization": f"Bearer {await agency_key('HCM')}"}
    answers: list[str] = []
    events = [
        make_event(reference=f"PII-{n}", applicant={"national_id": nid, "name": "سارة", "mobile": mobile})
        for n, (nid, mobile) in enumerate(APPLICANTS)
    ]
    r = await client.post("/api/v1/events/bulk", json=events, headers=auth)
    assert [i["outcome"] for i in r.json()["items"]] == ["created"] * len(events), r.text
    answers.append(r.text)
    for nid, mobile in INVALID:  # refused items must not echo what they refused
        for body in (
            make_event(applicant={"national_id": nid, "mobile": mobile}),
            make_event(applicant={"national_id": "2000000006", "mobile": "0559876543"}, status_code="nope"),
        ):
            r = await client.post("/api/v1/events", json=body, headers=auth)
            assert r.status_code == 422
            answers.append(r.text)
        answers.append((await client.post("/api/v1/events/bulk", json=[body], headers=auth)).text)
    await sync_index(resources)

    cc = {"Authorization": f"Bearer {await staff_token('call_center')}"}
    staff = {"Authorization": f"Bearer {await staff_token('staff', 'HCM')}"}
    for nid, mobile in [*APPLICANTS, *INVALID]:
        for params in ({"national_id": nid}, {"mobile": mobile}):
            answers.append((await client.get("/api/v1/callcenter/lookup", params=params, headers=cc)).text)
        answers.append((await client.get("/api/v1/staff/search", params={"q": nid}, headers=staff)).text)
        answers.append((await client.post("/api/v1/inquiry", json={"reference": "PII-0", "verifier": mobile})).text)
        answers.append((await client.post("/api/v1/inquiry", json={"reference": nid, "verifier": nid[-4:]})).text)
    detail = await client.get("/api/v1/staff/search", params={"q": "PII"}, headers=staff)
    assert detail.json()["total"] == len(APPLICANTS)
    answers.append(detail.text)

    documents: list[dict[str, Any]] = [
        hit["_source"]
        async for hit in async_scan(es, index=resources.settings.index_alias, query={"query": {"match_all": {}}})
    ]
    assert len(documents) == len(APPLICANTS)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records if not r.name.startswith("httpx"))
    out, err = capfd.readouterr()
    printed = "\n".join(line for line in (out + err).splitlines() if '"logger":"httpx"' not in line)
    findings = {
        "index": found_pii(str(documents)),
        "answers and error bodies": found_pii("\n".join(answers)),
        "log records": found_pii(logged),
        "stderr": found_pii(printed),
    }
    print(
        f"\nPII scan: {len(documents)} documents, {len(answers)} answers, {len(caplog.records)} log records: {findings}"
    )
    assert findings == {k: [] for k in findings}
