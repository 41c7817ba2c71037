"""Dashboard responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class DashboardParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    agency: str | None = Field(default=None, max_length=40, description="Admins: one agency instead of the region")
    days: int = Field(default=30, ge=1, le=366, description="Length of the daily trend")


class StatusCount(BaseModel):
    status: str
    label_ar: str
    label_en: str
    count: int


class AgencyCountOut(BaseModel):
    agency: str
    name_ar: str
    count: int


class FlowOut(BaseModel):
    agency: str
    name_ar: str
    incoming: int
    outgoing: int


class ProcessingOut(BaseModel):
    agency: str
    transaction_type: str | None = Field(description="null: all types of the agency")
    count: int
    median_days: float | None
    p90_days: float | None


class DailyOut(BaseModel):
    day: str
    hijri: str | None
    count: int


class BottleneckOut(BaseModel):
    agency: str
    name_ar: str
    open_count: int
    median_wait_days: float | None
    max_wait_days: float | None


class ScorecardRow(BaseModel):
    """Ingestion quality of one agency's feed (always from the database)."""

    agency: str
    name_ar: str
    last_event_received_at: datetime | None
    events: int
    rejected: int
    duplicates: int
    conflicts: int
    unknown_status: int
    out_of_order: int
    rejected_rate: float
    unknown_status_rate: float
    duplicate_rate: float
    out_of_order_rate: float


class DashboardOut(BaseModel):
    backend: str
    scope: str = Field(description="An agency code, or 'region'")
    generated_at: datetime
    total: int
    by_status: list[StatusCount]
    flows: list[FlowOut]
    top_agencies: list[AgencyCountOut]
    overdue_by_agency: list[AgencyCountOut]
    processing: list[ProcessingOut]
    daily: list[DailyOut]
    bottlenecks: list[BottleneckOut]
    scorecard: list[ScorecardRow]
