"""`inquiry index …` and `inquiry outbox status` against real PostgreSQL and Elasticsearch."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from tests.cli.test_cli import scalar
from tests.fixtures.services import ES_URL, PG_URL, TEST_SECRET


@pytest.fixture
def es_runner(db_engine: object, es_prefix: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("INQUIRY_DATABASE_URL", PG_URL)
    monkeypatch.setenv("INQUIRY_SECRET_KEY", TEST_SECRET)
    monkeypatch.setenv("INQUIRY_ENVIRONMENT", "test")
    monkeypatch.setenv("INQUIRY_ELASTICSEARCH_URL", ES_URL)
    monkeypatch.setenv("INQUIRY_INDEX_PREFIX", es_prefix)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_outbox_rebuild_verify_and_repair(es_runner: CliRunner) -> None:
    loaded = es_runner.invoke(cli, ["demo", "load", "--transactions", "25"])
    assert loaded.exit_code == 0, loaded.output
    status = es_runner.invoke(cli, ["outbox", "status"])
    assert status.exit_code == 0
    pending = scalar("select count(*) from outbox")
    assert pending and str(pending) in status.output

    rebuilt = es_runner.invoke(cli, ["index", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "25/25 documents" in rebuilt.output
    assert es_runner.invoke(cli, ["index", "verify"]).exit_code == 0

    # Seeded drift: the database moves ahead of the index for one transaction.
    engine_sql = "update transactions set version = version + 1 where id = (select min(id) from transactions)"
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_URL.replace("+asyncpg", "+psycopg"))
    with engine.begin() as conn:
        conn.execute(text(engine_sql))
    engine.dispose()
    drift = es_runner.invoke(cli, ["index", "verify"])
    assert drift.exit_code == 1
    assert es_runner.invoke(cli, ["index", "verify", "--repair"]).exit_code == 0
    assert es_runner.invoke(cli, ["index", "verify"]).exit_code == 0

    drained = es_runner.invoke(cli, ["index", "drain"])
    assert drained.exit_code == 0, drained.output
    assert scalar("select count(*) from outbox") == 0
    letters = es_runner.invoke(cli, ["index", "dead-letters"])
    assert letters.exit_code == 0 and "Dead letters" in letters.output


def test_index_commands_need_elasticsearch(db_engine: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INQUIRY_DATABASE_URL", PG_URL)
    monkeypatch.delenv("INQUIRY_ELASTICSEARCH_URL", raising=False)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["index", "rebuild"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert "ELASTICSEARCH_URL" in result.output
