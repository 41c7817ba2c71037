"""Load and validate the static reference catalog in ``config/``.

The catalog is the shared vocabulary of the platform: which agencies exist, what the canonical
statuses mean, how each agency's raw status codes map onto them, which transaction types exist and
which days are not working days. It is read once, validated as a whole (all problems are reported
together, each naming its file), and then treated as read-only.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

#: The canonical status vocabulary, in life-cycle order. statuses.yaml must define exactly these,
#: so code elsewhere may rely on them.
CANONICAL_STATUS_CODES: tuple[str, ...] = (
    "registered",
    "received",
    "under_review",
    "referred",
    "awaiting_applicant",
    "awaiting_payment",
    "awaiting_agency",
    "on_hold",
    "approved",
    "rejected",
    "ready_for_collection",
    "completed",
    "returned",
    "cancelled",
)

#: Event field names a spreadsheet column may be mapped to (``import.columns`` values).
EVENT_FIELDS: frozenset[str] = frozenset(
    {
        "event_id",
        "reference",
        "transaction_type",
        "title",
        "status_code",
        "occurred_at",
        "applicant_national_id",
        "applicant_name",
        "applicant_mobile",
        "to_agency",
        "from_agency",
        "from_reference",
        "note",
    }
)

#: Fields without which an uploaded row cannot become an event.
REQUIRED_IMPORT_FIELDS: frozenset[str] = frozenset({"reference", "status_code", "occurred_at"})

_WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}

_AGENCY_CODE_RE = re.compile(r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
_SLUG_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class CatalogError(ValueError):
    """Raised when the configuration is missing or inconsistent; the message lists every problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: list[str] = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid catalog configuration ({len(self.problems)} problem(s)):\n{lines}")


def normalize_raw_code(raw: str) -> str:
    """Normalize an agency raw status code for matching: strip, then upper-case.

    ``str.upper`` changes cased scripts (Latin) only; Arabic text passes through unchanged.
    """
    return raw.strip().upper()


# --------------------------------------------------------------------------------------------------
# Public models (immutable so the cached catalog can be shared safely).
# --------------------------------------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Sector(_Frozen):
    """A grouping of agencies (municipal, health, ...) used for filters and reports."""

    code: str
    name_ar: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class Governorate(_Frozen):
    """A governorate of Makkah Region where an agency office sits."""

    code: str
    name_ar: str = Field(min_length=1)
    name_en: str = Field(min_length=1)


class Agency(_Frozen):
    """A government body that pushes (or uploads) transaction status events."""

    code: str
    name_ar: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    sector: str
    governorate: str
    status_profile: str


class Status(_Frozen):
    """A canonical status as shown to citizens, with what happens next."""

    code: str
    label_ar: str = Field(min_length=1)
    label_en: str = Field(min_length=1)
    terminal: bool
    open_for_sla: bool
    next_ar: str = Field(min_length=1)
    next_en: str = Field(min_length=1)

    @model_validator(mode="after")
    def _terminal_not_open(self) -> Status:
        if self.terminal and self.open_for_sla:
            raise ValueError("a terminal status cannot be open_for_sla")
        return self


class StatusMapping(_Frozen):
    """Where one raw code lands: a canonical status, and whether it explicitly reopens a closed file."""

    canonical: str
    reopen: bool = False


class StatusProfile(_Frozen):
    """A named raw-code table shared by agencies running the same kind of system."""

    name: str
    description: str = ""
    codes: dict[str, StatusMapping]


class TransactionType(_Frozen):
    """A kind of transaction with its expected processing time, used for the delayed flag."""

    code: str
    name_ar: str = Field(min_length=1)
    name_en: str = Field(min_length=1)
    sla_working_days: int = Field(ge=1)
    sectors: tuple[str, ...] = ()
    subjects_ar: tuple[str, ...] = ()
    subjects_en: tuple[str, ...] = ()


class ImportSpec(_Frozen):
    """How to read an agency's uploaded spreadsheet: header -> event field, and its date format."""

    columns: dict[str, str]
    date_format: str | None = None


class Holiday(_Frozen):
    """An official holiday (a single day or an inclusive range)."""

    name_ar: str
    name_en: str
    start: date
    end: date | None = None
    approximate: bool = False

    def days(self) -> list[date]:
        """Every day the holiday covers."""
        last = self.end or self.start
        return [self.start + timedelta(days=i) for i in range((last - self.start).days + 1)]


# --------------------------------------------------------------------------------------------------
# Catalog
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Catalog:
    """The validated reference data. Treat every mapping as read-only: the instance is cached and shared."""

    agencies: dict[str, Agency]
    statuses: dict[str, Status]
    transaction_types: dict[str, TransactionType]
    sectors: dict[str, Sector]
    governorates: dict[str, Governorate]
    profiles: dict[str, StatusProfile]
    holidays: frozenset[date]
    weekend_days: frozenset[int]
    holiday_calendar: tuple[Holiday, ...] = ()
    status_overrides: dict[str, dict[str, StatusMapping]] = field(default_factory=dict)
    import_specs: dict[str, ImportSpec] = field(default_factory=dict)
    _status_maps: dict[str, dict[str, StatusMapping]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Merge each agency's overrides over its profile once, so lookups are a dict hit.
        maps = {
            code: {**self.profiles[a.status_profile].codes, **self.status_overrides.get(code, {})}
            for code, a in self.agencies.items()
        }
        object.__setattr__(self, "_status_maps", maps)

    def _agency_key(self, agency_code: str) -> str:
        key = agency_code.strip().upper()
        if key not in self.agencies:
            raise KeyError(f"unknown agency code: {agency_code!r}")
        return key

    def status_map_for(self, agency_code: str) -> dict[str, StatusMapping]:
        """The agency's raw-code table: its profile merged with its own overrides (a copy)."""
        return dict(self._status_maps[self._agency_key(agency_code)])

    def map_status(self, agency_code: str, raw_code: str) -> StatusMapping | None:
        """Translate a raw status code from an agency; None when the code is not known for it."""
        return self._status_maps[self._agency_key(agency_code)].get(normalize_raw_code(raw_code))

    def known_codes(self, agency_code: str) -> list[str]:
        """Sorted normalized raw codes accepted from the agency (for error messages and docs)."""
        return sorted(self._status_maps[self._agency_key(agency_code)])

    def import_spec(self, agency_code: str) -> ImportSpec | None:
        """The spreadsheet import spec of an uploading agency, or None if it has none."""
        return self.import_specs.get(self._agency_key(agency_code))

    def is_working_day(self, day: date) -> bool:
        """Whether government offices work on that day (not weekend, not an official holiday)."""
        return day.weekday() not in self.weekend_days and day not in self.holidays

    def agency_names(self, code: str) -> tuple[str, str]:
        """(Arabic, English) name of an agency; the code itself for one no longer in the registry."""
        agency = self.agencies.get(code)
        return (agency.name_ar, agency.name_en) if agency else (code, code)

    def status_names(self, code: str) -> tuple[str, str]:
        """(Arabic, English) label of a canonical status; the code itself for an unknown one."""
        status = self.statuses.get(code)
        return (status.label_ar, status.label_en) if status else (code, code)

    def resolve_agency(self, text: str) -> Agency | None:
        """Find an agency by code or by its exact Arabic/English name (spreadsheets carry names)."""
        needle = text.strip()
        if not needle:
            return None
        by_code = self.agencies.get(needle.upper())
        if by_code is not None:
            return by_code
        folded = needle.casefold()
        for agency in self.agencies.values():
            if needle == agency.name_ar or folded == agency.name_en.casefold():
                return agency
        return None


# --------------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------------


class _UniqueKeyLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of silently keeping the last one."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        seen.add(key)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping)


def default_config_dir() -> Path:
    """The repository's ``config/`` directory, located from this file so the CWD does not matter."""
    return Path(__file__).resolve().parents[2] / "config"


def _read_yaml(path: Path, problems: list[str]) -> Any:
    if not path.is_file():
        problems.append(f"{path.name}: file not found at {path}")
        return None
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_UniqueKeyLoader)  # a SafeLoader subclass
    except yaml.YAMLError as exc:
        problems.append(f"{path.name}: YAML error: {exc}")
        return None


def _fmt_validation(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors())


def _section(data: Any, key: str, kind: type, where: str, problems: list[str]) -> Any:
    """Fetch a top-level section of the expected container type, recording a problem otherwise."""
    value = data.get(key) if isinstance(data, dict) else None
    if not isinstance(value, kind):
        problems.append(f"{where}: top-level '{key}' must be a {kind.__name__}")
        return kind()
    return value


def _load_named(data: Any, key: str, model: type[_Frozen], where: str, problems: list[str]) -> dict[str, Any]:
    """Load a ``{code: {...}}`` mapping section (sectors, governorates)."""
    out: dict[str, Any] = {}
    for code, body in _section(data, key, dict, where, problems).items():
        if not isinstance(code, str) or not _SLUG_RE.match(code):
            problems.append(f"{where}: {key}: code {code!r} must be lower_snake_case")
            continue
        try:
            out[code] = model.model_validate({"code": code, **(body or {})})
        except (ValidationError, TypeError) as exc:
            msg = _fmt_validation(exc) if isinstance(exc, ValidationError) else str(exc)
            problems.append(f"{where}: {key}.{code}: {msg}")
    return out


def _load_code_table(
    raw: Any, where: str, statuses: Mapping[str, Status], problems: list[str]
) -> dict[str, StatusMapping]:
    """Parse ``{raw code: {canonical, reopen}}``, normalizing keys and checking canonical codes."""
    table: dict[str, StatusMapping] = {}
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping of raw code -> {{canonical: ...}}")
        return table
    for key, body in raw.items():
        if not isinstance(key, str):
            problems.append(f"{where}: raw code {key!r} must be a string (quote numeric codes)")
            continue
        norm = normalize_raw_code(key)
        if not norm:
            problems.append(f"{where}: empty raw code")
            continue
        if norm in table:
            problems.append(f"{where}: duplicate raw code {norm!r} after normalization")
            continue
        try:
            mapping = StatusMapping.model_validate(body)
        except ValidationError as exc:
            problems.append(f"{where}: raw code {key!r}: {_fmt_validation(exc)}")
            continue
        if mapping.canonical not in statuses:
            problems.append(f"{where}: raw code {key!r} maps to unknown canonical status {mapping.canonical!r}")
            continue
        table[norm] = mapping
    return table


def _load_statuses(config_dir: Path, problems: list[str]) -> dict[str, Status]:
    where = "statuses.yaml"
    data = _read_yaml(config_dir / where, problems)
    statuses: dict[str, Status] = {}
    if data is None:
        return statuses
    for i, body in enumerate(_section(data, "statuses", list, where, problems)):
        try:
            status = Status.model_validate(body)
        except ValidationError as exc:
            problems.append(f"{where}: statuses[{i}]: {_fmt_validation(exc)}")
            continue
        if status.code in statuses:
            problems.append(f"{where}: duplicate status code {status.code!r}")
            continue
        statuses[status.code] = status
    if statuses and tuple(statuses) != CANONICAL_STATUS_CODES:
        missing = [c for c in CANONICAL_STATUS_CODES if c not in statuses]
        extra = [c for c in statuses if c not in CANONICAL_STATUS_CODES]
        problems.append(
            f"{where}: must define exactly {list(CANONICAL_STATUS_CODES)} in that order"
            f" (missing: {missing}, unexpected: {extra})"
        )
    for status in statuses.values():
        should_be_terminal = status.code in {"completed", "rejected", "cancelled"}
        if status.terminal != should_be_terminal:
            problems.append(f"{where}: status {status.code!r} has terminal={status.terminal}")
    return statuses


def _load_profiles(config_dir: Path, statuses: Mapping[str, Status], problems: list[str]) -> dict[str, StatusProfile]:
    where = "status_profiles.yaml"
    data = _read_yaml(config_dir / where, problems)
    profiles: dict[str, StatusProfile] = {}
    if data is None:
        return profiles
    for name, body in _section(data, "profiles", dict, where, problems).items():
        if not isinstance(name, str) or not _SLUG_RE.match(name):
            problems.append(f"{where}: profile name {name!r} must be lower_snake_case")
            continue
        if not isinstance(body, dict):
            problems.append(f"{where}: profile {name!r} must be a mapping with 'codes'")
            continue
        unknown_keys = set(body) - {"description", "codes"}
        if unknown_keys:
            problems.append(f"{where}: profile {name!r}: unknown keys {sorted(unknown_keys)}")
        codes = _load_code_table(body.get("codes"), f"{where}: profile {name!r}", statuses, problems)
        reopen_count = sum(1 for m in codes.values() if m.reopen)
        if reopen_count != 1:
            problems.append(f"{where}: profile {name!r} must have exactly one reopen code, found {reopen_count}")
        profiles[name] = StatusProfile(name=name, description=str(body.get("description") or ""), codes=codes)
    return profiles


def _load_agencies(
    sectors: Mapping[str, Sector],
    governorates: Mapping[str, Governorate],
    profiles: Mapping[str, StatusProfile],
    data: Any,
    problems: list[str],
) -> dict[str, Agency]:
    where = "agencies.yaml"
    agencies: dict[str, Agency] = {}
    for i, body in enumerate(_section(data, "agencies", list, where, problems)):
        label = f"{where}: agencies[{i}]" + (f" ({body.get('code')})" if isinstance(body, dict) else "")
        try:
            agency = Agency.model_validate(body)
        except ValidationError as exc:
            problems.append(f"{label}: {_fmt_validation(exc)}")
            continue
        bad = False
        if not _AGENCY_CODE_RE.match(agency.code):
            problems.append(f"{label}: code must be upper-case ASCII letters/digits joined by '-'")
            bad = True
        if agency.code in agencies:
            problems.append(f"{label}: duplicate agency code {agency.code!r}")
            bad = True
        if agency.sector not in sectors:
            problems.append(f"{label}: unknown sector {agency.sector!r}")
            bad = True
        if agency.governorate not in governorates:
            problems.append(f"{label}: unknown governorate {agency.governorate!r}")
            bad = True
        if agency.status_profile not in profiles:
            problems.append(f"{label}: unknown status_profile {agency.status_profile!r}")
            bad = True
        if not bad:
            agencies[agency.code] = agency
    return agencies


def _load_agency_files(
    config_dir: Path,
    agencies: Mapping[str, Agency],
    statuses: Mapping[str, Status],
    problems: list[str],
) -> tuple[dict[str, dict[str, StatusMapping]], dict[str, ImportSpec]]:
    overrides: dict[str, dict[str, StatusMapping]] = {}
    specs: dict[str, ImportSpec] = {}
    folder = config_dir / "agencies"
    if not folder.is_dir():
        return overrides, specs
    for path in sorted(folder.glob("*.y*ml")):
        where = f"agencies/{path.name}"
        code = path.stem
        if code not in agencies:
            problems.append(f"{where}: file name does not match any agency code in agencies.yaml")
            continue
        data = _read_yaml(path, problems)
        if data is None:
            continue
        if not isinstance(data, dict):
            problems.append(f"{where}: must be a mapping")
            continue
        unknown_keys = set(data) - {"agency", "status_overrides", "import"}
        if unknown_keys:
            problems.append(f"{where}: unknown keys {sorted(unknown_keys)}")
        if "agency" in data and data["agency"] != code:
            problems.append(f"{where}: 'agency: {data['agency']}' does not match the file name {code!r}")
        if "status_overrides" in data:
            overrides[code] = _load_code_table(
                data["status_overrides"], f"{where}: status_overrides", statuses, problems
            )
        if "import" in data:
            try:
                spec = ImportSpec.model_validate(data["import"])
            except ValidationError as exc:
                problems.append(f"{where}: import: {_fmt_validation(exc)}")
                continue
            targets = list(spec.columns.values())
            unknown = sorted(set(targets) - EVENT_FIELDS)
            if unknown:
                problems.append(f"{where}: import.columns maps to unknown event fields {unknown}")
            dupes = sorted({t for t in targets if targets.count(t) > 1})
            if dupes:
                problems.append(f"{where}: import.columns maps several headers to {dupes}")
            missing = sorted(REQUIRED_IMPORT_FIELDS - set(targets))
            if missing:
                problems.append(f"{where}: import.columns lacks required event fields {missing}")
            specs[code] = spec
    return overrides, specs


def _load_transaction_types(
    config_dir: Path, sectors: Mapping[str, Sector], problems: list[str]
) -> dict[str, TransactionType]:
    where = "transaction_types.yaml"
    data = _read_yaml(config_dir / where, problems)
    types: dict[str, TransactionType] = {}
    if data is None:
        return types
    for i, body in enumerate(_section(data, "transaction_types", list, where, problems)):
        try:
            tt = TransactionType.model_validate(body)
        except ValidationError as exc:
            problems.append(f"{where}: transaction_types[{i}]: {_fmt_validation(exc)}")
            continue
        if not _SLUG_RE.match(tt.code):
            problems.append(f"{where}: transaction type code {tt.code!r} must be lower_snake_case")
        if tt.code in types:
            problems.append(f"{where}: duplicate transaction type code {tt.code!r}")
            continue
        unknown = sorted(set(tt.sectors) - set(sectors))
        if unknown and sectors:
            problems.append(f"{where}: transaction type {tt.code!r} names unknown sectors {unknown}")
        types[tt.code] = tt
    return types


def _load_holidays(config_dir: Path, problems: list[str]) -> tuple[tuple[Holiday, ...], frozenset[int]]:
    where = "holidays.yaml"
    data = _read_yaml(config_dir / where, problems)
    if data is None:
        return (), frozenset()
    weekend: set[int] = set()
    for name in _section(data, "weekend", list, where, problems):
        day = _WEEKDAYS.get(str(name).strip().lower())
        if day is None:
            problems.append(f"{where}: unknown weekend day {name!r}")
        else:
            weekend.add(day)
    calendar: list[Holiday] = []
    for i, body in enumerate(_section(data, "holidays", list, where, problems)):
        try:
            holiday = Holiday.model_validate(body)
        except ValidationError as exc:
            problems.append(f"{where}: holidays[{i}]: {_fmt_validation(exc)}")
            continue
        if holiday.end is not None and holiday.end < holiday.start:
            problems.append(f"{where}: holidays[{i}] ({holiday.name_en}): end is before start")
            continue
        calendar.append(holiday)
    return tuple(calendar), frozenset(weekend)


def load_catalog(config_dir: Path | None = None) -> Catalog:
    """Read and cross-check every catalog file; raise :class:`CatalogError` listing all problems."""
    config_dir = Path(config_dir) if config_dir is not None else default_config_dir()
    problems: list[str] = []
    if not config_dir.is_dir():
        raise CatalogError([f"config directory not found: {config_dir}"])

    statuses = _load_statuses(config_dir, problems)
    profiles = _load_profiles(config_dir, statuses, problems)

    agencies_data = _read_yaml(config_dir / "agencies.yaml", problems)
    sectors: dict[str, Sector] = {}
    governorates: dict[str, Governorate] = {}
    agencies: dict[str, Agency] = {}
    if agencies_data is not None:
        sectors = _load_named(agencies_data, "sectors", Sector, "agencies.yaml", problems)
        governorates = _load_named(agencies_data, "governorates", Governorate, "agencies.yaml", problems)
        agencies = _load_agencies(sectors, governorates, profiles, agencies_data, problems)

    overrides, specs = _load_agency_files(config_dir, agencies, statuses, problems)
    transaction_types = _load_transaction_types(config_dir, sectors, problems)
    calendar, weekend = _load_holidays(config_dir, problems)

    if problems:
        raise CatalogError(problems)

    return Catalog(
        agencies=agencies,
        statuses=statuses,
        transaction_types=transaction_types,
        sectors=sectors,
        governorates=governorates,
        profiles=profiles,
        holidays=frozenset(d for h in calendar for d in h.days()),
        weekend_days=weekend,
        holiday_calendar=calendar,
        status_overrides=overrides,
        import_specs=specs,
    )


@functools.lru_cache(maxsize=1)
def get_catalog() -> Catalog:
    """The catalog from the default ``config/`` directory, loaded once per process."""
    return load_catalog()
