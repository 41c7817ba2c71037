"""Ingestion endpoints: thin; reading, the service call, the commit, then the answer."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from app.deps import CatalogDep, CurrentAgency, ResourcesDep, SessionDep, SettingsDep
from app.errors import ERROR_RESPONSES, Conflict, Forbidden, UnprocessableEntity
from app.ingestion.body import parse_items, parse_single, read_body
from app.ingestion.schemas import BulkResponse, EventIn, ItemResult
from app.ingestion.service import IngestSummary, ingest_items
from app.observability.metrics import BULK_SIZE, EVENTS_INGESTED

router = APIRouter(prefix="/api/v1/events", tags=["ingestion"], responses=ERROR_RESPONSES)

_EVENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": EventIn.model_json_schema(ref_template="#/components/schemas/{model}")},
            "application/cloudevents+json": {"schema": {"type": "object"}},
        },
    }
}
_BULK_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
            "application/x-ndjson": {"schema": {"type": "string"}},
            "application/cloudevents-batch+json": {"schema": {"type": "array", "items": {"type": "object"}}},
        },
    }
}


def record_metrics(agency_code: str, summary: IngestSummary) -> None:
    """Count outcomes only after the commit, so the numbers describe what is durable."""
    BULK_SIZE.observe(len(summary.results))
    counts: dict[str, int] = {}
    for result in summary.results:
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    for outcome, n in counts.items():
        EVENTS_INGESTED.labels(agency_code, outcome).inc(n)


@router.post(
    "",
    status_code=201,
    response_model=ItemResult,
    response_model_exclude_none=True,
    openapi_extra=_EVENT_BODY,
    summary="Submit one status event",
    description="201 when stored, 200 for an exact duplicate; answered only after the database commit.",
)
async def submit_event(
    request: Request,
    response: Response,
    session: SessionDep,
    agency: CurrentAgency,
    settings: SettingsDep,
    catalog: CatalogDep,
    resources: ResourcesDep,
) -> ItemResult:
    item = parse_single(request, await read_body(request, limit=settings.max_body_bytes))
    summary = await ingest_items(
        session, items=[item], agency_code=agency.agency_code, catalog=catalog, secret=settings.secret_key
    )
    await session.commit()
    record_metrics(agency.agency_code, summary)
    result = summary.results[0]
    if result.outcome == "created":
        await resources.after_commit()
        return result
    if result.outcome == "duplicate":
        response.status_code = 200
        return result
    detail = result.model_dump(exclude_none=True)
    if result.outcome == "conflict":
        raise Conflict(detail)
    if result.error == "forbidden_agency":
        raise Forbidden(detail)
    raise UnprocessableEntity(detail)


@router.post(
    "/bulk",
    response_model=BulkResponse,
    response_model_exclude_none=True,
    openapi_extra=_BULK_BODY,
    summary="Submit many status events",
    description=(
        "A JSON array, NDJSON or a CloudEvents batch (gzip accepted). Each item is answered in request "
        "order; one bad item never rejects the others. Answered only after the database commit."
    ),
)
async def submit_bulk(
    request: Request,
    session: SessionDep,
    agency: CurrentAgency,
    settings: SettingsDep,
    catalog: CatalogDep,
    resources: ResourcesDep,
) -> BulkResponse:
    started = time.perf_counter()
    body = await read_body(request, limit=settings.max_body_bytes)
    items = parse_items(request, body, max_items=settings.max_bulk_items)
    summary = await ingest_items(
        session, items=items, agency_code=agency.agency_code, catalog=catalog, secret=settings.secret_key
    )
    await session.commit()
    record_metrics(agency.agency_code, summary)
    if summary.touched_transactions:
        await resources.after_commit()
    return BulkResponse(
        errors=summary.has_errors,
        took_ms=int((time.perf_counter() - started) * 1000),
        items=summary.results,
    )
