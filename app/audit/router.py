"""``GET /api/v1/admin/audit``: admins read who searched and viewed what."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from app.audit.schemas import AuditEntryOut, AuditPage, AuditParams
from app.auth.service import StaffPrincipal
from app.deps import SessionDep, require_roles
from app.errors import ERROR_RESPONSES
from app.models import AuditEntry
from app.search.query import day_end_exclusive, day_start, parse_day

router = APIRouter(prefix="/api/v1/admin", tags=["admin"], responses=ERROR_RESPONSES)
Admin = Annotated[StaffPrincipal, require_roles("admin")]


@router.get("/audit", response_model=AuditPage, summary="The audit trail, newest first, filtered and paged")
async def list_audit(params: Annotated[AuditParams, Query()], _: Admin, session: SessionDep) -> AuditPage:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(params.size + 1)
    if params.username:
        query = query.where(AuditEntry.username == params.username)
    if params.agency:
        query = query.where(AuditEntry.agency_code == params.agency.strip().upper())
    if params.action:
        query = query.where(AuditEntry.action == params.action)
    if params.date_from:
        query = query.where(AuditEntry.at >= day_start(parse_day(params.date_from, field="date_from")))
    if params.date_to:
        query = query.where(AuditEntry.at < day_end_exclusive(parse_day(params.date_to, field="date_to")))
    if params.before_id:
        query = query.where(AuditEntry.id < params.before_id)
    rows = list(await session.scalars(query))
    more = len(rows) > params.size
    rows = rows[: params.size]
    return AuditPage(
        items=[AuditEntryOut.model_validate(r) for r in rows],
        next_before_id=rows[-1].id if more and rows else None,
    )
