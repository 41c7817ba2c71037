"""File import for agencies without an integration: CSV or XLSX rows become events on the same path.

Columns are mapped by `config/agencies/<code>.yaml`; a row without an event id gets one derived
from its content, so re-running an import answers `duplicate` for what is already stored.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.catalog.loader import Catalog, ImportSpec
from app.errors import BadRequest
from app.ingestion.service import ingest_items
from app.normalization.dates import RIYADH

BATCH = 500


@dataclass(slots=True)
class ImportReport:
    rows: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    rejected: list[tuple[int, str, str]] = field(default_factory=list)
    report_path: Path | None = None


def read_rows(path: Path) -> Iterator[dict[str, Any]]:
    """Rows as header → value, from a UTF-8 CSV (BOM tolerated) or the first sheet of an XLSX."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield from csv.DictReader(handle)
    elif suffix in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True, data_only=True)
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        header = [str(h).strip() if h is not None else "" for h in next(rows, [])]
        for values in rows:
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            yield dict(zip(header, values, strict=False))
        workbook.close()
    else:
        raise BadRequest(f"unsupported file type {suffix!r}: use .csv or .xlsx")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _occurred_at(value: Any, spec: ImportSpec) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=RIYADH)).isoformat()
    text = _text(value)
    if text and spec.date_format:
        try:
            return datetime.strptime(text, spec.date_format).replace(tzinfo=RIYADH).isoformat()
        except ValueError:
            return text  # the event validation names the field and the problem
    return text


def row_to_event(row: dict[str, Any], spec: ImportSpec, catalog: Catalog) -> dict[str, Any]:
    """Map one spreadsheet row onto the canonical event form."""
    mapped: dict[str, Any] = {}
    for header, target in spec.columns.items():
        if header in row:
            mapped[target] = row[header]
    event: dict[str, Any] = {}
    for name in ("event_id", "reference", "transaction_type", "title", "status_code", "from_reference"):
        if (value := _text(mapped.get(name))) is not None:
            event[name] = value
    if "occurred_at" in mapped:
        event["occurred_at"] = _occurred_at(mapped["occurred_at"], spec)
    for name in ("to_agency", "from_agency"):
        if (value := _text(mapped.get(name))) is not None:
            agency = catalog.resolve_agency(value)
            event[name] = agency.code if agency else value
    applicant = {
        key: value
        for key, value in (
            ("national_id", _text(mapped.get("applicant_national_id"))),
            ("name", _text(mapped.get("applicant_name"))),
            ("mobile", _text(mapped.get("applicant_mobile"))),
        )
        if value is not None
    }
    if applicant:
        event["applicant"] = applicant
    if (note := _text(mapped.get("note"))) is not None:
        event["note"] = {"text": note, "visibility": "public"}
    if "event_id" not in event:
        digest = hashlib.sha256(repr(sorted((k, str(v)) for k, v in row.items())).encode()).hexdigest()
        event["event_id"] = f"import-{digest[:24]}"
    return event


async def import_file(
    session_factory: async_sessionmaker[AsyncSession],
    *,
    path: Path,
    agency_code: str,
    catalog: Catalog,
    secret: str,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import every row through ``ingest_items`` in committed batches and write a report of rejections."""
    spec = catalog.import_spec(agency_code)
    if spec is None:
        raise BadRequest(f"no import column map for {agency_code}: add config/agencies/{agency_code}.yaml")
    report = ImportReport()
    batch: list[tuple[int, dict[str, Any]]] = []

    async def flush() -> None:
        async with session_factory() as session:
            summary = await ingest_items(
                session,
                items=[event for _, event in batch],
                agency_code=agency_code,
                catalog=catalog,
                secret=secret,
                source="import",
            )
            await session.commit()
        for (row_number, _), result in zip(batch, summary.results, strict=True):
            report.outcomes[result.outcome] = report.outcomes.get(result.outcome, 0) + 1
            if result.outcome in ("error", "conflict"):
                report.rejected.append((row_number, result.error or "", result.message or ""))
        if progress:
            progress(len(batch))
        batch.clear()

    for row_number, row in enumerate(read_rows(path), start=2):  # row 1 is the header
        report.rows += 1
        batch.append((row_number, row_to_event(row, spec, catalog)))
        if len(batch) >= BATCH:
            await flush()
    if batch:
        await flush()
    if report.rejected:
        report.report_path = path.with_name(path.stem + ".rejected.csv")
        with report.report_path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "error", "message"])
            writer.writerows(report.rejected)
    return report
