"""The pure fold from a transaction's events to its current state.

State is recomputed from every event each time one is applied, so the result does not
depend on the order events arrived in: they are sorted by when they happened (then the
agency's sequence, then arrival). A terminal status is left only by an explicit reopen.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

TERMINAL_STATUSES = frozenset({"completed", "rejected", "cancelled"})


class OrderedEvent(Protocol):
    """What ordering events needs."""

    id: int
    occurred_at: datetime
    sequence: int | None


class MovementEvent(OrderedEvent, Protocol):
    """What following who held a file needs (the timeline's durations)."""

    agency_code: str
    status: str
    reopen: bool
    to_agency: str | None


class EventLike(MovementEvent, Protocol):
    """What the fold needs."""

    from_agency: str | None
    due_at: datetime | None
    transaction_type: str | None
    title: str | None
    applicant_name: str | None
    national_id_hash: str | None
    national_id_last4: str | None
    mobile_hash: str | None
    mobile_last4: str | None


@dataclass(frozen=True, slots=True)
class TransactionState:
    status: str
    holder_agency: str
    origin_agency: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    due_at: datetime | None
    transaction_type: str | None
    title: str | None
    applicant_name: str | None
    national_id_hash: str | None
    national_id_last4: str | None
    mobile_hash: str | None
    mobile_last4: str | None


class StoredEventLike(EventLike, Protocol):
    """An event as stored (or about to be): what the transaction row's derived fields need too."""

    note: str | None
    note_visibility: str
    received_at: datetime


E = TypeVar("E", bound=OrderedEvent)


def chronological(events: Iterable[E]) -> list[E]:
    """Events in the order they happened; ties by the agency's sequence, then by arrival."""
    return sorted(
        events,
        key=lambda e: (e.occurred_at, e.sequence if e.sequence is not None else -1, e.id),
    )


def _first(events: Sequence[EventLike], attr: str) -> str | None:
    for event in events:
        value = getattr(event, attr)
        if value:
            return str(value)
    return None


def fold(events: Iterable[EventLike]) -> TransactionState:
    """Compute the current state from all events; raises ValueError on an empty list."""
    ordered = chronological(events)
    if not ordered:
        raise ValueError("a transaction has at least one event")
    status: str | None = None
    holder = ordered[0].agency_code
    completed_at: datetime | None = None
    due_at: datetime | None = None
    for event in ordered:
        if status in TERMINAL_STATUSES and not event.reopen:
            continue
        status = event.status
        holder = event.to_agency or event.agency_code
        completed_at = event.occurred_at if status in TERMINAL_STATUSES else None
        if event.due_at is not None:
            due_at = event.due_at
    first = ordered[0]
    # national ID and its last 4 travel together: take both from the same event.
    nid_event = next((e for e in ordered if e.national_id_hash), None)
    mobile_event = next((e for e in ordered if e.mobile_hash), None)
    assert status is not None
    return TransactionState(
        status=status,
        holder_agency=holder,
        origin_agency=first.from_agency or first.agency_code,
        created_at=first.occurred_at,
        updated_at=max(e.occurred_at for e in ordered),
        completed_at=completed_at,
        due_at=due_at,
        transaction_type=_first(ordered, "transaction_type"),
        title=_first(ordered, "title"),
        applicant_name=_first(ordered, "applicant_name"),
        national_id_hash=nid_event.national_id_hash if nid_event else None,
        national_id_last4=nid_event.national_id_last4 if nid_event else None,
        mobile_hash=mobile_event.mobile_hash if mobile_event else None,
        mobile_last4=mobile_event.mobile_last4 if mobile_event else None,
    )
