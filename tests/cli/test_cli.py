"""The admin CLI against the real PostgreSQL test database: exit codes, output and effects."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine as create_sync_engine
from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from tests.fixtures.services import PG_URL, TEST_SECRET


@pytest.fixture
def runner(db_engine: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("INQUIRY_DATABASE_URL", PG_URL)
    monkeypatch.setenv("INQUIRY_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("INQUIRY_ENVIRONMENT", "test")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def scalar(sql: str) -> object:
    engine = create_sync_engine(PG_URL.replace("+asyncpg", "+psycopg"))
    with engine.connect() as conn:
        value = conn.execute(text(sql)).scalar()
    engine.dispose()
    return value


def test_keys_lifecycle(runner: CliRunner) -> None:
    created = runner.invoke(cli, ["keys", "create", "--agency", "MOHU", "--name", "integration"])
    assert created.exit_code == 0, created.output
    plaintext = created.output.strip().splitlines()[-1]
    assert plaintext.startswith("uiak_")
    key_id = plaintext.split("_")[1]
    stored = scalar(f"select key_hash from api_keys where key_id = '{key_id}'")
    assert stored and plaintext.split("_", 2)[2] not in str(stored), "only a hash is stored"
    listing = runner.invoke(cli, ["keys", "list", "--agency", "MOHU"])
    assert key_id in listing.output and plaintext not in listing.output
    rotated = runner.invoke(cli, ["keys", "rotate", key_id])
    assert rotated.exit_code == 0
    assert scalar("select count(*) from api_keys where agency_code='MOHU' and revoked_at is null") == 2
    assert runner.invoke(cli, ["keys", "revoke", key_id]).exit_code == 0
    assert scalar(f"select revoked_at is not null from api_keys where key_id = '{key_id}'") is True
    unknown = runner.invoke(cli, ["keys", "create", "--agency", "NOPE"])
    assert unknown.exit_code == 1


def test_users_and_tokens(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["users", "create", "amal", "--role", "staff", "--agency", "HCM"]).exit_code == 0
    missing_agency = runner.invoke(cli, ["users", "create", "badstaff", "--role", "staff"])
    assert missing_agency.exit_code == 1
    token = runner.invoke(cli, ["users", "token", "amal", "--hours", "2"])
    assert token.exit_code == 0
    assert token.output.strip().splitlines()[-1].startswith("uist_")
    assert "amal" in runner.invoke(cli, ["users", "list"]).output
    assert runner.invoke(cli, ["users", "deactivate", "amal"]).exit_code == 0
    assert scalar("select active from staff_users where username='amal'") is False


def test_agencies_list_and_deactivate(runner: CliRunner) -> None:
    listing = runner.invoke(cli, ["agencies", "list"])
    assert listing.exit_code == 0 and "HCM" in listing.output
    assert runner.invoke(cli, ["agencies", "deactivate", "HCM"]).exit_code == 0
    assert scalar("select active from agencies where code='HCM'") is False
    assert runner.invoke(cli, ["agencies", "load"]).exit_code == 0


def write_register(path: Path) -> None:
    headers = [
        "رقم الحركة",
        "رقم المعاملة",
        "نوع المعاملة",
        "الموضوع",
        "الحالة",
        "التاريخ",
        "رقم الهوية",
        "اسم المستفيد",
        "الجوال",
        "محالة إلى",
        "واردة من",
        "رقم الجهة المحيلة",
        "ملاحظة",
    ]
    rows = [
        [
            "R-1",
            "٤٥/١٢",
            "building_permit",
            "رخصة بناء في رابغ",
            "لدى اللجنة الفنية",
            "01/11/2026 09:30",
            "1000000008",
            "فهد الحربي",
            "0551234567",
            "",
            "",
            "",
            "وصل الطلب",
        ],
        ["R-2", "45/12", "", "", "محفوظة", "03/11/2026 10:00", "", "", "", "", "", "", ""],
        [
            "R-3",
            "45/13",
            "building_permit",
            "طلب آخر",
            "حالة غير معروفة",
            "03/11/2026 10:00",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
        [
            "R-4",
            "45/14",
            "building_permit",
            "طلب ثالث",
            "لدى اللجنة الفنية",
            "32/13/2026 10:00",
            "",
            "",
            "",
            "",
            "",
            "",
            "",
        ],
    ]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(headers)
        writer.writerows(rows)


def test_import_csv_is_validated_and_rerunnable(runner: CliRunner, tmp_path: Path) -> None:
    register = tmp_path / "rabigh.csv"
    write_register(register)
    first = runner.invoke(cli, ["import", str(register), "--agency", "RABIGH-MUN"])
    assert first.exit_code == 2, first.output  # some rows were rejected
    assert "'created': 2" in first.output
    report = (tmp_path / "rabigh.rejected.csv").read_text(encoding="utf-8-sig")
    assert "unknown_status" in report and "occurred_at" in report
    assert scalar("select status from transactions") == "completed"
    again = runner.invoke(cli, ["import", str(register), "--agency", "RABIGH-MUN"])
    assert "'duplicate': 2" in again.output
    assert scalar("select count(*) from status_events") == 2


def test_import_needs_a_column_map(runner: CliRunner, tmp_path: Path) -> None:
    register = tmp_path / "x.csv"
    write_register(register)
    result = runner.invoke(cli, ["import", str(register), "--agency", "HCM"])
    assert result.exit_code == 1
