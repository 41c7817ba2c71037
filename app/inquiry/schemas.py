"""What a citizen sends and sees. Nothing personal beyond what the applicant already knows."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field


class InquiryRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reference": "MK-2026-4F7K2Q-8", "verifier": "0008"}]},
    )

    reference: str = Field(min_length=1, max_length=100, description="Tracking number or any agency's reference")
    verifier: str = Field(
        min_length=1,
        max_length=40,
        description="Last 4 digits of the applicant's ID number, or the registered mobile number",
    )


class Label(BaseModel):
    code: str
    ar: str
    en: str


class TimelineEntry(BaseModel):
    agency: Label
    status: Label
    occurred_at: datetime
    date_hijri: str
    note: str | None = None


class AgencyTime(BaseModel):
    agency: Label
    days: float


class AccessRecord(BaseModel):
    agency: Label | None
    role: str
    viewed_at: datetime


class InquiryResponse(BaseModel):
    tracking_number: str
    transaction_type: Label | None
    title: str | None
    status: Label
    next_step_ar: str
    next_step_en: str
    terminal: bool
    holder: Label
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    expected_completion: date | None
    expected_completion_hijri: str | None
    overdue: bool
    timeline: list[TimelineEntry]
    time_per_agency: list[AgencyTime]
    accessed_by: list[AccessRecord]
