"""The alembic revisions build the same schema on SQLite and PostgreSQL, and go down and up again."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, inspect, text

from app.models import Base
from tests.fixtures.database import alembic_config
from tests.fixtures.services import PG_SERVER, RUN_ID

EXPECTED = {t.name for t in Base.metadata.sorted_tables}


def in_thread(fn: object) -> None:
    """alembic's env.py runs its own event loop: keep it off the test's loop."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            fn()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join()
    if errors:
        raise errors[0]


def tables(sync_url: str) -> set[str]:
    engine = create_engine(sync_url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_sqlite_upgrade_downgrade_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{path}"
    in_thread(lambda: command.upgrade(alembic_config(url), "head"))
    found = tables(f"sqlite:///{path}")
    assert found >= EXPECTED and "transaction_fts" in found
    in_thread(lambda: command.downgrade(alembic_config(url), "base"))
    assert tables(f"sqlite:///{path}") <= {"alembic_version"}
    in_thread(lambda: command.upgrade(alembic_config(url), "head"))
    assert tables(f"sqlite:///{path}") >= EXPECTED


def test_postgres_upgrade_downgrade_upgrade() -> None:
    name = f"inquiry_migrate_{RUN_ID}"
    admin = create_engine(f"{PG_SERVER.replace('+asyncpg', '+psycopg')}/inquiry_test", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"{PG_SERVER}/{name}"
    sync_url = url.replace("+asyncpg", "+psycopg")
    try:
        in_thread(lambda: command.upgrade(alembic_config(url), "head"))
        assert tables(sync_url) >= EXPECTED
        assert "transaction_fts" not in tables(sync_url)
        in_thread(lambda: command.downgrade(alembic_config(url), "base"))
        assert tables(sync_url) <= {"alembic_version"}
        in_thread(lambda: command.upgrade(alembic_config(url), "head"))
        assert tables(sync_url) >= EXPECTED
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
