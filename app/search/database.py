"""Search on the database: the reference implementation the Elasticsearch backend must agree with.

Text matching is whole-token on the columns ingestion already normalizes with the shared
normalizer (``search_text`` stemmed, ``applicant_name_key`` not), via ``LIKE '% token %'`` on
space-padded text: portable to SQLite and PostgreSQL and exactly the index's token semantics.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Numeric,
    Select,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union,
)
from sqlalchemy import text as text_clause
from sqlalchemy.ext.asyncio import AsyncSession

from app.catalog.loader import Catalog
from app.models import StatusEvent, Transaction, TransactionReference
from app.search import aggregate
from app.search.query import MIN_PREFIX, decode_cursor, encode_cursor, like_escape, percentile
from app.search.types import (
    AccessScope,
    AgencyCount,
    Bottleneck,
    DashboardData,
    DashboardQuery,
    FacetBucket,
    Hit,
    PeopleQuery,
    ProcessingTime,
    SearchPage,
    SearchQuery,
    TextQuery,
)

T = Transaction
E = StatusEvent
R = TransactionReference


def terminal_statuses(catalog: Catalog) -> list[str]:
    return sorted(code for code, status in catalog.statuses.items() if status.terminal)


def involved(agency: str) -> ColumnElement[bool]:
    """The agency originated, holds, acted on, handed over or received the transaction.

    Written as one semi-join (ids computed once) rather than correlated EXISTS per row, so both
    PostgreSQL and SQLite read the agency's own events once.
    """
    acted = select(E.transaction_id).where(or_(E.agency_code == agency, E.from_agency == agency, E.to_agency == agency))
    referenced = select(R.transaction_id).where(R.agency_code == agency)
    return or_(
        T.origin_agency == agency,
        T.holder_agency == agency,
        T.id.in_(union(acted, referenced)),
    )


def incoming_to(agency: str) -> ColumnElement[bool]:
    """Someone handed the transaction to ``agency`` (same rule as the index's ``incoming_agencies``)."""
    return exists().where(
        E.transaction_id == T.id,
        or_(and_(E.from_agency.is_not(None), E.agency_code == agency), E.to_agency == agency),
    )


def outgoing_from(agency: str) -> ColumnElement[bool]:
    """``agency`` handed the transaction to someone (the index's ``outgoing_agencies``)."""
    return exists().where(
        E.transaction_id == T.id,
        or_(E.from_agency == agency, and_(E.to_agency.is_not(None), E.agency_code == agency)),
    )


def scope_clause(scope: AccessScope) -> ColumnElement[bool]:
    return true() if scope.agency_code is None else involved(scope.agency_code)


def _padded(column: Any) -> Any:
    return literal(" ") + func.coalesce(column, "") + " "


def _has_token(column: Any, token: str) -> ColumnElement[bool]:
    return _padded(column).like(f"% {like_escape(token)} %", escape="\\")


def _reference_tiers(text: TextQuery) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """(exact reference/tracking number, prefix of one), per row: what relevance ranks first."""
    exact: list[ColumnElement[bool]] = []
    prefix: list[ColumnElement[bool]] = []
    if text.reference_key:
        exact.append(exists().where(R.transaction_id == T.id, R.reference_key == text.reference_key))
        if len(text.reference_key) >= MIN_PREFIX:
            pattern = like_escape(text.reference_key) + "%"
            prefix.append(exists().where(R.transaction_id == T.id, R.reference_key.like(pattern, escape="\\")))
    if text.tracking_number:
        exact.append(T.tracking_number == text.tracking_number)
    if text.tracking_prefix:
        prefix.append(T.tracking_number.like(like_escape(text.tracking_prefix) + "%", escape="\\"))
    return or_(false(), *exact), or_(false(), *prefix)


def _matching_ids(text: TextQuery, *, fts: bool) -> Any:
    """The ids the text matches (a reference, a tracking number, or every word), as one UNION of
    index-driven selects: the database starts from the few matching ids instead of testing every row.

    On SQLite (the embedded mode) words go through the FTS5 table the drain maintains; elsewhere
    through whole-word LIKE on the same normalized columns.
    """
    parts: list[Select[Any]] = []
    if text.reference_key:
        parts.append(select(R.transaction_id).where(R.reference_key == text.reference_key))
        if len(text.reference_key) >= MIN_PREFIX:
            if fts:  # SQLite: its LIKE ignores case, so only a range can use the index (keys are case-folded)
                upper = text.reference_key + "\U0010ffff"
                parts.append(
                    select(R.transaction_id).where(R.reference_key >= text.reference_key, R.reference_key < upper)
                )
            else:
                pattern = like_escape(text.reference_key) + "%"
                parts.append(select(R.transaction_id).where(R.reference_key.like(pattern, escape="\\")))
    if text.tracking_number:
        parts.append(select(T.id).where(T.tracking_number == text.tracking_number))
    if text.tracking_prefix:
        parts.append(select(T.id).where(T.tracking_number.like(like_escape(text.tracking_prefix) + "%", escape="\\")))
    if text.tokens and fts:
        parts.append(
            select(literal_column("rowid"))
            .select_from(text_clause("transaction_fts"))
            .where(text_clause("transaction_fts MATCH :fts_query").bindparams(fts_query=fts_query(text)))
        )
    elif text.tokens:
        every_word = and_(
            *(
                or_(_has_token(T.search_text, stem), _has_token(T.applicant_name_key, token))
                for token, stem in zip(text.tokens, text.stems, strict=True)
            )
        )
        parts.append(select(T.id).where(every_word))
    return union(*parts) if len(parts) > 1 else parts[0] if parts else select(T.id).where(false())


def _fts_term(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def fts_query(text: TextQuery) -> str:
    """Every token, as a whole word, in the stemmed title/notes or (unstemmed) in the name: FTS5 syntax."""
    return " AND ".join(
        f"(body : {_fts_term(stem)} OR names : {_fts_term(token)})"
        for token, stem in zip(text.tokens, text.stems, strict=True)
    )


class DatabaseBackend:
    """SQL over ``transactions``, ``transaction_references`` and ``status_events``."""

    name = "database"

    def __init__(self, *, session: AsyncSession, catalog: Catalog) -> None:
        self.session = session
        self.catalog = catalog
        self.terminal = terminal_statuses(catalog)

    # --- search -------------------------------------------------------------------------------

    def _overdue(self, now: datetime) -> ColumnElement[bool]:
        return and_(T.due_at.is_not(None), T.due_at < now, T.status.not_in(self.terminal))

    def _conditions(self, query: SearchQuery, scope: AccessScope) -> list[ColumnElement[bool]]:
        conds: list[ColumnElement[bool]] = [scope_clause(scope)]
        if query.text is not None:
            conds.append(T.id.in_(_matching_ids(query.text, fts=self._sqlite())))
        if query.statuses:
            conds.append(T.status.in_(query.statuses))
        if query.holder_agencies:
            conds.append(T.holder_agency.in_(query.holder_agencies))
        if query.sectors:
            wanted = set(query.sectors)
            holders = [code for code, a in self.catalog.agencies.items() if a.sector in wanted]
            conds.append(T.holder_agency.in_(holders))
        if query.counterpart_agency:
            conds.append(involved(query.counterpart_agency))
        if query.transaction_types:
            conds.append(T.transaction_type.in_(query.transaction_types))
        if query.direction and query.perspective_agency:
            side = incoming_to if query.direction == "incoming" else outgoing_from
            conds.append(side(query.perspective_agency))
        for column, low, high in (
            (T.created_at, query.created_from, query.created_to),
            (T.updated_at, query.updated_from, query.updated_to),
        ):
            if low is not None:
                conds.append(column >= low)
            if high is not None:
                conds.append(column < high)
        if query.overdue is not None:
            overdue = self._overdue(query.now)
            conds.append(overdue if query.overdue else ~overdue)
        return conds

    def _score(self, query: SearchQuery) -> ColumnElement[int]:
        if query.text is None:
            return literal(0)
        exact, prefix = _reference_tiers(query.text)
        return case((exact, 3), (prefix, 2), else_=1)

    async def search(self, query: SearchQuery, scope: AccessScope) -> SearchPage:
        conds = self._conditions(query, scope)
        sort = query.sort if (query.sort != "relevance" or query.text is not None) else "newest"
        score = self._score(query)
        stmt = select(T.id, T.created_at, T.due_at, score.label("score")).where(*conds)
        if query.cursor:
            after = decode_cursor(query.cursor, backend=self.name, query_fingerprint=query.fingerprint)["a"]
            stmt = stmt.where(self._after(sort, after, score))
        stmt = stmt.order_by(*self._order(sort, score)).limit(query.size + 1)
        rows = (await self.session.execute(stmt)).all()
        more = len(rows) > query.size
        rows = rows[: query.size]
        next_cursor = None
        if more:
            last = rows[-1]
            values: list[Any] = {
                "newest": [last.created_at.isoformat(), last.id],
                "oldest": [last.created_at.isoformat(), last.id],
                "due": [last.due_at.isoformat() if last.due_at else None, last.id],
                "relevance": [int(last.score), last.id],
            }[sort]
            next_cursor = encode_cursor({"b": self.name, "f": query.fingerprint, "a": values})
        if query.with_facets and not query.cursor:
            total, facets = await self._facets(query, conds)
        else:
            total = int(await self.session.scalar(select(func.count()).select_from(T).where(*conds)) or 0)
            facets = None
        hits = [Hit(transaction_id=r.id, score=float(r.score)) for r in rows]
        return SearchPage(hits=hits, total=total, facets=facets, next_cursor=next_cursor)

    @staticmethod
    def _order(sort: str, score: ColumnElement[int]) -> list[Any]:
        if sort == "oldest":
            return [T.created_at.asc(), T.id.asc()]
        if sort == "due":
            return [T.due_at.asc().nulls_last(), T.id.asc()]
        if sort == "relevance":
            return [score.desc(), T.id.desc()]
        return [T.created_at.desc(), T.id.desc()]

    @staticmethod
    def _after(sort: str, values: list[Any], score: ColumnElement[int]) -> ColumnElement[bool]:
        """Keyset continuation: strictly after the last row of the previous page, in sort order."""
        try:
            first, last_id = values[0], int(values[1])
            if sort in ("newest", "oldest"):
                at = datetime.fromisoformat(first)
                if sort == "newest":
                    return or_(T.created_at < at, and_(T.created_at == at, T.id < last_id))
                return or_(T.created_at > at, and_(T.created_at == at, T.id > last_id))
            if sort == "relevance":
                return or_(score < int(first), and_(score == int(first), T.id < last_id))
            if first is None:
                return and_(T.due_at.is_(None), T.id > last_id)
            due = datetime.fromisoformat(first)
            return or_(T.due_at > due, and_(T.due_at == due, T.id > last_id), T.due_at.is_(None))
        except (TypeError, ValueError, IndexError) as exc:
            from app.errors import UnprocessableEntity

            raise UnprocessableEntity([{"field": "cursor", "message": "not a cursor from this API"}]) from exc

    async def _facets(
        self, query: SearchQuery, conds: list[ColumnElement[bool]]
    ) -> tuple[int, dict[str, list[FacetBucket]]]:
        """The total and every facet from ONE grouped scan of the matching rows, summed up in Python.

        Grouping by (status, holder, type, overdue[, incoming, outgoing]) gives at most a few thousand
        combinations, so one pass replaces a count and a query per facet.
        """
        dims: list[Any] = [
            T.status,
            T.holder_agency,
            T.transaction_type,
            case((self._overdue(query.now), 1), else_=0),
        ]
        if query.perspective_agency:
            dims += [
                case((incoming_to(query.perspective_agency), 1), else_=0),
                case((outgoing_from(query.perspective_agency), 1), else_=0),
            ]
        rows = (await self.session.execute(select(*dims, func.count()).where(*conds).group_by(*dims))).all()
        counts: dict[str, dict[str, int]] = {
            name: defaultdict(int) for name in ("status", "holder_agency", "transaction_type", "sector")
        }
        overdue = {"true": 0, "false": 0}
        direction = {"incoming": 0, "outgoing": 0}
        total = 0
        for row in rows:
            status, holder, ttype, late, *flags = row[:-1]
            n = int(row[-1])
            total += n
            counts["status"][str(status)] += n
            counts["holder_agency"][str(holder)] += n
            if ttype is not None:
                counts["transaction_type"][str(ttype)] += n
            agency = self.catalog.agencies.get(str(holder))
            if agency is not None:
                counts["sector"][agency.sector] += n
            overdue["true" if late else "false"] += n
            if flags:
                direction["incoming"] += n if flags[0] else 0
                direction["outgoing"] += n if flags[1] else 0
        facets = {name: aggregate.buckets(dict(values)) for name, values in counts.items()}
        facets["overdue"] = aggregate.buckets(overdue)
        facets["direction"] = aggregate.buckets(direction if query.perspective_agency else {})
        return total, facets

    # --- call center --------------------------------------------------------------------------

    async def lookup_people(self, query: PeopleQuery, scope: AccessScope) -> list[Hit]:
        conds: list[ColumnElement[bool]] = [scope_clause(scope)]
        if query.national_id_hash:
            conds.append(T.national_id_hash == query.national_id_hash)
        if query.mobile_hash:
            conds.append(T.mobile_hash == query.mobile_hash)
        if query.name_key:
            conds.extend(
                func.coalesce(T.applicant_name_key, "").like(f"%{like_escape(tok)}%", escape="\\")
                for tok in query.name_key.split()
            )
        if query.reference_key or query.tracking_number:
            either: list[ColumnElement[bool]] = []
            if query.reference_key:
                either.append(exists().where(R.transaction_id == T.id, R.reference_key == query.reference_key))
            if query.tracking_number:
                either.append(T.tracking_number == query.tracking_number)
            conds.append(or_(*either))
        rows = await self.session.scalars(
            select(T.id).where(*conds).order_by(T.created_at.desc(), T.id.desc()).limit(query.limit)
        )
        return [Hit(transaction_id=tid) for tid in rows]

    # --- dashboard ----------------------------------------------------------------------------

    async def dashboard(self, query: DashboardQuery, scope: AccessScope) -> DashboardData:
        in_scope = scope_clause(scope)
        scoped_ids = select(T.id).where(in_scope)
        total = int(await self.session.scalar(select(func.count()).select_from(T).where(in_scope)) or 0)
        by_status = await self._group(select(T.status, func.count()).where(in_scope).group_by(T.status))

        incoming_pairs = union(
            select(E.transaction_id.label("tid"), E.agency_code.label("agency")).where(E.from_agency.is_not(None)),
            select(E.transaction_id, E.to_agency).where(E.to_agency.is_not(None)),
        ).subquery()
        outgoing_pairs = union(
            select(E.transaction_id.label("tid"), E.from_agency.label("agency")).where(E.from_agency.is_not(None)),
            select(E.transaction_id, E.agency_code).where(E.to_agency.is_not(None)),
        ).subquery()
        involved_pairs = union(
            select(T.id.label("tid"), T.origin_agency.label("agency")),
            select(T.id, T.holder_agency),
            select(E.transaction_id, E.agency_code),
            select(E.transaction_id, E.from_agency).where(E.from_agency.is_not(None)),
            select(E.transaction_id, E.to_agency).where(E.to_agency.is_not(None)),
            select(R.transaction_id, R.agency_code),
        ).subquery()
        counts = {}
        for key, pairs in (("in", incoming_pairs), ("out", outgoing_pairs), ("all", involved_pairs)):
            counts[key] = await self._group(
                select(pairs.c.agency, func.count()).where(pairs.c.tid.in_(scoped_ids)).group_by(pairs.c.agency)
            )
        overdue = await self._group(
            select(T.holder_agency, func.count()).where(in_scope, self._overdue(query.now)).group_by(T.holder_agency)
        )
        return DashboardData(
            total=total,
            by_status=aggregate.buckets(by_status),
            flows=aggregate.flows(counts["in"], counts["out"]),
            top_agencies=aggregate.top(counts["all"], query.top),
            overdue_by_agency=[AgencyCount(b.value, b.count) for b in aggregate.buckets(overdue)],
            processing=await self._processing(in_scope),
            daily=aggregate.daily(await self._daily(in_scope, query), now=query.now, days=query.days),
            bottlenecks=await self._bottlenecks(in_scope, query),
        )

    async def _group(self, stmt: Select[Any, Any]) -> dict[str, int]:
        return {str(k): int(v) for k, v in (await self.session.execute(stmt)).all() if k is not None}

    @property
    def _postgres(self) -> bool:
        return self.session.get_bind().dialect.name == "postgresql"

    def _sqlite(self) -> bool:
        return self.session.get_bind().dialect.name == "sqlite"

    async def _processing(self, in_scope: ColumnElement[bool]) -> list[ProcessingTime]:
        """Median and p90 days created→closed, per holder agency and per (agency, type)."""
        closed = and_(in_scope, T.status.in_(self.terminal), T.completed_at.is_not(None))
        if self._postgres:
            days = func.round((func.extract("epoch", T.completed_at - T.created_at) / 86400).cast(Numeric()), 4)
        else:
            days = func.round((func.julianday(T.completed_at) - func.julianday(T.created_at)), 4)
        rows = (await self.session.execute(select(T.holder_agency, T.transaction_type, days).where(closed))).all()
        per_agency: dict[str, list[float]] = defaultdict(list)
        per_type: dict[tuple[str, str], list[float]] = defaultdict(list)
        for agency, ttype, value in rows:
            days_value = max(float(cast(float, value)), 0.0)
            per_agency[str(agency)].append(days_value)
            if ttype is not None:
                per_type[(str(agency), str(ttype))].append(days_value)
        return aggregate.processing(
            [(a, None, len(v), percentile(v, 0.5), percentile(v, 0.9)) for a, v in per_agency.items()]
            + [(a, t, len(v), percentile(v, 0.5), percentile(v, 0.9)) for (a, t), v in per_type.items()]
        )

    async def _daily(self, in_scope: ColumnElement[bool], query: DashboardQuery) -> dict[str, int]:
        first = aggregate.window_start(query.now, query.days)
        if self._postgres:
            day = func.to_char(func.timezone("Asia/Riyadh", T.created_at), "YYYY-MM-DD")
        else:
            day = func.date(T.created_at, "+3 hours")
        return await self._group(select(day, func.count()).where(in_scope, T.created_at >= first).group_by(day))

    async def _bottlenecks(self, in_scope: ColumnElement[bool], query: DashboardQuery) -> list[Bottleneck]:
        """Open transactions per holder: how long since their last update (median and longest)."""
        rows = (
            await self.session.execute(
                select(T.holder_agency, T.updated_at).where(in_scope, T.status.not_in(self.terminal))
            )
        ).all()
        waits: dict[str, list[float]] = defaultdict(list)
        for agency, updated_at in rows:
            waits[agency].append(updated_at.timestamp())
        return aggregate.bottlenecks(
            {a: (len(v), percentile(v, 0.5), min(v)) for a, v in waits.items()}, now=query.now, top=query.top
        )
