"""The admin audit listing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

NO_CONTROL_CHARS = r"^[^\x00-\x1f\x7f]*$"
"""PostgreSQL refuses NUL in text: a control character is a 422 here, not a database error."""


class AuditParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(default=None, max_length=100, pattern=NO_CONTROL_CHARS)
    agency: str | None = Field(default=None, max_length=40, pattern=NO_CONTROL_CHARS)
    action: str | None = Field(default=None, max_length=40, pattern=NO_CONTROL_CHARS)
    date_from: str | None = Field(
        default=None, max_length=20, pattern=NO_CONTROL_CHARS, description="2026-05-01 or Hijri 1447-11-14"
    )
    date_to: str | None = Field(default=None, max_length=20, pattern=NO_CONTROL_CHARS, description="Inclusive")
    size: int = Field(default=50, ge=1, le=500)
    before_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1, description="The next_before_id of the previous page"
    )


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    username: str
    role: str
    agency_code: str | None
    action: str
    query_fingerprint: str
    result_ids: list[Any]


class AuditPage(BaseModel):
    items: list[AuditEntryOut]
    next_before_id: int | None
