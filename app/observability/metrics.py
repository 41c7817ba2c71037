"""Prometheus metrics. With several uvicorn workers set PROMETHEUS_MULTIPROC_DIR (see docs/deployment.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS_INGESTED = Counter(
    "inquiry_events_ingested_total", "Ingested items by agency and outcome", ["agency", "outcome"]
)
BULK_SIZE = Histogram("inquiry_bulk_items", "Items per ingestion request", buckets=(1, 5, 10, 50, 100, 500, 1000, 5000))
REQUEST_LATENCY = Histogram(
    "inquiry_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
SEARCH_LATENCY = Histogram(
    "inquiry_search_duration_seconds",
    "Search backend latency",
    ["backend", "kind"],
    buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
RATE_LIMITED = Counter("inquiry_rate_limit_rejections_total", "Requests refused by a rate limit", ["kind"])
OUTBOX_DEPTH = Gauge("inquiry_outbox_pending", "Outbox rows waiting to be indexed")
OUTBOX_OLDEST = Gauge("inquiry_outbox_oldest_age_seconds", "Age of the oldest pending outbox row (index lag)")
DEAD_LETTERS = Gauge("inquiry_dead_letters", "Documents the index refused, not yet replayed")
INDEXED = Counter("inquiry_documents_indexed_total", "Documents written to the search index", ["result"])
