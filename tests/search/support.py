"""Fixtures shared by the search, staff and dashboard tests: a backend switch, ingestion and a dataset.

Data enters the product the real way (the ingestion API), then the outbox is drained with the
indexers' own drain into the configured sink, and the index is refreshed explicitly (no sleeps).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.agencies.service import sync_agencies
from app.catalog.loader import load_catalog
from app.db import create_engine, create_session_factory
from app.normalization.dates import RIYADH
from app.resources import Resources
from app.settings import Settings
from indexers.pipeline import drain_outbox, make_sink
from tests.fixtures.database import alembic_config
from tests.fixtures.factories import bulk_ingester, make_event
from tests.fixtures.services import ES_URL

Ingest = Callable[[str, list[dict[str, Any]]], Awaitable[list[dict[str, Any]]]]
# Noon in Riyadh twenty days ago: the first files are created on one Saudi calendar day whatever the hour the
# suite runs (dates people type are Riyadh days; a UTC anchor after 21:00 put them on the next one).
BASE = (datetime.now(RIYADH) - timedelta(days=20)).replace(hour=12, minute=0, second=0, microsecond=0).astimezone(UTC)


@pytest.fixture(params=["database", "elasticsearch", "sqlite"])
def backend_name(request: pytest.FixtureRequest) -> str:
    """database = SQL on PostgreSQL; sqlite = the embedded mode (SQLite file, FTS5)."""
    return str(request.param)


def reported_backend(backend_name: str) -> str:
    """The backend the API names: the embedded mode is the database backend on SQLite."""
    return "database" if backend_name == "sqlite" else backend_name


def migrated_sqlite(path: Path) -> str:
    """A fresh SQLite file migrated with alembic and holding the agencies, as `make demo` builds it."""
    url = f"sqlite+aiosqlite:///{path}"

    def _build() -> None:
        command.upgrade(alembic_config(url), "head")

        async def _agencies() -> None:
            engine = create_engine(Settings(database_url=url))
            async with create_session_factory(engine)() as session:
                await sync_agencies(session, load_catalog())
                await session.commit()
            await engine.dispose()

        asyncio.run(_agencies())

    worker = threading.Thread(target=_build)  # alembic's env runs its own event loop
    worker.start()
    worker.join()
    return url


@pytest.fixture
def app_settings(pg_settings: Settings, backend_name: str, request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """The app on PostgreSQL (database or per-test Elasticsearch index), or embedded on SQLite."""
    if backend_name == "database":
        return pg_settings.model_copy(update={"search_backend": "database"})
    if backend_name == "sqlite":
        return pg_settings.model_copy(
            update={"search_backend": "database", "database_url": migrated_sqlite(tmp_path / "embedded.db")}
        )
    prefix = request.getfixturevalue("es_prefix")
    return pg_settings.model_copy(
        update={"elasticsearch_url": ES_URL, "search_backend": "elasticsearch", "index_prefix": prefix}
    )


async def sync_index(resources: Resources) -> None:
    """Drain the outbox into the configured sink and make it searchable now."""
    await drain_outbox(
        resources.session_factory, make_sink(resources.settings, resources.elasticsearch), catalog=resources.catalog
    )
    if resources.elasticsearch is not None:
        await resources.elasticsearch.indices.refresh(index=resources.settings.index_alias)


@pytest.fixture
def session_factory(
    backend_name: str, db_engine: AsyncEngine, request: pytest.FixtureRequest
) -> async_sessionmaker[AsyncSession]:
    """Credentials and rows live where the app under test keeps them (SQLite in embedded mode)."""
    if backend_name == "sqlite":
        resources: Resources = request.getfixturevalue("resources")
        return resources.session_factory
    return create_session_factory(db_engine)


@pytest.fixture
def ingest(client: httpx.AsyncClient, agency_key: Any, resources: Resources) -> Ingest:
    """Ingest through the API, then drain into the configured sink so the data is searchable at once."""
    return bulk_ingester(client, agency_key, after=lambda: sync_index(resources))


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat()


FAR_DUE = "2099-12-31"


def ev(**kw: Any) -> dict[str, Any]:
    """An event whose due date is explicit, so "overdue" never depends on today's date and the type's rule."""
    kw.setdefault("due_date", FAR_DUE)
    return make_event(**kw)


async def load_dataset(ingest: Ingest) -> dict[str, str]:
    """~30 transactions over four agencies; returns tracking numbers by a readable name."""
    names: dict[str, str] = {}
    hcm = [
        ev(
            reference="١٤٤٧/٣٤٥٦",
            title="مدرسة الأمل الأهلية: طلب رخصة تشغيل",
            occurred_at=at(1),
            status_code="received",
            transaction_type="commercial_license",
            applicant={"national_id": "1000000008", "name": "أحمد مصطفى الزهراني", "mobile": "0551234567"},
            note={"text": "أحيلت إلى لجنة المراجعة الفنية", "visibility": "public"},
        ),
        ev(
            reference="HCM-OVERDUE-1",
            title="Building permit in Al-Aziziyah",
            occurred_at=at(2),
            status_code="under_review",
            due_date="2020-01-05",
            applicant={"national_id": "1234567897", "name": "Sara Khalid", "mobile": "+966 50 000 0001"},
            note={"text": "سري: ملاحظة داخلية للأمانة فقط", "visibility": "internal"},
        ),
    ]
    for i in range(22):
        hcm.append(ev(reference=f"HCM-BULK-{i:03d}", title=f"ملف صيانة رقم {i}", occurred_at=at(10 + i)))
    items = await ingest("HCM", hcm)
    names["school"], names["overdue"] = items[0]["tracking_number"], items[1]["tracking_number"]
    names["bulk0"] = items[2]["tracking_number"]

    # A handover GOV-JEDDAH → HCM: outgoing for GOV-JEDDAH, incoming for HCM.
    out = await ingest(
        "GOV-JEDDAH",
        [
            ev(
                reference="GJ-100",
                title="شكوى بخصوص تسرب مياه",
                transaction_type="complaint",
                occurred_at=at(40),
                status_code="referred",
                to_agency="HCM",
            )
        ],
    )
    names["handover"] = out[0]["tracking_number"]
    await ingest(
        "HCM",
        [
            ev(
                reference="HCM-900",
                from_agency="GOV-JEDDAH",
                from_reference="GJ-100",
                occurred_at=at(41),
                status_code="under_review",
            )
        ],
    )
    # Jeddah municipality only: other agencies' staff must never see these.
    jm = await ingest(
        "JEDDAH-MUN",
        [
            ev(reference="JM-1", title="طلب رخصة بناء في جدة", occurred_at=at(50), status_code="received"),
            ev(reference="JM-2", title="مدرسة أهلية في جدة", occurred_at=at(51), status_code="received"),
        ],
    )
    names["jm1"], names["jm2"] = jm[0]["tracking_number"], jm[1]["tracking_number"]
    # Closed transactions for processing times: 1, 2 and 4 days at MOH-MAKKAH.
    moh_open = [
        ev(
            reference=f"MOH-{d}",
            title="تقرير طبي",
            transaction_type="medical_report",
            occurred_at=at(60 + d),
            status_code="received",
        )
        for d in (1, 2, 4)
    ]
    await ingest("MOH-MAKKAH", moh_open)
    await ingest(
        "MOH-MAKKAH",
        [
            ev(
                reference=f"MOH-{d}",
                occurred_at=at(60 + d + 24 * d),
                status_code="completed",
                transaction_type="medical_report",
            )
            for d in (1, 2, 4)
        ],
    )
    return names
