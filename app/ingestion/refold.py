"""Copying the fold of a transaction's events onto its row: the one place the stored state is derived."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, time

from app.catalog.loader import Catalog
from app.models import Transaction
from app.normalization.arabic import name_key
from app.normalization.dates import RIYADH
from app.normalization.workdays import add_working_days
from app.transactions.search_text import build_search_text
from app.transactions.state import StoredEventLike, chronological, fold
from app.transactions.timeline import riyadh_date


def apply_state(transaction: Transaction, events: Sequence[StoredEventLike], catalog: Catalog) -> None:
    """Copy the fold of all events onto the row and bump its version.

    Without a due date from the agency, the due date is the type's rule (working days from opening),
    so staff search, dashboards and the citizen's overdue flag agree.
    """
    state = fold(events)
    transaction.status = state.status
    transaction.holder_agency = state.holder_agency
    transaction.origin_agency = state.origin_agency
    transaction.created_at = state.created_at
    transaction.updated_at = state.updated_at
    transaction.completed_at = state.completed_at
    transaction.due_at = state.due_at or rule_due_at(state.created_at, state.transaction_type, catalog)
    transaction.transaction_type = state.transaction_type
    transaction.title = state.title
    transaction.applicant_name = state.applicant_name
    transaction.applicant_name_key = name_key(state.applicant_name) if state.applicant_name else None
    transaction.national_id_hash = state.national_id_hash
    transaction.national_id_last4 = state.national_id_last4
    transaction.mobile_hash = state.mobile_hash
    transaction.mobile_last4 = state.mobile_last4
    transaction.search_text = build_search_text(
        state.title, [e.note for e in chronological(events) if e.note and e.note_visibility == "public"]
    )
    transaction.last_received_at = max(e.received_at for e in events)
    transaction.version = (transaction.version or 0) + 1


def rule_due_at(created_at: datetime, transaction_type: str | None, catalog: Catalog) -> datetime | None:
    """End of the working day the type's rule gives, counted from the day the file was opened."""
    ttype = catalog.transaction_types.get(transaction_type or "")
    if ttype is None:
        return None
    day = add_working_days(riyadh_date(created_at), ttype.sla_working_days, catalog.holidays, catalog.weekend_days)
    return datetime.combine(day, time(23, 59, 59), RIYADH).astimezone(UTC)
