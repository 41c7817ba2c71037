"""Writing audit entries: no audit row, no answer."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import StaffPrincipal
from app.errors import ServiceUnavailable
from app.models import AuditEntry
from app.search.query import fingerprint

logger = logging.getLogger(__name__)


def build_entry(
    *, principal: StaffPrincipal, action: str, params: Mapping[str, Any], result_ids: Iterable[int]
) -> AuditEntry:
    """The row for one access; ``params`` must already be normalized (identity numbers only as hashes)."""
    return AuditEntry(
        username=principal.username,
        role=principal.role,
        agency_code=principal.agency_code,
        action=action,
        query_fingerprint=fingerprint(params),
        result_ids=list(result_ids),
    )


async def record(
    session: AsyncSession,
    *,
    principal: StaffPrincipal,
    action: str,
    params: Mapping[str, Any],
    result_ids: Iterable[int],
) -> None:
    """Add and flush the audit entry in the caller's transaction; the request fails if it cannot be written."""
    try:
        session.add(build_entry(principal=principal, action=action, params=params, result_ids=result_ids))
        await session.flush()
    except SQLAlchemyError as exc:
        logger.error("audit write failed for %s (%s); refusing to answer", principal.username, action)
        raise ServiceUnavailable("the audit trail cannot be written; no answer is given without it") from exc
