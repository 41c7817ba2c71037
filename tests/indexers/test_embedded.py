"""Embedded mode (SQLite, no Redis, no Elasticsearch): the in-process loop keeps the FTS5 table current."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import text

from app.agencies.service import sync_agencies
from app.auth.service import create_api_key
from app.main import create_app
from app.settings import Settings
from tests.fixtures.database import alembic_config
from tests.fixtures.factories import make_event
from tests.fixtures.services import TEST_SECRET


async def test_embedded_mode_indexes_into_fts5_in_process(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'inquiry.db'}"
    await asyncio.to_thread(command.upgrade, alembic_config(url), "head")
    settings = Settings(environment="development", database_url=url, secret_key=TEST_SECRET)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        resources = app.state.resources
        assert resources.kick_indexer is not None and resources.background
        async with resources.session_factory() as session:
            await sync_agencies(session, resources.catalog)
            _, key = await create_api_key(session, agency_code="HCM")
            await session.commit()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await client.post(
                "/api/v1/events",
                json=make_event(reference="1447/777", note={"text": "تم استلام الطلبات", "visibility": "public"}),
                headers={"Authorization": f"Bearer {key}"},
            )
        assert response.status_code == 201, response.text
        rows: list[tuple[int, str, str]] = []
        for _ in range(100):  # the kick after commit wakes the loop at once
            async with resources.session_factory() as session:
                rows = [
                    tuple(r)
                    for r in (
                        await session.execute(
                            text("SELECT rowid, body, names FROM transaction_fts WHERE transaction_fts MATCH 'طلب'")
                        )
                    ).all()
                ]
                outbox = await session.scalar(text("SELECT count(*) FROM outbox"))
            if rows and outbox == 0:
                break
            await asyncio.sleep(0.05)

    assert len(rows) == 1
    rowid, body, names = rows[0]
    # The stemmed title and public note; references are matched through their own table, not this text.
    assert rowid == 1 and body == "طلب رخص بناء سكن في حي عزيز تم استلام طلب" and names == "محمد عبدالله الحربي"
