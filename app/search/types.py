"""The backend-neutral values a search takes and returns; both backends speak only these."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

SortOrder = Literal["relevance", "newest", "oldest", "due"]
Direction = Literal["incoming", "outgoing"]
FACET_NAMES: tuple[str, ...] = ("status", "holder_agency", "sector", "transaction_type", "direction", "overdue")


@dataclass(frozen=True, slots=True)
class AccessScope:
    """Whose transactions a caller may see: one agency's (those it originated, holds or handled) or all.

    The backends put this into the query they build, so no request parameter can widen it.
    """

    agency_code: str | None

    @property
    def everything(self) -> bool:
        return self.agency_code is None


@dataclass(frozen=True, slots=True)
class TextQuery:
    """A free-text query prepared once with the shared normalizer, so both backends match the same way."""

    tokens: tuple[str, ...] = ()
    """Normalized, unstemmed tokens: matched against applicant names."""
    stems: tuple[str, ...] = ()
    """The same tokens, light-stemmed: matched against title and public notes."""
    reference_key: str | None = None
    """The query as a reference key (separators removed, upper-case), for exact/prefix matches."""
    tracking_number: str | None = None
    """The display tracking number when the query is a complete, valid one."""
    tracking_prefix: str | None = None
    """A display-form prefix of tracking numbers when the query looks like the start of one."""

    @property
    def empty(self) -> bool:
        return not (self.tokens or self.reference_key or self.tracking_number or self.tracking_prefix)


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A validated, normalized search; dates are aware UTC instants, end bounds exclusive."""

    text: TextQuery | None = None
    statuses: tuple[str, ...] = ()
    holder_agencies: tuple[str, ...] = ()
    counterpart_agency: str | None = None
    sectors: tuple[str, ...] = ()
    transaction_types: tuple[str, ...] = ()
    direction: Direction | None = None
    perspective_agency: str | None = None
    """The agency that "incoming"/"outgoing" are relative to (the caller's own, or the one an admin picks)."""
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    overdue: bool | None = None
    sort: SortOrder = "newest"
    size: int = 20
    cursor: str | None = None
    now: datetime = field(default_factory=lambda: datetime.now().astimezone())
    fingerprint: str = ""
    """Hash of the normalized parameters (not the cursor); a cursor only continues the query it came from."""
    with_facets: bool = True


@dataclass(frozen=True, slots=True)
class Hit:
    transaction_id: int
    score: float | None = None


@dataclass(frozen=True, slots=True)
class FacetBucket:
    value: str
    count: int


@dataclass(slots=True)
class SearchPage:
    """One page of hits (transaction ids in order), the total, facet counts and the next cursor."""

    hits: list[Hit]
    total: int
    facets: dict[str, list[FacetBucket]] | None
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class PeopleQuery:
    """A call-center lookup; identity numbers arrive already as keyed hashes, never raw."""

    national_id_hash: str | None = None
    mobile_hash: str | None = None
    name_key: str | None = None
    reference_key: str | None = None
    tracking_number: str | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class AgencyCount:
    agency: str
    count: int


@dataclass(frozen=True, slots=True)
class AgencyFlow:
    agency: str
    incoming: int
    outgoing: int


@dataclass(frozen=True, slots=True)
class ProcessingTime:
    """Days from creation to closing (terminal status) of closed transactions."""

    agency: str
    transaction_type: str | None
    """None for the agency's row over all types."""
    count: int
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True, slots=True)
class DailyCount:
    day: str
    """Gregorian date in Riyadh, ISO."""
    count: int


@dataclass(frozen=True, slots=True)
class Bottleneck:
    """Open transactions waiting at one holder agency, and how long since their last update."""

    agency: str
    count: int
    median_wait_days: float | None
    max_wait_days: float | None


@dataclass(slots=True)
class DashboardData:
    """The index-answerable dashboard numbers; the data-quality scorecard is added from SQL separately."""

    total: int
    by_status: list[FacetBucket]
    flows: list[AgencyFlow]
    top_agencies: list[AgencyCount]
    overdue_by_agency: list[AgencyCount]
    processing: list[ProcessingTime]
    daily: list[DailyCount]
    bottlenecks: list[Bottleneck]


@dataclass(frozen=True, slots=True)
class DashboardQuery:
    now: datetime
    days: int = 30
    """Length of the daily trend window, ending today (Riyadh)."""
    top: int = 10
