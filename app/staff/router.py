"""Staff and call-center endpoints: thin; the service answers, then the request commits (audit included)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from app.auth.service import StaffPrincipal
from app.deps import CatalogDep, ResourcesDep, SessionDep, SettingsDep, require_roles
from app.errors import ERROR_RESPONSES
from app.search.backend import get_backend
from app.staff import service
from app.staff.schemas import LookupParams, LookupResponse, SearchParams, SearchResponse, TransactionDetail

router = APIRouter(prefix="/api/v1/staff", tags=["staff"], responses=ERROR_RESPONSES)
callcenter_router = APIRouter(prefix="/api/v1/callcenter", tags=["call center"], responses=ERROR_RESPONSES)

AnyStaff = Annotated[StaffPrincipal, require_roles("staff", "manager", "call_center", "admin")]
CallCenter = Annotated[StaffPrincipal, require_roles("call_center", "admin")]


@router.get("/search", response_model=SearchResponse, summary="Search the transactions my agency may see")
async def search(
    params: Annotated[SearchParams, Query()],
    principal: AnyStaff,
    session: SessionDep,
    resources: ResourcesDep,
    catalog: CatalogDep,
) -> SearchResponse:
    result = await service.search_transactions(
        session, backend=get_backend(resources, session), principal=principal, params=params, catalog=catalog
    )
    await session.commit()
    return result


@router.get(
    "/transactions/{tracking_number}",
    response_model=TransactionDetail,
    summary="One transaction with its full timeline (404 when outside my agency's scope)",
)
async def transaction_detail(
    tracking_number: str, principal: AnyStaff, session: SessionDep, catalog: CatalogDep
) -> TransactionDetail:
    result = await service.transaction_detail(
        session, principal=principal, tracking_number=tracking_number, catalog=catalog
    )
    await session.commit()
    return result


@callcenter_router.get("/lookup", response_model=LookupResponse, summary="A person's transactions across agencies")
async def lookup(
    params: Annotated[LookupParams, Query()],
    principal: CallCenter,
    session: SessionDep,
    resources: ResourcesDep,
    catalog: CatalogDep,
    settings: SettingsDep,
) -> LookupResponse:
    result = await service.callcenter_lookup(
        session,
        backend=get_backend(resources, session),
        principal=principal,
        params=params,
        catalog=catalog,
        secret=settings.secret_key,
    )
    await session.commit()
    return result
