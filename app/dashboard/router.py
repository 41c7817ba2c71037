"""``GET /api/v1/dashboard``: managers (their agency) and admins (region, or one agency)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.service import StaffPrincipal
from app.dashboard.schemas import DashboardOut, DashboardParams
from app.dashboard.service import build_dashboard
from app.deps import CatalogDep, ResourcesDep, SessionDep, require_roles
from app.errors import ERROR_RESPONSES
from app.search.backend import get_backend

router = APIRouter(prefix="/api/v1", tags=["dashboard"], responses=ERROR_RESPONSES)
ManagerOrAdmin = Annotated[StaffPrincipal, require_roles("manager", "admin")]


@router.get("/dashboard", response_model=DashboardOut, summary="Volumes, flows, delays and feed quality")
async def dashboard(
    params: Annotated[DashboardParams, Query()],
    principal: ManagerOrAdmin,
    session: SessionDep,
    resources: ResourcesDep,
    catalog: CatalogDep,
) -> DashboardOut:
    return await build_dashboard(
        session, backend=get_backend(resources, session), principal=principal, params=params, catalog=catalog
    )
