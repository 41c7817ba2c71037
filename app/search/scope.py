"""Who may see what: the access scope is derived from the principal only, never from request parameters."""

from __future__ import annotations

from app.auth.service import StaffPrincipal
from app.errors import Forbidden
from app.search.types import AccessScope

REGION_ROLES = frozenset({"call_center", "admin"})


def scope_for(principal: StaffPrincipal) -> AccessScope:
    """Agency staff and managers see their agency's transactions; the call center and admins see all."""
    if principal.role in REGION_ROLES:
        return AccessScope(agency_code=None)
    if not principal.agency_code:
        raise Forbidden("this account belongs to no agency")
    return AccessScope(agency_code=principal.agency_code)
