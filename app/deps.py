"""FastAPI dependencies and their ``Annotated`` aliases: the only way routers reach shared clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import AgencyPrincipal, StaffPrincipal, authenticate_agency, authenticate_staff
from app.catalog.loader import Catalog
from app.errors import Forbidden, Unauthorized
from app.resources import Resources
from app.settings import Settings

bearer = HTTPBearer(auto_error=False, description="An agency API key (uiak_...) or a staff token (uist_...)")


# The trivial dependencies are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a
# worker thread, a thread hop per request that cost more than the whole inquiry's queries.
async def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


ResourcesDep = Annotated[Resources, Depends(get_resources)]


async def get_settings_dep(resources: ResourcesDep) -> Settings:
    return resources.settings


async def get_catalog(resources: ResourcesDep) -> Catalog:
    return resources.catalog


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
CatalogDep = Annotated[Catalog, Depends(get_catalog)]


async def get_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """One session per request; the router commits at its boundary, anything else is rolled back."""
    async with resources.session_factory() as session:
        yield session


async def get_read_session(resources: ResourcesDep) -> AsyncIterator[AsyncSession]:
    """A session that must not write (the public inquiry): each statement commits on its own."""
    async with resources.read_session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]

_CHALLENGE = {"WWW-Authenticate": "Bearer"}


async def current_agency(session: SessionDep, credentials: Credentials) -> AgencyPrincipal:
    if credentials is None:
        raise Unauthorized("an agency API key is required (Authorization: Bearer uiak_...)", headers=_CHALLENGE)
    principal = await authenticate_agency(session, credentials.credentials)
    if principal is None:
        raise Unauthorized("invalid or revoked API key", headers=_CHALLENGE)
    return principal


async def current_staff(session: SessionDep, credentials: Credentials) -> StaffPrincipal:
    if credentials is None:
        raise Unauthorized("a staff token is required (Authorization: Bearer uist_...)", headers=_CHALLENGE)
    principal = await authenticate_staff(session, credentials.credentials)
    if principal is None:
        raise Unauthorized("invalid, revoked or expired token", headers=_CHALLENGE)
    return principal


CurrentAgency = Annotated[AgencyPrincipal, Depends(current_agency)]
CurrentStaff = Annotated[StaffPrincipal, Depends(current_staff)]


def require_roles(*roles: str) -> object:
    """A dependency that lets only the named roles through."""

    async def _check(principal: CurrentStaff) -> StaffPrincipal:
        if principal.role not in roles:
            raise Forbidden(f"this needs one of the roles: {', '.join(roles)}")
        return principal

    return Depends(_check)
