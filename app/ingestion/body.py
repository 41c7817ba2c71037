"""Reading request bodies within limits: size, gzip (bomb-safe), JSON, NDJSON and CloudEvents."""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from fastapi import Request

from app.errors import BadRequest, PayloadTooLarge, UnprocessableEntity

CLOUDEVENT = "application/cloudevents+json"
CLOUDEVENT_BATCH = "application/cloudevents-batch+json"
NDJSON = ("application/x-ndjson", "application/ndjson", "application/jsonl")
MAX_DEPTH = 8


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body, decompressed when gzip, refusing more than ``limit`` bytes either way."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is larger than the {limit} byte limit")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is larger than the {limit} byte limit")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = decompressor.decompress(body, limit + 1)
        except zlib.error as exc:
            raise BadRequest("the body is not valid gzip") from exc
        if len(body) > limit or decompressor.unconsumed_tail:
            raise PayloadTooLarge(f"the decompressed body is larger than the {limit} byte limit")
    return body


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def parse_json(body: bytes) -> Any:
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UnprocessableEntity(f"the body is not valid UTF-8 JSON: {exc.msg} at byte {exc.pos}") from exc
    if _depth(value) > MAX_DEPTH:
        raise UnprocessableEntity(f"the JSON is nested deeper than {MAX_DEPTH} levels")
    return value


def parse_ndjson(body: bytes) -> list[Any]:
    items: list[Any] = []
    for number, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            items.append(parse_json(line))
        except UnprocessableEntity as exc:
            raise UnprocessableEntity(f"line {number}: {exc.detail}") from exc
    return items


def from_cloudevent(envelope: Any) -> Any:
    """Map a structured-mode CloudEvent onto our event form; a malformed one stays a bad item."""
    if not isinstance(envelope, dict):
        return envelope
    data = envelope.get("data")
    item: dict[str, Any] = dict(data) if isinstance(data, dict) else {}
    if "id" in envelope:
        item["event_id"] = envelope["id"]
    source = envelope.get("source")
    if isinstance(source, str) and source:
        item["agency"] = source.rstrip("/").rsplit("/", 1)[-1]
    if "time" in envelope:
        item["occurred_at"] = envelope["time"]
    sequence = envelope.get("sequence")
    if sequence is not None:
        item["sequence"] = int(sequence) if isinstance(sequence, str) and sequence.isdigit() else sequence
    return item


def content_type(request: Request) -> str:
    return request.headers.get("content-type", "application/json").split(";")[0].strip().lower()


def parse_items(request: Request, body: bytes, *, max_items: int) -> list[Any]:
    """Every item of a bulk request, in order, whatever the accepted content type."""
    kind = content_type(request)
    if kind in NDJSON:
        items = parse_ndjson(body)
    else:
        value = parse_json(body)
        if not isinstance(value, list):
            raise UnprocessableEntity("a bulk request is a JSON array of events")
        items = value
        if kind == CLOUDEVENT_BATCH:
            items = [from_cloudevent(v) for v in items]
    if not items:
        raise UnprocessableEntity("the request holds no events")
    if len(items) > max_items:
        raise PayloadTooLarge(f"{len(items)} items; a bulk request holds at most {max_items}")
    return items


def parse_single(request: Request, body: bytes) -> Any:
    value = parse_json(body)
    if content_type(request) == CLOUDEVENT:
        return from_cloudevent(value)
    if not isinstance(value, dict):
        raise UnprocessableEntity("a single event is a JSON object; send arrays to /api/v1/events/bulk")
    return value
