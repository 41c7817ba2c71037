"""Search on Elasticsearch through the alias; matches the SQL backend's semantics token for token.

Queries are built from ``match``/``term``/``prefix`` clauses on text the shared normalizer
already produced, never ``query_string``, so characters such as ``*``, ``:`` or ``{`` in a
query are just text. Deep paging uses a point in time and ``search_after`` (no 10,000 limit).
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from typing import Any

from elasticsearch import ApiError, NotFoundError, TransportError

from app.catalog.loader import Catalog
from app.errors import ServiceUnavailable, UnprocessableEntity
from app.search import aggregate
from app.search.query import MIN_PREFIX, decode_cursor, encode_cursor
from app.search.types import (
    AccessScope,
    AgencyCount,
    DashboardData,
    DashboardQuery,
    FacetBucket,
    Hit,
    PeopleQuery,
    SearchPage,
    SearchQuery,
    TextQuery,
)

Query = dict[str, Any]
PIT_KEEP_ALIVE = "2m"
BIG = 1000
"""Bucket count for terms aggregations over agencies/types/statuses: above the catalog's sizes."""


def _iso(value: datetime) -> str:
    return value.isoformat()


def scope_filter(scope: AccessScope) -> list[Query]:
    """The caller's agency must be among the agencies involved (origin, holder, any event or handover)."""
    return [] if scope.agency_code is None else [{"term": {"agencies": scope.agency_code}}]


def overdue_query(now: datetime) -> Query:
    return {"bool": {"filter": [{"range": {"due_at": {"lt": _iso(now)}}}, {"term": {"status_terminal": False}}]}}


def text_query(text: TextQuery) -> Query:
    """Exact or prefix reference/tracking match, or every token found in title, public notes or name."""
    should: list[Query] = []
    if text.tokens:
        per_token = [
            {
                "bool": {
                    "should": [
                        {"match": {"title_norm": {"query": stem, "operator": "and"}}},
                        {"match": {"notes_norm": {"query": stem, "operator": "and"}}},
                        {"match": {"applicant_name_norm": {"query": token, "operator": "and"}}},
                    ],
                    "minimum_should_match": 1,
                }
            }
            for token, stem in zip(text.tokens, text.stems, strict=True)
        ]
        should.append({"bool": {"must": per_token}})
    if text.reference_key:
        should.append({"term": {"reference_keys": {"value": text.reference_key, "boost": 10.0}}})
        if len(text.reference_key) >= MIN_PREFIX:
            should.append({"prefix": {"reference_keys": {"value": text.reference_key, "boost": 5.0}}})
    if text.tracking_number:
        should.append({"term": {"tracking_number": {"value": text.tracking_number, "boost": 10.0}}})
    if text.tracking_prefix:
        should.append({"prefix": {"tracking_number": {"value": text.tracking_prefix, "boost": 5.0}}})
    if not should:
        return {"match_none": {}}
    return {"bool": {"should": should, "minimum_should_match": 1}}


def build_query(query: SearchQuery, scope: AccessScope) -> Query:
    filters: list[Query] = scope_filter(scope)
    must: list[Query] = []
    must_not: list[Query] = []
    if query.text is not None:
        must.append(text_query(query.text))
    for field, values in (
        ("status", query.statuses),
        ("holder_agency", query.holder_agencies),
        ("sector", query.sectors),
        ("transaction_type", query.transaction_types),
    ):
        if values:
            filters.append({"terms": {field: list(values)}})
    if query.counterpart_agency:
        filters.append({"term": {"agencies": query.counterpart_agency}})
    if query.direction and query.perspective_agency:
        field = "incoming_agencies" if query.direction == "incoming" else "outgoing_agencies"
        filters.append({"term": {field: query.perspective_agency}})
    for field, low, high in (
        ("created_at", query.created_from, query.created_to),
        ("updated_at", query.updated_from, query.updated_to),
    ):
        bounds = {k: _iso(v) for k, v in (("gte", low), ("lt", high)) if v is not None}
        if bounds:
            filters.append({"range": {field: bounds}})
    if query.overdue is True:
        filters.append(overdue_query(query.now))
    elif query.overdue is False:
        must_not.append(overdue_query(query.now))
    return {"bool": {"filter": filters, "must": must, "must_not": must_not}}


def sort_clause(sort: str) -> list[Any]:
    """Each order ends on ``id`` so pages are stable and equal to the SQL backend's keyset order."""
    if sort == "oldest":
        return [{"created_at": "asc"}, {"id": "asc"}]
    if sort == "due":
        return [{"due_at": {"order": "asc", "missing": "_last"}}, {"id": "asc"}]
    if sort == "relevance":
        return [{"_score": "desc"}, {"id": "desc"}]
    return [{"created_at": "desc"}, {"id": "desc"}]


def facet_aggs(query: SearchQuery) -> Query:
    aggs: Query = {
        "status": {"terms": {"field": "status", "size": BIG}},
        "holder_agency": {"terms": {"field": "holder_agency", "size": BIG}},
        "sector": {"terms": {"field": "sector", "size": BIG}},
        "transaction_type": {"terms": {"field": "transaction_type", "size": BIG}},
        "overdue": {
            "filters": {
                "filters": {
                    "true": overdue_query(query.now),
                    "false": {"bool": {"must_not": [overdue_query(query.now)]}},
                }
            }
        },
    }
    if query.perspective_agency:
        aggs["direction"] = {
            "filters": {
                "filters": {
                    "incoming": {"term": {"incoming_agencies": query.perspective_agency}},
                    "outgoing": {"term": {"outgoing_agencies": query.perspective_agency}},
                }
            }
        }
    return aggs


def _terms(agg: Query) -> dict[str, int]:
    return {str(b["key"]): int(b["doc_count"]) for b in agg.get("buckets", [])}


def read_facets(aggs: Query) -> dict[str, list[FacetBucket]]:
    facets = {
        name: aggregate.buckets(_terms(aggs[name]))
        for name in ("status", "holder_agency", "sector", "transaction_type")
    }
    for name in ("overdue", "direction"):
        found = aggs.get(name, {}).get("buckets", {})
        facets[name] = aggregate.buckets({k: int(v["doc_count"]) for k, v in found.items()})
    return facets


class ElasticsearchBackend:
    """Queries through the alias (first page), then through a point in time opened by the second page."""

    name = "elasticsearch"

    def __init__(self, *, client: Any, alias: str, catalog: Catalog) -> None:
        self.client = client
        self.alias = alias
        self.catalog = catalog

    async def _call(self, method: str, **kwargs: Any) -> Any:
        """One client call; index outages become 503 and an expired point in time a 422."""
        try:
            response = await getattr(self.client, method)(**kwargs)
        except NotFoundError as exc:
            if "pit" in kwargs or method == "close_point_in_time":
                raise UnprocessableEntity(
                    [{"field": "cursor", "message": "the cursor has expired; start the search again"}]
                ) from exc
            raise ServiceUnavailable("the search index is not available; retry later") from exc
        except (TransportError, ApiError) as exc:
            raise ServiceUnavailable("the search index is not available; retry later") from exc
        return response.body if hasattr(response, "body") else response

    async def search(self, query: SearchQuery, scope: AccessScope) -> SearchPage:
        sort = query.sort if (query.sort != "relevance" or query.text is not None) else "newest"
        body: Query = {
            "query": build_query(query, scope),
            "sort": sort_clause(sort),
            "size": query.size + 1,
            "track_total_hits": True,
            "source": ["id"],
        }
        # The first page searches the alias directly: most searches never ask for a second page, and
        # a point in time opened for each of them cost two more round trips and kept segments alive
        # for minutes under load. The second page opens the point in time the later pages share.
        pit_id = ""
        if query.cursor:
            state = decode_cursor(query.cursor, backend=self.name, query_fingerprint=query.fingerprint)
            body["search_after"] = state["a"]
            pit_id = str(state.get("p") or "")
            if not pit_id:
                opened = await self._call("open_point_in_time", index=self.alias, keep_alive=PIT_KEEP_ALIVE)
                pit_id = opened["id"]
        elif query.with_facets:
            body["aggs"] = facet_aggs(query)
        if pit_id:
            result = await self._call("search", pit={"id": pit_id, "keep_alive": PIT_KEEP_ALIVE}, **body)
            pit_id = result.get("pit_id", pit_id)
        else:
            result = await self._call("search", index=self.alias, **body)
        raw_hits = result["hits"]["hits"]
        more = len(raw_hits) > query.size
        raw_hits = raw_hits[: query.size]
        next_cursor = None
        if more:
            state = {"b": self.name, "f": query.fingerprint, "a": raw_hits[-1]["sort"]}
            next_cursor = encode_cursor({**state, "p": pit_id} if pit_id else state)
        elif pit_id:
            await self._close(pit_id)
        hits = [Hit(transaction_id=int(h["_source"]["id"]), score=h.get("_score")) for h in raw_hits]
        facets = read_facets(result["aggregations"]) if "aggregations" in result else None
        return SearchPage(
            hits=hits, total=int(result["hits"]["total"]["value"]), facets=facets, next_cursor=next_cursor
        )

    async def _close(self, pit_id: str) -> None:
        """Release the point in time early; if this fails it expires by itself."""
        with contextlib.suppress(TransportError, ApiError):
            await self.client.close_point_in_time(id=pit_id)

    async def lookup_people(self, query: PeopleQuery, scope: AccessScope) -> list[Hit]:
        filters: list[Query] = scope_filter(scope)
        must: list[Query] = []
        if query.national_id_hash:
            filters.append({"term": {"national_id_hash": query.national_id_hash}})
        if query.mobile_hash:
            filters.append({"term": {"mobile_hash": query.mobile_hash}})
        if query.name_key:
            must.append(
                {"match": {"applicant_name_norm": {"query": query.name_key, "operator": "and", "fuzziness": "AUTO"}}}
            )
        either: list[Query] = []
        if query.reference_key:
            either.append({"term": {"reference_keys": query.reference_key}})
        if query.tracking_number:
            either.append({"term": {"tracking_number": query.tracking_number}})
        if either:
            filters.append({"bool": {"should": either, "minimum_should_match": 1}})
        result = await self._call(
            "search",
            index=self.alias,
            query={"bool": {"filter": filters, "must": must}},
            sort=sort_clause("newest"),
            size=query.limit,
            source=["id"],
        )
        return [Hit(transaction_id=int(h["_source"]["id"])) for h in result["hits"]["hits"]]

    async def dashboard(self, query: DashboardQuery, scope: AccessScope) -> DashboardData:
        closed = {"bool": {"filter": [{"term": {"status_terminal": True}}, {"exists": {"field": "completed_at"}}]}}
        pct = {"percentiles": {"field": "elapsed_days", "percents": [50, 90]}}
        aggs: Query = {
            "by_status": {"terms": {"field": "status", "size": BIG}},
            "incoming": {"terms": {"field": "incoming_agencies", "size": BIG}},
            "outgoing": {"terms": {"field": "outgoing_agencies", "size": BIG}},
            "involved": {"terms": {"field": "agencies", "size": BIG}},
            "overdue": {
                "filter": overdue_query(query.now),
                "aggs": {"by_agency": {"terms": {"field": "holder_agency", "size": BIG}}},
            },
            "closed": {
                "filter": closed,
                "aggs": {
                    "by_agency": {
                        "terms": {"field": "holder_agency", "size": BIG},
                        "aggs": {
                            "pct": pct,
                            "types": {"terms": {"field": "transaction_type", "size": BIG}, "aggs": {"pct": pct}},
                        },
                    }
                },
            },
            "daily": {
                "filter": {"range": {"created_at": {"gte": _iso(aggregate.window_start(query.now, query.days))}}},
                "aggs": {
                    "days": {
                        "date_histogram": {
                            "field": "created_at",
                            "calendar_interval": "day",
                            "time_zone": "Asia/Riyadh",
                            "format": "yyyy-MM-dd",
                            "min_doc_count": 1,
                        }
                    }
                },
            },
            "open": {
                "filter": {"term": {"status_terminal": False}},
                "aggs": {
                    "by_agency": {
                        "terms": {"field": "holder_agency", "size": BIG},
                        "aggs": {
                            "oldest": {"min": {"field": "updated_at"}},
                            "median": {"percentiles": {"field": "updated_at", "percents": [50]}},
                        },
                    }
                },
            },
        }
        # The processing-time percentiles cost as much as all the other aggregations together: they
        # go in a second request, run in parallel (one shard aggregates on one thread).
        slow = {"closed": aggs.pop("closed")}
        scoped = {"bool": {"filter": scope_filter(scope)}}
        result, processing_result = await asyncio.gather(
            self._call("search", index=self.alias, query=scoped, size=0, track_total_hits=True, aggs=aggs),
            self._call("search", index=self.alias, query=scoped, size=0, aggs=slow),
        )
        a = {**result["aggregations"], **processing_result["aggregations"]}
        processing: list[tuple[str, str | None, int, float | None, float | None]] = []
        for bucket in a["closed"]["by_agency"]["buckets"]:
            processing.append((bucket["key"], None, bucket["doc_count"], *_pcts(bucket["pct"], "50.0", "90.0")))
            for sub in bucket["types"]["buckets"]:
                processing.append((bucket["key"], sub["key"], sub["doc_count"], *_pcts(sub["pct"], "50.0", "90.0")))
        waits = {
            b["key"]: (
                int(b["doc_count"]),
                _seconds(b["median"]["values"].get("50.0")),
                _seconds(b["oldest"].get("value")),
            )
            for b in a["open"]["by_agency"]["buckets"]
        }
        overdue = _terms(a["overdue"]["by_agency"])
        return DashboardData(
            total=int(result["hits"]["total"]["value"]),
            by_status=aggregate.buckets(_terms(a["by_status"])),
            flows=aggregate.flows(_terms(a["incoming"]), _terms(a["outgoing"])),
            top_agencies=aggregate.top(_terms(a["involved"]), query.top),
            overdue_by_agency=[AgencyCount(b.value, b.count) for b in aggregate.buckets(overdue)],
            processing=aggregate.processing(processing),
            daily=aggregate.daily(
                {b["key_as_string"]: int(b["doc_count"]) for b in a["daily"]["days"]["buckets"]},
                now=query.now,
                days=query.days,
            ),
            bottlenecks=aggregate.bottlenecks(waits, now=query.now, top=query.top),
        )


def _pcts(agg: Query, *keys: str) -> tuple[float | None, float | None]:
    values = agg.get("values", {})
    low, high = (values.get(k) for k in keys)
    return (float(low) if low is not None else None, float(high) if high is not None else None)


def _seconds(epoch_ms: float | None) -> float | None:
    return None if epoch_ms is None else float(epoch_ms) / 1000.0
