"""Turning API responses into what templates draw: facet links, bar rows and the trend's geometry.

Kept apart from the templates so the arithmetic is plain Python and the markup stays declarative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.datastructures import QueryParams

from app.catalog.loader import Catalog
from app.dashboard.schemas import DashboardOut
from app.errors import UnprocessableEntity
from app.staff.schemas import FacetOut, LookupParams, SearchParams
from app.transactions.state import TERMINAL_STATUSES
from app.ui.i18n import Lang, translate

LIST_FIELDS = ("status", "holder_agency", "sector", "transaction_type")
SINGLE_FACETS = ("direction", "overdue")
FACET_ORDER = ("direction", "status", "overdue", "holder_agency", "sector", "transaction_type")
LOOKUP_KINDS = ("national_id", "mobile", "name", "reference")


def validated(model: type[Any], raw: dict[str, Any]) -> Any:
    """Validate like the JSON API does, but report problems as our own 422 for the page to show."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise UnprocessableEntity(
            [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        ) from exc


def search_params(query: QueryParams) -> SearchParams:
    """The same ``SearchParams`` the API takes, read from the page's GET form (blank fields ignored)."""
    raw: dict[str, Any] = {}
    for name in SearchParams.model_fields:
        values = [v for v in query.getlist(name) if v.strip()]
        if values:
            raw[name] = values if name in LIST_FIELDS else values[-1]
    params: SearchParams = validated(SearchParams, raw)
    return params


def lookup_params(query: QueryParams) -> tuple[str, str, LookupParams | None]:
    """The call-center form: one kind (ID, mobile, name, reference) and one value."""
    kind = query.get("by", "national_id")
    kind = kind if kind in LOOKUP_KINDS else "national_id"
    value = query.get("value", "").strip()
    if not value:
        return kind, value, None
    params: LookupParams = validated(LookupParams, {kind: value})
    return kind, value, params


def _query_without(query: QueryParams, *drop: str) -> list[tuple[str, str]]:
    return [(k, v) for k, v in query.multi_items() if k not in drop and v.strip()]


def _facet_label(name: str, bucket: FacetOut, lang: Lang) -> str:
    if name == "direction":
        return translate(f"direction_{bucket.value}", lang)
    if name == "overdue":
        return translate(f"facet_{bucket.value}", lang)
    return (bucket.label_ar if lang == "ar" else bucket.label_en) or bucket.label_ar or bucket.value


@dataclass
class FacetLink:
    label: str
    count: int
    href: str
    active: bool


def facet_groups(
    facets: dict[str, list[FacetOut]] | None, query: QueryParams, lang: Lang
) -> list[tuple[str, list[FacetLink]]]:
    """Each facet value as a link that toggles it in the current query (and goes back to page one)."""
    if not facets:
        return []
    groups = []
    for name in FACET_ORDER:
        buckets = [b for b in facets.get(name, []) if b.count > 0 or b.value in query.getlist(name)]
        if not buckets:
            continue
        links = []
        for b in buckets:
            base = _query_without(query, "cursor")
            active = (name, b.value) in base
            if active:
                items = [(k, v) for k, v in base if (k, v) != (name, b.value)]
            elif name in SINGLE_FACETS:
                items = [(k, v) for k, v in base if k != name] + [(name, b.value)]
            else:
                items = [*base, (name, b.value)]
            links.append(
                FacetLink(label=_facet_label(name, b, lang), count=b.count, href=f"?{urlencode(items)}", active=active)
            )
        groups.append((translate(f"facet_{name}", lang), links))
    return groups


def next_page_href(query: QueryParams, cursor: str | None) -> str | None:
    return f"?{urlencode([*_query_without(query, 'cursor'), ('cursor', cursor)])}" if cursor else None


def first_page_href(query: QueryParams) -> str | None:
    return f"?{urlencode(_query_without(query, 'cursor'))}" if query.get("cursor") else None


@dataclass
class Bar:
    label: str
    value: float
    percent: float
    """0-100 of the largest value in its chart, for the bar's width."""


def bars(rows: list[tuple[str, float]], limit: int = 12) -> list[Bar]:
    rows = sorted(rows, key=lambda r: r[1], reverse=True)[:limit]
    top = max((v for _, v in rows), default=0) or 1
    return [Bar(label=label, value=v, percent=round(100 * v / top, 2)) for label, v in rows]


@dataclass
class Column:
    x: float
    y: float
    width: float
    height: float
    day: str
    count: int


def trend_columns(daily: list[Any], *, width: float = 600, height: float = 160) -> list[Column]:
    """Columns of the daily trend in an SVG of ``width`` x ``height`` (oldest first)."""
    if not daily:
        return []
    top = max(d.count for d in daily) or 1
    step = width / len(daily)
    gap = min(2.0, step * 0.2)
    out = []
    for i, d in enumerate(daily):
        h = round(height * d.count / top, 2)
        out.append(
            Column(
                x=round(i * step, 2),
                y=round(height - h, 2),
                width=round(step - gap, 2),
                height=h,
                day=d.day,
                count=d.count,
            )
        )
    return out


def dashboard_view(data: DashboardOut, lang: Lang, catalog: Catalog) -> dict[str, Any]:
    """Everything the dashboard template draws, computed once per refresh."""

    def name(code: str, name_ar: str | None = None) -> str:
        agency = catalog.agencies.get(code)
        if agency is None:
            return name_ar or code
        return agency.name_ar if lang == "ar" else agency.name_en

    def type_name(code: str | None) -> str:
        ttype = catalog.transaction_types.get(code or "")
        if ttype is None:
            return code or translate("all_types", lang)
        return ttype.name_ar if lang == "ar" else ttype.name_en

    flows = sorted(data.flows, key=lambda f: f.incoming + f.outgoing, reverse=True)[:10]
    flow_top = max((max(f.incoming, f.outgoing) for f in flows), default=0) or 1
    return {
        "data": data,
        "status_bars": bars([((s.label_ar if lang == "ar" else s.label_en), s.count) for s in data.by_status]),
        "flows": [
            {
                "name": name(f.agency, f.name_ar),
                "incoming": f.incoming,
                "outgoing": f.outgoing,
                "in_pct": round(100 * f.incoming / flow_top, 2),
                "out_pct": round(100 * f.outgoing / flow_top, 2),
            }
            for f in flows
        ],
        "overdue_bars": bars([(name(a.agency, a.name_ar), a.count) for a in data.overdue_by_agency]),
        "overdue_total": sum(a.count for a in data.overdue_by_agency),
        "open_total": sum(s.count for s in data.by_status if s.status not in TERMINAL_STATUSES),
        "columns": trend_columns(data.daily),
        "processing": sorted(data.processing, key=lambda p: p.median_days or 0, reverse=True)[:15],
        "name": name,
        "type_name": type_name,
        "bottlenecks": sorted(data.bottlenecks, key=lambda b: b.median_wait_days or 0, reverse=True)[:10],
    }
