"""The public inquiry endpoint: no login, rate limited, identical answers for every kind of miss."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession

from app.deps import ReadSessionDep, ResourcesDep
from app.errors import ERROR_RESPONSES
from app.inquiry.ratelimit import FailureCounter, MemoryCounter, RedisCounter
from app.inquiry.schemas import InquiryRequest, InquiryResponse
from app.inquiry.service import MedianCache, inquire
from app.resources import Resources

router = APIRouter(prefix="/api/v1/inquiry", tags=["citizen inquiry"], responses=ERROR_RESPONSES)


def failure_counter(resources: Resources) -> FailureCounter:
    """Redis-backed when Redis is configured (shared by every process), else one in-memory counter."""
    if resources.failure_counter is None:
        resources.failure_counter = RedisCounter(resources.redis) if resources.redis is not None else MemoryCounter()
    counter: FailureCounter = resources.failure_counter
    return counter


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.post(
    "",
    response_model=InquiryResponse,
    summary="Where is my transaction? / أين معاملتي؟",
    description=(
        "Look up a transaction by its tracking number or any agency's reference, with the last 4 digits of "
        "the applicant's ID number or the registered mobile. An unknown reference and a wrong verifier give "
        "the same 404; failures are limited per client and per reference (429 with Retry-After)."
    ),
)
async def inquiry(
    body: InquiryRequest, request: Request, session: ReadSessionDep, resources: ResourcesDep
) -> InquiryResponse:
    return await inquire_for(request, session, resources, reference=body.reference, verifier=body.verifier)


async def inquire_for(
    request: Request, session: AsyncSession, resources: Resources, *, reference: str, verifier: str
) -> InquiryResponse:
    """The inquiry with this process's counters and caches: shared by the API and the citizen page."""
    if resources.median_cache is None:
        resources.median_cache = MedianCache()
    return await inquire(
        session,
        reference=reference,
        verifier=verifier,
        client=client_address(request),
        catalog=resources.catalog,
        secret=resources.settings.secret_key,
        counter=failure_counter(resources),
        limit=resources.settings.inquiry_failures_per_hour,
        medians=resources.median_cache,
    )
