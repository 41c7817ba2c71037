"""Issuing, listing, rotating and revoking credentials, and resolving a presented one to a principal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.secrets import AGENCY_KEY_KIND, STAFF_TOKEN_KIND, issue, matches, split
from app.errors import BadRequest, NotFound
from app.models import Agency, ApiKey, StaffToken, StaffUser

Role = Literal["staff", "call_center", "manager", "admin"]
ROLES: tuple[Role, ...] = ("staff", "call_center", "manager", "admin")
AGENCY_ROLES = frozenset({"staff", "manager"})


@dataclass(frozen=True, slots=True)
class AgencyPrincipal:
    agency_code: str
    key_id: str


@dataclass(frozen=True, slots=True)
class StaffPrincipal:
    user_id: int
    username: str
    role: Role
    agency_code: str | None


async def _require_agency(session: AsyncSession, agency_code: str) -> Agency:
    agency = await session.get(Agency, agency_code)
    if agency is None:
        raise NotFound(f"unknown agency {agency_code!r}")
    return agency


async def create_api_key(session: AsyncSession, *, agency_code: str, name: str = "") -> tuple[ApiKey, str]:
    """A new key for the agency; the plaintext is returned once and never stored."""
    await _require_agency(session, agency_code)
    issued = issue(AGENCY_KEY_KIND)
    key = ApiKey(key_id=issued.public_id, key_hash=issued.secret_hash, agency_code=agency_code, name=name)
    session.add(key)
    await session.flush()
    return key, issued.plaintext


async def list_api_keys(session: AsyncSession, *, agency_code: str | None = None) -> Sequence[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if agency_code:
        query = query.where(ApiKey.agency_code == agency_code)
    return (await session.scalars(query)).all()


async def revoke_api_key(session: AsyncSession, *, key_id: str) -> ApiKey:
    key = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if key is None:
        raise NotFound(f"no key {key_id!r}")
    key.revoked_at = key.revoked_at or datetime.now(UTC)
    await session.flush()
    return key


async def rotate_api_key(session: AsyncSession, *, key_id: str) -> tuple[ApiKey, str]:
    """Issue a successor for the same agency; the old key stays valid until revoked, for a clean switch."""
    old = await session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if old is None or old.revoked_at is not None:
        raise NotFound(f"no active key {key_id!r}")
    return await create_api_key(session, agency_code=old.agency_code, name=old.name)


async def authenticate_agency(session: AsyncSession, presented: str) -> AgencyPrincipal | None:
    parts = split(AGENCY_KEY_KIND, presented)
    if parts is None:
        return None
    key = await session.scalar(select(ApiKey).where(ApiKey.key_id == parts[0]))
    if key is None or key.revoked_at is not None or not matches(parts[1], key.key_hash):
        return None
    agency = await session.get(Agency, key.agency_code)
    if agency is None or not agency.active:
        return None
    return AgencyPrincipal(agency_code=key.agency_code, key_id=key.key_id)


async def create_user(
    session: AsyncSession, *, username: str, role: str, agency_code: str | None, display_name: str = ""
) -> StaffUser:
    if role not in ROLES:
        raise BadRequest(f"role must be one of {', '.join(ROLES)}")
    if role in AGENCY_ROLES and not agency_code:
        raise BadRequest(f"role {role} belongs to an agency: give --agency")
    if agency_code:
        await _require_agency(session, agency_code)
    if await session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise BadRequest(f"user {username!r} exists")
    user = StaffUser(username=username, role=role, agency_code=agency_code, display_name=display_name)
    session.add(user)
    await session.flush()
    return user


async def list_users(session: AsyncSession) -> Sequence[StaffUser]:
    return (await session.scalars(select(StaffUser).order_by(StaffUser.id))).all()


async def issue_token(session: AsyncSession, *, username: str, ttl_hours: int) -> tuple[StaffToken, str]:
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None or not user.active:
        raise NotFound(f"no active user {username!r}")
    issued = issue(STAFF_TOKEN_KIND)
    token = StaffToken(
        token_id=issued.public_id,
        token_hash=issued.secret_hash,
        user_id=user.id,
        expires_at=datetime.now(UTC) + timedelta(hours=ttl_hours),
    )
    session.add(token)
    await session.flush()
    return token, issued.plaintext


async def deactivate_user(session: AsyncSession, *, username: str) -> StaffUser:
    user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise NotFound(f"no user {username!r}")
    user.active = False
    await session.flush()
    return user


async def authenticate_staff(session: AsyncSession, presented: str) -> StaffPrincipal | None:
    """The principal behind a staff token; an OIDC verifier can later produce the same object."""
    parts = split(STAFF_TOKEN_KIND, presented)
    if parts is None:
        return None
    row = (
        await session.execute(
            select(StaffToken, StaffUser)
            .join(StaffUser, StaffUser.id == StaffToken.user_id)
            .where(StaffToken.token_id == parts[0])
        )
    ).first()
    if row is None:
        return None
    token, user = row
    if (
        token.revoked_at is not None
        or token.expires_at <= datetime.now(UTC)
        or not user.active
        or not matches(parts[1], token.token_hash)
    ):
        return None
    return StaffPrincipal(user_id=user.id, username=user.username, role=user.role, agency_code=user.agency_code)  # type: ignore[arg-type]
