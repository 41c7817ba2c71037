"""A seeded generator of realistic agency traffic: the same seed always gives the same events.

Each transaction starts at an agency whose sector handles its type, moves through review,
is often handed over to another agency (e.g. the Ministry of Hajj and Umrah refers a permit to
the Holy Capital Municipality), and ends approved, rejected, completed or still open. About 2%
of events are delivered out of order and about 2% twice, as real integrations do.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from app.catalog.loader import Catalog
from app.normalization.identity import luhn_complete

FIRST_NAMES = [
    "محمد",
    "أحمد",
    "عبدالله",
    "عبدالرحمن",
    "فهد",
    "خالد",
    "سعود",
    "فيصل",
    "إبراهيم",
    "يوسف",
    "نورة",
    "فاطمة",
    "سارة",
    "مريم",
    "هيفاء",
    "عائشة",
    "ريم",
    "لمى",
    "أسماء",
    "منيرة",
]
FATHER_NAMES = ["عبدالعزيز", "سليمان", "ناصر", "حمد", "علي", "صالح", "عمر", "مصطفى", "حسن", "طلال"]
FAMILY_NAMES = [
    "الحربي",
    "الغامدي",
    "الزهراني",
    "العتيبي",
    "القرشي",
    "الشريف",
    "المالكي",
    "الثبيتي",
    "الجهني",
    "السلمي",
    "البقمي",
    "الهذلي",
    "الشهري",
    "العمري",
    "باعشن",
    "بن لادن",
]
INTERNAL_NOTES = ["تم التحقق من المستندات داخلياً", "بانتظار توقيع المدير", "مراجعة قانونية داخلية"]
PUBLIC_NOTES = [
    "تم استلام الطلب وجاري دراسته",
    "يرجى استكمال المستندات المطلوبة",
    "أحيلت المعاملة للجهة المختصة",
    "Request received and under review",
]
HANDOVERS = {
    # sector of the origin -> sectors that commonly receive its files
    "hajj_umrah": ["municipal", "security", "health", "royal_commission"],
    "emirate": ["municipal", "security", "justice", "social"],
    "municipal": ["utilities", "security", "emirate", "environment"],
    "health": ["social", "security", "emirate"],
    "justice": ["security", "emirate", "social"],
    "commerce": ["municipal", "labor", "security"],
}


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event as one agency sends it, in delivery order."""

    agency_code: str
    event: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Applicant:
    national_id: str
    name: str
    mobile: str


class DemoGenerator:
    def __init__(self, catalog: Catalog, *, seed: int = 2026, now: datetime | None = None) -> None:
        self.catalog = catalog
        self.rng = random.Random(seed)
        self.now = (now or datetime(2026, 12, 1, 9, 0, tzinfo=UTC)).astimezone(UTC)
        self.by_sector: dict[str, list[str]] = {}
        for agency in catalog.agencies.values():
            self.by_sector.setdefault(agency.sector, []).append(agency.code)
        self.raw_codes = {code: self._raw_codes(code) for code in catalog.agencies}
        self.types = sorted(catalog.transaction_types.values(), key=lambda t: t.code)

    def _raw_codes(self, agency_code: str) -> dict[str, str]:
        """One raw code per canonical status (and 'reopen') in the agency's own vocabulary."""
        out: dict[str, str] = {}
        for raw, mapping in sorted(self.catalog.status_map_for(agency_code).items()):
            key = "reopen" if mapping.reopen else mapping.canonical
            out.setdefault(key, raw)
        return out

    def applicant(self, n: int) -> Applicant:
        rng = random.Random(n * 7919 + 17)
        first = "1" if rng.random() < 0.7 else "2"
        nid = luhn_complete(first + f"{rng.randrange(10**8):08d}")
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(FATHER_NAMES)} {rng.choice(FAMILY_NAMES)}"
        mobile = "05" + str(rng.choice([0, 3, 4, 5, 6, 9])) + f"{rng.randrange(10**7):07d}"
        return Applicant(nid, name, mobile)

    def _agency_for(self, sectors: tuple[str, ...]) -> str:
        pool = [code for sector in sectors for code in self.by_sector.get(sector, [])]
        if not pool:
            pool = sorted(self.catalog.agencies)
        return self.rng.choice(sorted(pool))

    def _event(self, agency: str, status: str, when: datetime, n: int, k: int, **extra: Any) -> Delivery:
        raw = self.raw_codes[agency].get(status)
        if raw is None:  # a profile without this status: use the nearest neutral one
            raw = self.raw_codes[agency].get("under_review") or next(iter(self.raw_codes[agency].values()))
        event: dict[str, Any] = {
            "event_id": f"{agency}-{n:07d}-{k:02d}",
            "status_code": raw,
            "occurred_at": when.isoformat(),
        }
        event.update({key: value for key, value in extra.items() if value is not None})
        return Delivery(agency, event)

    def transaction(self, n: int) -> list[Delivery]:
        """Every event of demo transaction ``n``, in the order they happened."""
        rng = self.rng
        ttype = self.types[n % len(self.types)] if rng.random() < 0.5 else rng.choice(self.types)
        origin = self._agency_for(ttype.sectors or ("emirate",))
        origin_sector = self.catalog.agencies[origin].sector
        applicant = self.applicant(n)
        start = self.now - timedelta(days=rng.uniform(0.5, 150), minutes=rng.randrange(600))
        when = start
        ref = f"{rng.randrange(1446, 1449)}/{n:06d}"
        subject_ar = rng.choice(ttype.subjects_ar) if ttype.subjects_ar else ttype.name_ar
        use_english = rng.random() < 0.1 and ttype.subjects_en
        title = rng.choice(ttype.subjects_en) if use_english else subject_ar

        def step(days: float) -> datetime:
            nonlocal when
            when = min(when + timedelta(days=days, minutes=rng.randrange(1, 300)), self.now)
            return when

        events: list[Delivery] = []

        def emit(agency: str, status: str, at: datetime, **extra: Any) -> None:
            """The next event of this transaction; its number is its position (event ids stay stable)."""
            events.append(self._event(agency, status, at, n, len(events), **extra))

        first: dict[str, Any] = {
            "reference": ref,
            "transaction_type": ttype.code,
            "title": title,
            "applicant": {"national_id": applicant.national_id, "name": applicant.name, "mobile": applicant.mobile},
        }
        emit(origin, "received", when, **first)
        holder, holder_ref = origin, ref
        emit(holder, "under_review", step(rng.uniform(0.1, 3)), reference=ref)
        if rng.random() < 0.2:
            emit(
                holder,
                "awaiting_applicant",
                step(rng.uniform(0.5, 4)),
                reference=ref,
                note={"text": PUBLIC_NOTES[1], "visibility": "public"},
            )
        if rng.random() < 0.15:
            emit(
                holder,
                "under_review",
                step(0.2),
                reference=ref,
                note={"text": rng.choice(INTERNAL_NOTES), "visibility": "internal"},
            )
        if rng.random() < 0.45:
            target_sectors = HANDOVERS.get(origin_sector, ["emirate", "municipal"])
            target = self._agency_for(tuple(target_sectors))
            if target != holder:
                emit(
                    holder,
                    "referred",
                    step(rng.uniform(0.5, 5)),
                    reference=holder_ref,
                    to_agency=target,
                    note={"text": PUBLIC_NOTES[2], "visibility": "public"},
                )
                target_ref = f"W-{rng.randrange(10**5):05d}-{n}"
                emit(
                    target,
                    "received",
                    step(rng.uniform(0.1, 2)),
                    reference=target_ref,
                    from_agency=holder,
                    from_reference=holder_ref,
                )
                holder, holder_ref = target, target_ref
                emit(holder, "under_review", step(rng.uniform(0.2, 4)), reference=holder_ref)
        outcome = rng.random()
        if outcome < 0.55:
            final = "approved" if rng.random() < 0.8 else "rejected"
            emit(holder, final, step(rng.uniform(0.5, 12)), reference=holder_ref)
            if final == "approved" and rng.random() < 0.8:
                emit(holder, "completed", step(rng.uniform(0.2, 3)), reference=holder_ref)
        elif outcome < 0.65:
            emit(holder, "awaiting_payment", step(rng.uniform(0.5, 5)), reference=holder_ref)
        # Only events that have happened by "now" are sent.
        return [d for d in events if d.event["occurred_at"] <= self.now.isoformat()]

    def deliveries(self, count: int) -> Iterator[Delivery]:
        """All events of ``count`` transactions in delivery order, with ~2% reordered and ~2% repeated."""
        for n in range(1, count + 1):
            events = self.transaction(n)
            if len(events) > 2 and self.rng.random() < 0.1:
                i = self.rng.randrange(1, len(events) - 1)
                events[i], events[i + 1] = events[i + 1], events[i]
            for delivery in events:
                yield delivery
                if self.rng.random() < 0.02:
                    yield delivery
