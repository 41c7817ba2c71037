"""Tests for the reference catalog in config/ and its loader."""

from __future__ import annotations

import shutil
import unicodedata
from datetime import date
from pathlib import Path

import pytest

from app.catalog import (
    CANONICAL_STATUS_CODES,
    Catalog,
    CatalogError,
    StatusMapping,
    default_config_dir,
    get_catalog,
    load_catalog,
)

REQUIRED_PER_PROFILE = {
    "registered",
    "received",
    "under_review",
    "referred",
    "approved",
    "rejected",
    "completed",
    "cancelled",
}
GOVERNORATES = {
    "makkah", "jeddah", "taif", "qunfudhah", "lith", "rabigh", "jumum", "khulais", "kamil",
    "khurmah", "ranyah", "turabah", "muwayh", "maysan", "adham", "ardiyat", "bahrah",
}  # fmt: skip


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture
def config_copy(tmp_path: Path) -> Path:
    """A writable copy of the real config dir, to break on purpose."""
    dst = tmp_path / "config"
    shutil.copytree(default_config_dir(), dst)
    return dst


# --- agencies -------------------------------------------------------------------------------------


def test_at_least_100_agencies(catalog: Catalog) -> None:
    assert len(catalog.agencies) >= 110


def test_agency_codes_unique_and_keyed_by_code(catalog: Catalog) -> None:
    codes = [a.code for a in catalog.agencies.values()]
    assert len(codes) == len(set(codes))
    assert all(key == a.code for key, a in catalog.agencies.items())
    assert all(code.isascii() and code == code.upper() for code in codes)


def test_key_agencies_present(catalog: Catalog) -> None:
    for code in ("EMARAH-MAKKAH", "MOHU", "HCM", "JEDDAH-MUN", "TAIF-MUN", "GOV-JEDDAH", "POLICE-MAKKAH",
                 "CIVIL-DEF-MAKKAH", "PASSPORTS-MAKKAH", "RCMC", "UQU", "KAU", "UJ", "TU"):  # fmt: skip
        assert code in catalog.agencies, code
    assert catalog.agencies["HCM"].name_ar == "أمانة العاصمة المقدسة"


def test_every_governorate_has_an_office(catalog: Catalog) -> None:
    assert set(catalog.governorates) == GOVERNORATES
    emirate_govs = {a.governorate for a in catalog.agencies.values() if a.sector == "emirate"}
    assert emirate_govs == GOVERNORATES


def test_agency_references_resolve(catalog: Catalog) -> None:
    for agency in catalog.agencies.values():
        assert agency.status_profile in catalog.profiles
        assert agency.sector in catalog.sectors
        assert agency.governorate in catalog.governorates
        assert agency.name_ar and agency.name_en


def test_most_agencies_use_canonical_or_numeric(catalog: Catalog) -> None:
    common = sum(a.status_profile in {"canonical", "numeric"} for a in catalog.agencies.values())
    assert common > len(catalog.agencies) / 2


# --- statuses and profiles ------------------------------------------------------------------------


def test_statuses_exact_vocabulary(catalog: Catalog) -> None:
    assert tuple(catalog.statuses) == CANONICAL_STATUS_CODES
    assert len(CANONICAL_STATUS_CODES) == 14
    terminal = {c for c, s in catalog.statuses.items() if s.terminal}
    assert terminal == {"completed", "rejected", "cancelled"}
    for status in catalog.statuses.values():
        assert status.open_for_sla is not status.terminal
        assert status.label_ar and status.next_ar and status.next_en


def test_status_labels_from_domain(catalog: Catalog) -> None:
    assert catalog.statuses["under_review"].label_ar == "قيد الدراسة"
    assert catalog.statuses["awaiting_payment"].label_en == "Waiting for payment"


@pytest.mark.parametrize("profile", ["canonical", "numeric", "arabic", "legacy_en", "court"])
def test_profile_reaches_required_statuses(catalog: Catalog, profile: str) -> None:
    reached = {m.canonical for m in catalog.profiles[profile].codes.values()}
    assert reached >= REQUIRED_PER_PROFILE
    assert reached <= set(CANONICAL_STATUS_CODES)


def test_canonical_profile_covers_every_status(catalog: Catalog) -> None:
    reached = {m.canonical for m in catalog.profiles["canonical"].codes.values() if not m.reopen}
    assert reached == set(CANONICAL_STATUS_CODES)
    for code in CANONICAL_STATUS_CODES:
        assert catalog.profiles["canonical"].codes[code.upper()].canonical == code


def test_exactly_one_reopen_per_profile(catalog: Catalog) -> None:
    assert len(catalog.profiles) >= 5
    for profile in catalog.profiles.values():
        reopens = [m for m in profile.codes.values() if m.reopen]
        assert len(reopens) == 1, profile.name
        assert reopens[0].canonical == "under_review"


def test_map_status_normalizes_case_and_whitespace(catalog: Catalog) -> None:
    assert catalog.map_status("HCM", "  under_review ") == StatusMapping(canonical="under_review")
    assert catalog.map_status("hcm", "Completed") == StatusMapping(canonical="completed")
    assert catalog.map_status("UQU", " rcvd\t") == StatusMapping(canonical="received")
    assert catalog.map_status("KAU", " 90 ") == StatusMapping(canonical="completed")
    assert catalog.map_status("GOV-KAMIL", " منجزة ") == StatusMapping(canonical="completed")
    assert catalog.map_status("COURT-GENERAL-JEDDAH", "struck-off") == StatusMapping(canonical="cancelled")


def test_map_status_reopen(catalog: Catalog) -> None:
    mapping = catalog.map_status("JEDDAH-MUN", "reopened")
    assert mapping is not None and mapping.reopen and mapping.canonical == "under_review"
    assert catalog.map_status("KAU", "31") == StatusMapping(canonical="under_review", reopen=True)


def test_map_status_unknown_returns_none(catalog: Catalog) -> None:
    assert catalog.map_status("HCM", "NOPE") is None
    assert catalog.map_status("HCM", "") is None
    assert catalog.map_status("KAU", "DONE") is None  # legacy code, not in the numeric profile


def test_unknown_agency_raises_key_error(catalog: Catalog) -> None:
    with pytest.raises(KeyError, match="NO-SUCH-AGENCY"):
        catalog.map_status("NO-SUCH-AGENCY", "10")


def test_known_codes_sorted(catalog: Catalog) -> None:
    codes = catalog.known_codes("KAU")
    assert codes == sorted(codes)
    assert {"10", "90", "99", "31"} <= set(codes)
    assert "REGISTERED" in catalog.known_codes("HCM")


# --- per-agency files -----------------------------------------------------------------------------


def test_override_merged_over_profile(catalog: Catalog) -> None:
    merged = catalog.status_map_for("RABIGH-MUN")
    # override-only code
    assert merged["مصدرة"] == StatusMapping(canonical="ready_for_collection")
    assert catalog.map_status("RABIGH-MUN", " لدى اللجنة الفنية ") == StatusMapping(canonical="under_review")
    # profile codes still present
    assert merged["منجزة"] == StatusMapping(canonical="completed")
    assert set(catalog.profiles["arabic"].codes) < set(merged)
    # another agency on the same profile does not see the override
    assert catalog.map_status("GOV-KAMIL", "مصدرة") is None
    # numeric override
    assert catalog.map_status("MEWA-TAIF", "65") == StatusMapping(canonical="approved")
    assert catalog.map_status("MEWA-JEDDAH", "65") is None


def test_status_map_for_returns_copy(catalog: Catalog) -> None:
    merged = catalog.status_map_for("HCM")
    merged.clear()
    assert catalog.map_status("HCM", "completed") is not None


def test_import_spec(catalog: Catalog) -> None:
    spec = catalog.import_spec("RABIGH-MUN")
    assert spec is not None
    assert spec.columns["رقم المعاملة"] == "reference"
    assert spec.columns["الحالة"] == "status_code"
    assert spec.columns["رقم الحركة"] == "event_id"
    assert spec.date_format == "%d/%m/%Y %H:%M"
    assert catalog.import_spec("HCM") is None
    assert len(catalog.import_specs) >= 2


# --- transaction types, holidays ------------------------------------------------------------------


def test_transaction_types(catalog: Catalog) -> None:
    assert len(catalog.transaction_types) >= 20
    for code in ("building_permit", "hajj_permit", "court_case", "death_certificate", "complaint"):
        tt = catalog.transaction_types[code]
        assert tt.sla_working_days >= 1
        assert 2 <= len(tt.subjects_ar) <= 4 and 2 <= len(tt.subjects_en) <= 4


def test_holidays_and_weekend(catalog: Catalog) -> None:
    assert catalog.weekend_days == frozenset({4, 5})
    for year in (2025, 2026, 2027):
        assert date(year, 2, 22) in catalog.holidays
        assert date(year, 9, 23) in catalog.holidays
    assert date(2025, 3, 30) in catalog.holidays  # Eid al-Fitr 1446
    assert date(2025, 6, 6) in catalog.holidays  # Eid al-Adha 1446
    assert not catalog.is_working_day(date(2026, 12, 4))  # Friday
    assert catalog.is_working_day(date(2026, 12, 6))  # Sunday
    assert not catalog.is_working_day(date(2026, 9, 23))


def test_resolve_agency(catalog: Catalog) -> None:
    assert catalog.resolve_agency("أمانة العاصمة المقدسة") is catalog.agencies["HCM"]
    assert catalog.resolve_agency(" jeddah-mun ") is catalog.agencies["JEDDAH-MUN"]
    assert catalog.resolve_agency("taif municipality") is catalog.agencies["TAIF-MUN"]
    assert catalog.resolve_agency("مجهولة") is None


def test_get_catalog_cached() -> None:
    assert get_catalog() is get_catalog()
    assert len(get_catalog().agencies) >= 100


# --- broken configurations ------------------------------------------------------------------------


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_unknown_canonical_in_profile(config_copy: Path) -> None:
    _replace(config_copy / "status_profiles.yaml", "RCVD: {canonical: received}", "RCVD: {canonical: recieved}")
    with pytest.raises(CatalogError, match=r"profile 'legacy_en'.*'RCVD'.*unknown canonical status 'recieved'"):
        load_catalog(config_copy)


def test_unknown_profile_sector_governorate(config_copy: Path) -> None:
    agencies = config_copy / "agencies.yaml"
    _replace(agencies, "name_en: Holy Capital Municipality, sector: municipal, governorate: makkah, "
             "status_profile: canonical", "name_en: Holy Capital Municipality, sector: municiple, "
             "governorate: mecca, status_profile: sap")  # fmt: skip
    with pytest.raises(CatalogError) as info:
        load_catalog(config_copy)
    text = str(info.value)
    assert "(HCM)" in text
    assert "unknown sector 'municiple'" in text
    assert "unknown governorate 'mecca'" in text
    assert "unknown status_profile 'sap'" in text


def test_duplicate_agency_code(config_copy: Path) -> None:
    _replace(config_copy / "agencies.yaml", "{code: TAIF-MUN,", "{code: JEDDAH-MUN,")
    with pytest.raises(CatalogError, match="duplicate agency code 'JEDDAH-MUN'"):
        load_catalog(config_copy)


def test_duplicate_raw_code_yaml_key(config_copy: Path) -> None:
    _replace(config_copy / "status_profiles.yaml", '"20": {canonical: received}',
             '"20": {canonical: received}\n      "20": {canonical: completed}')  # fmt: skip
    with pytest.raises(CatalogError, match="duplicate key '20'"):
        load_catalog(config_copy)


def test_duplicate_raw_code_after_normalization(config_copy: Path) -> None:
    _replace(config_copy / "status_profiles.yaml", "RCVD: {canonical: received}",
             "RCVD: {canonical: received}\n      ' rcvd': {canonical: received}")  # fmt: skip
    with pytest.raises(CatalogError, match="duplicate raw code 'RCVD' after normalization"):
        load_catalog(config_copy)


def test_two_reopens_rejected(config_copy: Path) -> None:
    _replace(config_copy / "status_profiles.yaml", "      HOLD: {canonical: on_hold}",
             "      HOLD: {canonical: under_review, reopen: true}")  # fmt: skip
    with pytest.raises(CatalogError, match="profile 'legacy_en' must have exactly one reopen code, found 2"):
        load_catalog(config_copy)


def test_unquoted_numeric_code_rejected(config_copy: Path) -> None:
    _replace(config_copy / "status_profiles.yaml", '"10": {canonical: registered}', "10: {canonical: registered}")
    with pytest.raises(CatalogError, match="raw code 10 must be a string"):
        load_catalog(config_copy)


def test_bad_import_column_and_unknown_agency_file(config_copy: Path) -> None:
    _replace(config_copy / "agencies" / "RABIGH-MUN.yaml", '"الموضوع": title', '"الموضوع": subject')
    (config_copy / "agencies" / "NO-SUCH.yaml").write_text("status_overrides: {}\n", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        load_catalog(config_copy)
    text = str(info.value)
    assert "agencies/RABIGH-MUN.yaml: import.columns maps to unknown event fields ['subject']" in text
    assert "agencies/NO-SUCH.yaml: file name does not match any agency code" in text


def test_missing_status_in_vocabulary(config_copy: Path) -> None:
    path = config_copy / "statuses.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  - code: returned")
    end = text.index("  - code: cancelled")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    with pytest.raises(CatalogError, match=r"statuses.yaml: must define exactly .*missing: \['returned'\]"):
        load_catalog(config_copy)


def test_missing_file_and_dir(tmp_path: Path, config_copy: Path) -> None:
    with pytest.raises(CatalogError, match="config directory not found"):
        load_catalog(tmp_path / "nope")
    (config_copy / "holidays.yaml").unlink()
    with pytest.raises(CatalogError, match=r"holidays\.yaml: file not found"):
        load_catalog(config_copy)


def test_bad_weekend_day(config_copy: Path) -> None:
    _replace(config_copy / "holidays.yaml", "weekend: [friday, saturday]", "weekend: [friday, sabt]")
    with pytest.raises(CatalogError, match="unknown weekend day 'sabt'"):
        load_catalog(config_copy)


def test_raw_codes_are_nfc_single_spaced(catalog: Catalog) -> None:
    """Ingestion cleans raw codes to NFC with single spaces before lookup; keys must match that form."""
    for code in catalog.agencies:
        for raw in catalog.known_codes(code):
            assert raw == unicodedata.normalize("NFC", raw) == " ".join(raw.split()), (code, raw)
