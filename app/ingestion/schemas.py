"""The canonical event form agencies send, and the per-item answers they get back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DateInput = str | dict[str, str]


class ApplicantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    national_id: str | None = Field(default=None, max_length=32, description="National ID or iqama number")
    name: str | None = Field(default=None, max_length=300)
    mobile: str | None = Field(default=None, max_length=32)


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(max_length=4000)
    visibility: Literal["public", "internal"] = "public"


class EventIn(BaseModel):
    """One status event, as an agency sends it (see the README's "Canonical event form")."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "event_id": "EV-2026-000123",
                    "reference": "١٤٤٧/٣٤٥٦",
                    "transaction_type": "crowd_event_permit",
                    "title": "طلب تصريح فعالية في حي العزيزية",
                    "status_code": "referred",
                    "status_text": "محالة إلى أمانة العاصمة المقدسة",
                    "occurred_at": "2026-05-01T10:00:00+03:00",
                    "to_agency": "HCM",
                    "applicant": {"national_id": "1000000008", "name": "محمد عبدالله", "mobile": "0551234567"},
                    "note": {"text": "أحيلت للأمانة لاستكمال الإجراءات", "visibility": "public"},
                }
            ]
        },
    )

    event_id: str = Field(min_length=1, max_length=128)
    agency: str | None = Field(default=None, max_length=40, description="Acting agency; must be the key's own")
    reference: str = Field(min_length=1, max_length=200)
    tracking_number: str | None = Field(default=None, max_length=40)
    transaction_type: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_]{2,64}$")
    title: str | None = Field(default=None, max_length=1000)
    status_code: str = Field(min_length=1, max_length=64)
    status_text: str | None = Field(default=None, max_length=400)
    occurred_at: DateInput
    sequence: int | None = Field(default=None, ge=0, le=2**31 - 1)
    from_agency: str | None = Field(default=None, max_length=40)
    from_reference: str | None = Field(default=None, max_length=200)
    to_agency: str | None = Field(default=None, max_length=40)
    applicant: ApplicantIn | None = None
    note: NoteIn | None = None
    due_date: DateInput | None = None


Outcome = Literal["created", "duplicate", "conflict", "error"]


class ItemResult(BaseModel):
    """The answer for one item of a request, in request order."""

    index: int
    outcome: Outcome
    event_id: str | None = None
    tracking_number: str | None = None
    error: str | None = None
    field: str | None = None
    message: str | None = None
    known_codes: list[str] | None = None


class BulkResponse(BaseModel):
    errors: bool = Field(description="True when at least one item was not stored")
    took_ms: int
    items: list[ItemResult]


class ErrorDetail(BaseModel):
    error: str
    detail: Any = None
