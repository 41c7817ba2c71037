"""The pure document builder: what goes into the index, and what never does."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from app.catalog.loader import Catalog
from app.models import StatusEvent, Transaction, TransactionReference
from app.normalization.arabic import name_key, searchable_text
from app.normalization.identity import keyed_hash
from indexers.documents import build_document
from indexers.mapping import index_mappings

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
NOW = T0 + timedelta(days=20)
NATIONAL_ID = "1000000008"
MOBILE = "966551234567"


def _event(n: int, agency: str, status: str, days: float, **kw: Any) -> StatusEvent:
    fields: dict[str, Any] = {
        "id": n,
        "transaction_id": 1,
        "agency_code": agency,
        "event_id": f"EV-{n}",
        "reference_key": f"R{n}",
        "raw_status_code": status.upper(),
        "status": status,
        "reopen": False,
        "occurred_at": T0 + timedelta(days=days),
        "received_at": T0 + timedelta(days=days),
        "sequence": None,
        "from_agency": None,
        "to_agency": None,
        "note": None,
        "note_visibility": "public",
        "due_at": None,
        "payload_hash": "x",
    }
    fields.update(kw)
    return StatusEvent(**fields)


def _transaction(**kw: Any) -> Transaction:
    fields: dict[str, Any] = {
        "id": 1,
        "tracking_number": "MK-2026-4F7K2Q-8",
        "transaction_type": "building_permit",
        "title": "طلب رخصة بناء سكني في حي العزيزية",
        "applicant_name": "محمد عبدالله الحربي",
        "applicant_name_key": name_key("محمد عبدالله الحربي"),
        "national_id_hash": keyed_hash(NATIONAL_ID, "secret"),
        "national_id_last4": NATIONAL_ID[-4:],
        "mobile_hash": keyed_hash(MOBILE, "secret"),
        "mobile_last4": MOBILE[-4:],
        "status": "under_review",
        "holder_agency": "HCM",
        "origin_agency": "EMARAH-MAKKAH",
        "created_at": T0,
        "updated_at": T0 + timedelta(days=4),
        "due_at": None,
        "completed_at": None,
        "last_received_at": T0 + timedelta(days=4),
        "version": 3,
    }
    fields.update(kw)
    return Transaction(**fields)


def _refs() -> list[TransactionReference]:
    return [
        TransactionReference(
            id=1, transaction_id=1, agency_code="EMARAH-MAKKAH", reference_key="14473456", reference_display="1447/3456"
        ),
        TransactionReference(
            id=2, transaction_id=1, agency_code="HCM", reference_key="HCM99", reference_display="HCM-99"
        ),
    ]


def _handover_events() -> list[StatusEvent]:
    return [
        _event(1, "EMARAH-MAKKAH", "received", 0, note="ملاحظة للعموم عن الطلبات"),
        _event(
            2,
            "EMARAH-MAKKAH",
            "referred",
            1,
            to_agency="HCM",
            note="سري: رقم الهوية 1000000008",
            note_visibility="internal",
        ),
        _event(3, "HCM", "received", 1.5, from_agency="EMARAH-MAKKAH"),
        _event(4, "HCM", "under_review", 4),
    ]


def test_references_are_listed_and_flattened(catalog: Catalog) -> None:
    doc = build_document(_transaction(), _refs(), _handover_events(), catalog, NOW)

    assert doc["references"] == [
        {"agency": "EMARAH-MAKKAH", "key": "14473456", "display": "1447/3456"},
        {"agency": "HCM", "key": "HCM99", "display": "HCM-99"},
    ]
    assert doc["reference_keys"] == ["14473456", "HCM99"]
    assert doc["tracking_number"] == "MK-2026-4F7K2Q-8"
    assert doc["version"] == 3 and doc["id"] == 1


def test_handover_sets_incoming_outgoing_agencies_sectors_and_durations(catalog: Catalog) -> None:
    doc = build_document(_transaction(), _refs(), _handover_events(), catalog, NOW)

    assert doc["holder_agency"] == "HCM" and doc["origin_agency"] == "EMARAH-MAKKAH"
    assert set(doc["agencies"]) == {"EMARAH-MAKKAH", "HCM"}
    assert doc["outgoing_agencies"] == ["EMARAH-MAKKAH"]
    assert doc["incoming_agencies"] == ["HCM"]
    assert doc["sector"] == catalog.agencies["HCM"].sector
    assert set(doc["sectors"]) == {catalog.agencies["HCM"].sector, catalog.agencies["EMARAH-MAKKAH"].sector}
    durations = {d["agency"]: d["days"] for d in doc["agency_durations"]}
    assert durations["EMARAH-MAKKAH"] == 1.0  # received day 0, handed over on day 1
    assert durations["HCM"] == 19.0  # from the referral (day 1) until now (day 20)
    assert doc["elapsed_days"] == 20.0
    assert doc["status_terminal"] is False and doc["overdue"] is False


def test_internal_notes_and_raw_identifiers_never_reach_the_document(catalog: Catalog) -> None:
    doc = build_document(_transaction(), _refs(), _handover_events(), catalog, NOW)
    dumped = json.dumps(doc, ensure_ascii=False)

    assert "سري" not in dumped
    assert NATIONAL_ID not in dumped and MOBILE not in dumped and "551234567" not in dumped
    assert doc["national_id_last4"] == "0008" and doc["mobile_last4"] == "4567"
    assert doc["notes_norm"] == searchable_text("ملاحظة للعموم عن الطلبات", stem=True)
    assert [t["note"] for t in doc["timeline"]] == ["ملاحظة للعموم عن الطلبات", None, None, None]


def test_normalized_fields_use_the_shared_normalizer(catalog: Catalog) -> None:
    doc = build_document(_transaction(title="إصدار رخصةٌ"), _refs(), _handover_events(), catalog, NOW)

    assert doc["title"] == "إصدار رخصةٌ"
    assert doc["title_norm"] == searchable_text("إصدار رخصةٌ", stem=True)
    assert doc["applicant_name_norm"] == name_key("محمد عبدالله الحربي")


def test_completed_transaction_stops_the_clock_and_is_never_overdue(catalog: Catalog) -> None:
    done = T0 + timedelta(days=5)
    events = [
        _event(1, "HCM", "received", 0, due_at=T0 + timedelta(days=3)),
        _event(2, "HCM", "completed", 5),
        _event(3, "HCM", "under_review", 6),  # after a terminal status without reopen: ignored
    ]
    tx = _transaction(
        status="completed", holder_agency="HCM", origin_agency="HCM", completed_at=done, due_at=T0 + timedelta(days=3)
    )
    doc = build_document(tx, [], events, catalog, NOW)

    assert doc["status_terminal"] is True and doc["overdue"] is False
    assert doc["elapsed_days"] == 5.0
    assert doc["agency_durations"] == [{"agency": "HCM", "days": 5.0}]


def test_open_transaction_past_due_is_overdue(catalog: Catalog) -> None:
    tx = _transaction(due_at=T0 + timedelta(days=10))
    assert build_document(tx, _refs(), _handover_events(), catalog, NOW)["overdue"] is True
    assert build_document(tx, _refs(), _handover_events(), catalog, T0 + timedelta(days=9))["overdue"] is False


def test_document_fields_match_the_strict_mapping(catalog: Catalog) -> None:
    doc = build_document(_transaction(), _refs(), _handover_events(), catalog, NOW)
    assert set(doc) == set(index_mappings()["properties"])
