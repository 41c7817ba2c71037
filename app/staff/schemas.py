"""Request parameters and responses of the staff and call-center endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class SearchParams(BaseModel):
    """``GET /api/v1/staff/search``; repeat a list parameter to OR its values (``status=a&status=b``)."""

    model_config = ConfigDict(extra="forbid")

    q: str | None = Field(default=None, max_length=200, description="Words, a reference or a tracking number")
    status: list[str] = Field(default_factory=list, max_length=20)
    holder_agency: list[str] = Field(default_factory=list, max_length=50)
    counterpart_agency: str | None = Field(default=None, max_length=40)
    sector: list[str] = Field(default_factory=list, max_length=20)
    transaction_type: list[str] = Field(default_factory=list, max_length=50)
    direction: Literal["incoming", "outgoing"] | None = None
    agency: str | None = Field(
        default=None, max_length=40, description="Region roles: the agency that direction is relative to"
    )
    created_from: str | None = Field(default=None, max_length=20, description="2026-05-01 or Hijri 1447-11-14")
    created_to: str | None = Field(default=None, max_length=20, description="Inclusive")
    updated_from: str | None = Field(default=None, max_length=20)
    updated_to: str | None = Field(default=None, max_length=20)
    overdue: bool | None = None
    sort: Literal["relevance", "newest", "oldest", "due"] = "newest"
    size: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=4000)


class LookupParams(BaseModel):
    """``GET /api/v1/callcenter/lookup``: at least one of the four."""

    model_config = ConfigDict(extra="forbid")

    national_id: str | None = Field(default=None, max_length=32)
    mobile: str | None = Field(default=None, max_length=32)
    name: str | None = Field(default=None, max_length=200)
    reference: str | None = Field(default=None, max_length=200)


class Labeled(BaseModel):
    code: str
    name_ar: str
    name_en: str


class ApplicantOut(BaseModel):
    """Masked: raw numbers are never stored, only their last four digits."""

    name: str | None
    national_id: str | None = Field(description="e.g. ******0008")
    mobile: str | None = Field(description="e.g. ******4567")


class ReferenceOut(BaseModel):
    agency: str
    agency_name_ar: str
    reference: str


class Highlights(BaseModel):
    title: str | None = None
    notes: list[str] = Field(default_factory=list)


class TransactionSummary(BaseModel):
    tracking_number: str
    title: str | None
    transaction_type: str | None
    status: Labeled
    holder_agency: Labeled
    origin_agency: Labeled
    created_at: datetime
    created_hijri: str | None
    updated_at: datetime
    due_at: datetime | None
    completed_at: datetime | None
    overdue: bool
    references: list[ReferenceOut]
    applicant: ApplicantOut
    highlights: Highlights | None = None


class FacetOut(BaseModel):
    value: str
    count: int
    label_ar: str | None = None
    label_en: str | None = None


class SearchResponse(BaseModel):
    backend: str
    total: int
    items: list[TransactionSummary]
    facets: dict[str, list[FacetOut]] | None = Field(description="On the first page only")
    next_cursor: str | None


class TimelineEntry(BaseModel):
    occurred_at: datetime
    occurred_hijri: str | None
    agency: Labeled
    status: Labeled
    raw_status_code: str
    raw_status_text: str | None
    from_agency: str | None
    to_agency: str | None
    note: str | None
    note_visibility: Literal["public", "internal"] | None


class TransactionDetail(TransactionSummary):
    timeline: list[TimelineEntry]
    next_step_ar: str | None
    next_step_en: str | None


class LookupResponse(BaseModel):
    backend: str
    count: int
    items: list[TransactionSummary]
