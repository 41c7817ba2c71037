"""Staff search, transaction detail and call-center lookup: validate, ask the backend, mask, audit.

Services flush and never commit; the router commits once the audit entry is in the session, so
an answer is only returned when its audit row is durable.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import record
from app.auth.service import StaffPrincipal
from app.catalog.loader import Catalog
from app.errors import NotFound, UnprocessableEntity
from app.models import StatusEvent, Transaction, TransactionView
from app.normalization.arabic import name_key
from app.normalization.dates import to_hijri_string
from app.normalization.errors import NormalizationError
from app.normalization.identity import keyed_hash, validate_national_id
from app.normalization.phones import normalize_mobile
from app.normalization.references import reference_key
from app.search.backend import SearchBackend
from app.search.highlight import highlight, highlight_all
from app.search.query import day_end_exclusive, day_start, fingerprint, parse_day, prepare_text
from app.search.scope import scope_for
from app.search.types import PeopleQuery, SearchQuery, TextQuery
from app.staff import repository
from app.staff.schemas import (
    ApplicantOut,
    FacetOut,
    Highlights,
    Labeled,
    LookupParams,
    LookupResponse,
    ReferenceOut,
    SearchParams,
    SearchResponse,
    TimelineEntry,
    TransactionDetail,
    TransactionSummary,
)
from app.transactions.state import chronological
from app.transactions.tracking import tracking_from_key


def _invalid(field: str, message: str) -> UnprocessableEntity:
    return UnprocessableEntity([{"field": field, "message": message}])


def _check_codes(values: Sequence[str], known: Any, field: str, *, upper: bool = False) -> tuple[str, ...]:
    out = tuple(v.strip().upper() if upper else v.strip() for v in values if v.strip())
    unknown = [v for v in out if v not in known]
    if unknown:
        raise _invalid(field, f"unknown value(s): {', '.join(unknown)}")
    return out


def _one_code(value: str | None, known: Any, field: str) -> str | None:
    """An optional agency code; a blank one (spaces, a form feed) means not given."""
    codes = _check_codes([value] if value else [], known, field, upper=True)
    return codes[0] if codes else None


def build_query(params: SearchParams, *, principal: StaffPrincipal, catalog: Catalog, now: datetime) -> SearchQuery:
    """Validate parameters against the catalog and normalize them into a backend-neutral query."""
    scope = scope_for(principal)
    perspective = scope.agency_code
    agency = _one_code(params.agency, catalog.agencies, "agency")
    if agency is not None:
        if scope.agency_code is not None and agency != scope.agency_code:
            raise _invalid("agency", "agency staff see incoming/outgoing relative to their own agency only")
        perspective = agency
    if params.direction and perspective is None:
        raise _invalid("direction", "give agency= to say whose incoming/outgoing transactions you mean")
    counterpart = _one_code(params.counterpart_agency, catalog.agencies, "counterpart_agency")
    bounds: dict[str, datetime | None] = {}
    for name in ("created_from", "created_to", "updated_from", "updated_to"):
        raw = getattr(params, name)
        if raw is None:
            bounds[name] = None
            continue
        day = parse_day(raw, field=name)
        bounds[name] = day_start(day) if name.endswith("_from") else day_end_exclusive(day)
    text = prepare_text(params.q)
    normalized: dict[str, Any] = {
        "q": list(text.tokens) if text else None,
        "ref": text.reference_key if text else None,
        "status": sorted(_check_codes(params.status, catalog.statuses, "status")),
        "holder_agency": sorted(_check_codes(params.holder_agency, catalog.agencies, "holder_agency", upper=True)),
        "counterpart_agency": counterpart,
        "sector": sorted(_check_codes(params.sector, catalog.sectors, "sector")),
        "transaction_type": sorted(
            _check_codes(params.transaction_type, catalog.transaction_types, "transaction_type")
        ),
        "direction": params.direction,
        "perspective": perspective if params.direction else None,
        **{k: v.isoformat() if v else None for k, v in bounds.items()},
        "overdue": params.overdue,
        "sort": params.sort,
        "size": params.size,
    }
    return SearchQuery(
        text=text,
        statuses=tuple(normalized["status"]),
        holder_agencies=tuple(normalized["holder_agency"]),
        counterpart_agency=counterpart,
        sectors=tuple(normalized["sector"]),
        transaction_types=tuple(normalized["transaction_type"]),
        direction=params.direction,
        perspective_agency=perspective,
        created_from=bounds["created_from"],
        created_to=bounds["created_to"],
        updated_from=bounds["updated_from"],
        updated_to=bounds["updated_to"],
        overdue=params.overdue,
        sort=params.sort,
        size=params.size,
        cursor=params.cursor,
        now=now,
        fingerprint=fingerprint(normalized),
    )


class Labels:
    """Catalog labels as response objects, each built once per answer: a page names the same few
    agencies and statuses dozens of times, and building the objects was a third of its cost."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._agencies: dict[str, Labeled] = {}
        self._statuses: dict[str, Labeled] = {}

    def agency(self, code: str) -> Labeled:
        return self._label(self._agencies, code, self.catalog.agency_names)

    def status(self, code: str) -> Labeled:
        return self._label(self._statuses, code, self.catalog.status_names)

    @staticmethod
    def _label(built: dict[str, Labeled], code: str, names: Callable[[str], tuple[str, str]]) -> Labeled:
        label = built.get(code)
        if label is None:
            name_ar, name_en = names(code)
            label = built[code] = Labeled(code=code, name_ar=name_ar, name_en=name_en)
        return label


def _masked(last4: str | None) -> str | None:
    return f"******{last4}" if last4 else None


def _hijri(value: datetime | None) -> str | None:
    if value is None:
        return None
    try:
        return to_hijri_string(value)
    except NormalizationError:
        return None


def is_overdue(transaction: Transaction, *, catalog: Catalog, now: datetime) -> bool:
    status = catalog.statuses.get(transaction.status)
    terminal = status.terminal if status else False
    return bool(not terminal and transaction.due_at is not None and transaction.due_at < now)


async def _summaries(
    session: AsyncSession, ids: Sequence[int], *, catalog: Catalog, now: datetime, text: TextQuery | None
) -> list[TransactionSummary]:
    """Rows for the hits, in hit order, read from the database (the source of truth), masked."""
    transactions = await repository.transactions_in_order(session, ids)
    refs = await repository.references_by_transaction(session, ids)
    notes = await repository.public_notes_by_transaction(session, ids) if text and text.stems else {}
    labels = Labels(catalog)
    out = []
    for t in transactions:
        summary = summarize(t, refs.get(t.id, []), labels=labels, now=now)
        if text is not None and text.stems:
            summary.highlights = Highlights(
                title=highlight(t.title, text), notes=highlight_all(notes.get(t.id, []), text)
            )
        out.append(summary)
    return out


def summarize(t: Transaction, refs: Sequence[Any], *, labels: Labels, now: datetime) -> TransactionSummary:
    return TransactionSummary(
        tracking_number=t.tracking_number,
        title=t.title,
        transaction_type=t.transaction_type,
        status=labels.status(t.status),
        holder_agency=labels.agency(t.holder_agency),
        origin_agency=labels.agency(t.origin_agency),
        created_at=t.created_at,
        created_hijri=_hijri(t.created_at),
        updated_at=t.updated_at,
        due_at=t.due_at,
        completed_at=t.completed_at,
        overdue=is_overdue(t, catalog=labels.catalog, now=now),
        references=[
            ReferenceOut(
                agency=r.agency_code,
                agency_name_ar=labels.agency(r.agency_code).name_ar,
                reference=r.reference_display,
            )
            for r in refs
        ],
        applicant=ApplicantOut(
            name=t.applicant_name, national_id=_masked(t.national_id_last4), mobile=_masked(t.mobile_last4)
        ),
    )


def _facets_out(facets: dict[str, Any] | None, catalog: Catalog) -> dict[str, list[FacetOut]] | None:
    if facets is None:
        return None
    labels = Labels(catalog)
    out: dict[str, list[FacetOut]] = {}
    for name, buckets in facets.items():
        rows = []
        for b in buckets:
            label: Labeled | None = None
            if name == "status":
                label = labels.status(b.value)
            elif name == "holder_agency":
                label = labels.agency(b.value)
            elif name == "sector" and b.value in catalog.sectors:
                s = catalog.sectors[b.value]
                label = Labeled(code=b.value, name_ar=s.name_ar, name_en=s.name_en)
            elif name == "transaction_type" and b.value in catalog.transaction_types:
                tt = catalog.transaction_types[b.value]
                label = Labeled(code=b.value, name_ar=tt.name_ar, name_en=tt.name_en)
            rows.append(
                FacetOut(
                    value=b.value,
                    count=b.count,
                    label_ar=label.name_ar if label else None,
                    label_en=label.name_en if label else None,
                )
            )
        out[name] = rows
    return out


async def search_transactions(
    session: AsyncSession,
    *,
    backend: SearchBackend,
    principal: StaffPrincipal,
    params: SearchParams,
    catalog: Catalog,
    now: datetime | None = None,
) -> SearchResponse:
    """One page of the caller's visible transactions, audited."""
    now = now or datetime.now(UTC)
    query = build_query(params, principal=principal, catalog=catalog, now=now)
    page = await backend.search(query, scope_for(principal))
    ids = [h.transaction_id for h in page.hits]
    items = await _summaries(session, ids, catalog=catalog, now=now, text=query.text)
    await record(
        session,
        principal=principal,
        action="staff.search",
        params={"query": query.fingerprint, "cursor": bool(params.cursor)},
        result_ids=ids,
    )
    return SearchResponse(
        backend=backend.name,
        total=page.total,
        items=items,
        facets=_facets_out(page.facets, catalog),
        next_cursor=page.next_cursor,
    )


async def transaction_detail(
    session: AsyncSession,
    *,
    principal: StaffPrincipal,
    tracking_number: str,
    catalog: Catalog,
    now: datetime | None = None,
) -> TransactionDetail:
    """Full timeline with only the caller's own agency's internal notes; 404 outside the scope."""
    now = now or datetime.now(UTC)
    scope = scope_for(principal)
    try:
        display = tracking_from_key(reference_key(tracking_number))
    except NormalizationError:
        display = None
    transaction = (
        await repository.visible_by_tracking_number(session, tracking_number=display, scope=scope) if display else None
    )
    if transaction is None:
        raise NotFound("no such transaction")
    refs = (await repository.references_by_transaction(session, [transaction.id])).get(transaction.id, [])
    events = await repository.events_of(session, transaction.id)
    labels = Labels(catalog)
    timeline = []
    for e in cast(list[StatusEvent], chronological(events)):
        own = (
            e.note_visibility == "internal"
            and principal.agency_code is not None
            and e.agency_code == principal.agency_code
        )
        shown = bool(e.note) and (e.note_visibility == "public" or own)
        timeline.append(
            TimelineEntry(
                occurred_at=e.occurred_at,
                occurred_hijri=_hijri(e.occurred_at),
                agency=labels.agency(e.agency_code),
                status=labels.status(e.status),
                raw_status_code=e.raw_status_code,
                raw_status_text=e.raw_status_text,
                from_agency=e.from_agency,
                to_agency=e.to_agency,
                note=e.note if shown else None,
                note_visibility=cast(Any, e.note_visibility) if shown else None,
            )
        )
    status = catalog.statuses.get(transaction.status)
    summary = summarize(transaction, refs, labels=labels, now=now)
    session.add(TransactionView(transaction_id=transaction.id, agency_code=principal.agency_code, role=principal.role))
    await record(
        session,
        principal=principal,
        action="staff.view",
        params={"tracking_number": transaction.tracking_number},
        result_ids=[transaction.id],
    )
    return TransactionDetail(
        **summary.model_dump(exclude={"highlights"}),
        timeline=timeline,
        next_step_ar=status.next_ar if status else None,
        next_step_en=status.next_en if status else None,
    )


def people_query(params: LookupParams, *, secret: str) -> tuple[PeopleQuery, dict[str, Any]]:
    """Normalize and hash what the caller typed; returns the query and its audit-safe normalized form."""
    if not any((params.national_id, params.mobile, params.name, params.reference)):
        raise _invalid("", "give at least one of national_id, mobile, name, reference")
    nid_hash = mobile_hash = name = ref_key = tracking = None
    try:
        if params.national_id:
            nid_hash = keyed_hash(validate_national_id(params.national_id), secret)
        if params.mobile:
            mobile_hash = keyed_hash(normalize_mobile(params.mobile), secret)
        if params.reference:
            ref_key = reference_key(params.reference)
            tracking = tracking_from_key(ref_key)
    except NormalizationError as exc:
        field = {"invalid_national_id": "national_id", "invalid_mobile": "mobile"}.get(exc.code, "reference")
        raise _invalid(field, exc.message) from exc
    if params.name:
        name = name_key(params.name) or None
        if name is None:
            raise _invalid("name", "the name has no letters")
    query = PeopleQuery(
        national_id_hash=nid_hash,
        mobile_hash=mobile_hash,
        name_key=name,
        reference_key=ref_key,
        tracking_number=tracking,
    )
    audit = {"national_id_hash": nid_hash, "mobile_hash": mobile_hash, "name": name, "reference": ref_key}
    return query, audit


async def callcenter_lookup(
    session: AsyncSession,
    *,
    backend: SearchBackend,
    principal: StaffPrincipal,
    params: LookupParams,
    catalog: Catalog,
    secret: str,
    now: datetime | None = None,
) -> LookupResponse:
    """A person's transactions across all agencies, masked, audited."""
    now = now or datetime.now(UTC)
    query, audit_params = people_query(params, secret=secret)
    hits = await backend.lookup_people(query, scope_for(principal))
    ids = [h.transaction_id for h in hits]
    items = await _summaries(session, ids, catalog=catalog, now=now, text=None)
    await record(session, principal=principal, action="callcenter.lookup", params=audit_params, result_ids=ids)
    return LookupResponse(backend=backend.name, count=len(items), items=items)


__all__ = ["callcenter_lookup", "prepare_text", "search_transactions", "transaction_detail"]
