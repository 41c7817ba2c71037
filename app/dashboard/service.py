"""Dashboard numbers: aggregations from the search backend, the scorecard from SQL, labels from the catalog."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import StaffPrincipal
from app.catalog.loader import Catalog
from app.dashboard import repository
from app.dashboard.schemas import (
    AgencyCountOut,
    BottleneckOut,
    DailyOut,
    DashboardOut,
    DashboardParams,
    FlowOut,
    ProcessingOut,
    ScorecardRow,
    StatusCount,
)
from app.errors import Forbidden, UnprocessableEntity
from app.normalization.dates import to_hijri_string
from app.normalization.errors import NormalizationError
from app.search.backend import SearchBackend
from app.search.types import AccessScope, DashboardQuery


def dashboard_scope(principal: StaffPrincipal, params: DashboardParams, catalog: Catalog) -> AccessScope:
    """Managers see their agency only; admins the region or the agency they pick."""
    wanted = params.agency.strip().upper() if params.agency else None
    if wanted is not None and wanted not in catalog.agencies:
        raise UnprocessableEntity([{"field": "agency", "message": f"unknown agency {params.agency!r}"}])
    if principal.role == "admin":
        return AccessScope(agency_code=wanted)
    if wanted is not None and wanted != principal.agency_code:
        raise Forbidden("managers see their own agency's dashboard only")
    if not principal.agency_code:
        raise Forbidden("this account belongs to no agency")
    return AccessScope(agency_code=principal.agency_code)


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


def _hijri(day: str) -> str | None:
    try:
        return to_hijri_string(date.fromisoformat(day))
    except NormalizationError:
        return None


async def scorecard(session: AsyncSession, *, scope: AccessScope, catalog: Catalog) -> list[ScorecardRow]:
    rows = []
    counts = await repository.feed_counts(session, agency_code=scope.agency_code)
    for agency, c in sorted(counts.items()):
        received = c.events + c.rejected + c.duplicates + c.conflicts
        rows.append(
            ScorecardRow(
                agency=agency,
                name_ar=catalog.agency_names(agency)[0],
                last_event_received_at=c.last_received_at,
                events=c.events,
                rejected=c.rejected,
                duplicates=c.duplicates,
                conflicts=c.conflicts,
                unknown_status=c.unknown_status,
                out_of_order=c.out_of_order,
                rejected_rate=_rate(c.rejected, received),
                unknown_status_rate=_rate(c.unknown_status, received),
                duplicate_rate=_rate(c.duplicates, received),
                out_of_order_rate=_rate(c.out_of_order, c.events),
            )
        )
    return rows


async def build_dashboard(
    session: AsyncSession,
    *,
    backend: SearchBackend,
    principal: StaffPrincipal,
    params: DashboardParams,
    catalog: Catalog,
    now: datetime | None = None,
) -> DashboardOut:
    """The whole dashboard for the caller's scope."""
    now = now or datetime.now(UTC)
    scope = dashboard_scope(principal, params, catalog)
    data = await backend.dashboard(DashboardQuery(now=now, days=params.days), scope)

    def name(code: str) -> str:
        return catalog.agency_names(code)[0]

    def status_count(code: str, count: int) -> StatusCount:
        label_ar, label_en = catalog.status_names(code)
        return StatusCount(status=code, label_ar=label_ar, label_en=label_en, count=count)

    return DashboardOut(
        backend=backend.name,
        scope=scope.agency_code or "region",
        generated_at=now,
        total=data.total,
        by_status=[status_count(b.value, b.count) for b in data.by_status],
        flows=[
            FlowOut(agency=f.agency, name_ar=name(f.agency), incoming=f.incoming, outgoing=f.outgoing)
            for f in data.flows
        ],
        top_agencies=[
            AgencyCountOut(agency=a.agency, name_ar=name(a.agency), count=a.count) for a in data.top_agencies
        ],
        overdue_by_agency=[
            AgencyCountOut(agency=a.agency, name_ar=name(a.agency), count=a.count) for a in data.overdue_by_agency
        ],
        processing=[
            ProcessingOut(
                agency=p.agency,
                transaction_type=p.transaction_type,
                count=p.count,
                median_days=p.median_days,
                p90_days=p.p90_days,
            )
            for p in data.processing
        ],
        daily=[DailyOut(day=d.day, hijri=_hijri(d.day), count=d.count) for d in data.daily],
        bottlenecks=[
            BottleneckOut(
                agency=b.agency,
                name_ar=name(b.agency),
                open_count=b.count,
                median_wait_days=b.median_wait_days,
                max_wait_days=b.max_wait_days,
            )
            for b in data.bottlenecks
        ],
        scorecard=await scorecard(session, scope=scope, catalog=catalog),
    )
