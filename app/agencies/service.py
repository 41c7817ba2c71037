"""Keeping the agencies table in step with config/agencies.yaml."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.loader import Catalog
from app.errors import NotFound
from app.models import Agency


@dataclass(frozen=True, slots=True)
class SyncReport:
    created: int
    updated: int
    unchanged: int


async def sync_agencies(session: AsyncSession, catalog: Catalog) -> SyncReport:
    """Insert new agencies and update changed names; agencies gone from config stay (history needs them)."""
    existing = {a.code: a for a in (await session.scalars(select(Agency))).all()}
    created = updated = unchanged = 0
    for spec in catalog.agencies.values():
        values = {
            "name_ar": spec.name_ar,
            "name_en": spec.name_en,
            "sector": spec.sector,
            "governorate": spec.governorate,
            "status_profile": spec.status_profile,
        }
        row = existing.get(spec.code)
        if row is None:
            session.add(Agency(code=spec.code, active=True, **values))
            created += 1
        elif any(getattr(row, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(row, k, v)
            updated += 1
        else:
            unchanged += 1
    await session.flush()
    return SyncReport(created=created, updated=updated, unchanged=unchanged)


async def list_agencies(session: AsyncSession, *, active_only: bool = False) -> Sequence[Agency]:
    query = select(Agency).order_by(Agency.code)
    if active_only:
        query = query.where(Agency.active.is_(True))
    return (await session.scalars(query)).all()


async def set_active(session: AsyncSession, *, code: str, active: bool) -> Agency:
    """Deactivating an agency stops its keys at once; its records stay searchable."""
    agency = await session.get(Agency, code)
    if agency is None:
        raise NotFound(f"unknown agency {code!r}")
    agency.active = active
    await session.flush()
    return agency
