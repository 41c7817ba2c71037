"""The admin CLI, ``inquiry``: agencies, keys, users, import, index, outbox and demo data.

Every command opens the same resources the app uses, commits at its own boundary, and exits
non-zero on failure.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from app.errors import InquiryError
from app.resources import Resources, close_resources, open_resources
from app.settings import get_settings

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

cli = typer.Typer(help="Unified Inquiry administration / إدارة منصة الاستعلام الموحد", no_args_is_help=True)
agencies_cli = typer.Typer(help="Agencies registry", no_args_is_help=True)
keys_cli = typer.Typer(help="Agency API keys", no_args_is_help=True)
users_cli = typer.Typer(help="Staff, call-center, manager and admin users", no_args_is_help=True)
index_cli = typer.Typer(help="The search index", no_args_is_help=True)
outbox_cli = typer.Typer(help="The outbox between database and index", no_args_is_help=True)
demo_cli = typer.Typer(help="Deterministic demo data", no_args_is_help=True)
for name, sub in (
    ("agencies", agencies_cli),
    ("keys", keys_cli),
    ("users", users_cli),
    ("index", index_cli),
    ("outbox", outbox_cli),
    ("demo", demo_cli),
):
    cli.add_typer(sub, name=name)


@asynccontextmanager
async def opened() -> AsyncIterator[Resources]:
    resources = await open_resources(get_settings())
    try:
        yield resources
    finally:
        await close_resources(resources)


def run(work: Callable[[Resources], Awaitable[T]]) -> T:
    """Run one async command; our errors become a message and exit code 1."""

    async def _main() -> T:
        async with opened() as resources:
            return await work(resources)

    try:
        return asyncio.run(_main())
    except InquiryError as exc:
        err_console.print(f"[red]error:[/red] {exc.detail}")
        raise typer.Exit(1) from exc


def in_session(work: Callable[[AsyncSession, Resources], Awaitable[T]]) -> T:
    """Run ``work`` in one session and commit it."""

    async def _wrapped(resources: Resources) -> T:
        async with resources.session_factory() as session:
            result = await work(session, resources)
            await session.commit()
            return result

    return run(_wrapped)


def table(title: str, columns: list[str], rows: list[list[Any]]) -> None:
    out = Table(title=title)
    for column in columns:
        out.add_column(column)
    for row in rows:
        out.add_row(*("" if v is None else str(v) for v in row))
    console.print(out)


@cli.command()
def migrate() -> None:
    """Apply every database migration (alembic upgrade head)."""
    from alembic import command
    from alembic.config import Config

    from app.settings import REPO_ROOT

    config = Config(str(REPO_ROOT / "alembic.ini"))
    config.attributes["database_url"] = get_settings().database_url
    command.upgrade(config, "head")
    console.print("database migrated")


# --- agencies ---------------------------------------------------------------------------------


@agencies_cli.command("load")
def agencies_load() -> None:
    """Load or sync the agencies from config/agencies.yaml."""
    from app.agencies.service import sync_agencies

    report = in_session(lambda s, r: sync_agencies(s, r.catalog))
    console.print(f"agencies: {report.created} created, {report.updated} updated, {report.unchanged} unchanged")


@agencies_cli.command("list")
def agencies_list(active_only: bool = False) -> None:
    """List the agencies."""
    from app.agencies.service import list_agencies

    rows = in_session(lambda s, r: list_agencies(s, active_only=active_only))
    table(
        "Agencies",
        ["code", "name_ar", "name_en", "sector", "governorate", "active"],
        [[a.code, a.name_ar, a.name_en, a.sector, a.governorate, a.active] for a in rows],
    )


@agencies_cli.command("deactivate")
def agencies_deactivate(code: str) -> None:
    """Deactivate an agency: its keys stop working at once."""
    from app.agencies.service import set_active

    in_session(lambda s, r: set_active(s, code=code, active=False))
    console.print(f"{code} deactivated")


@agencies_cli.command("activate")
def agencies_activate(code: str) -> None:
    """Re-activate an agency."""
    from app.agencies.service import set_active

    in_session(lambda s, r: set_active(s, code=code, active=True))
    console.print(f"{code} activated")


# --- keys -------------------------------------------------------------------------------------


@keys_cli.command("create")
def keys_create(agency: Annotated[str, typer.Option(help="Agency code")], name: str = "") -> None:
    """Create an API key; it is shown once."""
    from app.auth.service import create_api_key

    key, plaintext = in_session(lambda s, r: create_api_key(s, agency_code=agency, name=name))
    console.print(f"key id {key.key_id} for {key.agency_code}; store it now, it is not shown again:")
    print(plaintext)


@keys_cli.command("list")
def keys_list(agency: str | None = None) -> None:
    """List keys (ids only, never secrets)."""
    from app.auth.service import list_api_keys

    rows = in_session(lambda s, r: list_api_keys(s, agency_code=agency))
    table(
        "API keys",
        ["key id", "agency", "name", "created", "revoked"],
        [[k.key_id, k.agency_code, k.name, k.created_at, k.revoked_at] for k in rows],
    )


@keys_cli.command("rotate")
def keys_rotate(key_id: str) -> None:
    """Issue a successor key; revoke the old one once the agency switched."""
    from app.auth.service import rotate_api_key

    key, plaintext = in_session(lambda s, r: rotate_api_key(s, key_id=key_id))
    console.print(f"new key id {key.key_id}; {key_id} stays valid until revoked:")
    print(plaintext)


@keys_cli.command("revoke")
def keys_revoke(key_id: str) -> None:
    """Revoke a key with immediate effect."""
    from app.auth.service import revoke_api_key

    in_session(lambda s, r: revoke_api_key(s, key_id=key_id))
    console.print(f"{key_id} revoked")


# --- users ------------------------------------------------------------------------------------


@users_cli.command("create")
def users_create(
    username: str,
    role: Annotated[str, typer.Option(help="staff | call_center | manager | admin")],
    agency: Annotated[str | None, typer.Option(help="Agency code (staff and managers)")] = None,
    display_name: str = "",
) -> None:
    """Create a user."""
    from app.auth.service import create_user

    user = in_session(
        lambda s, r: create_user(s, username=username, role=role, agency_code=agency, display_name=display_name)
    )
    console.print(f"user {user.username} ({user.role}, {user.agency_code or 'region'}) created")


@users_cli.command("list")
def users_list() -> None:
    """List users."""
    from app.auth.service import list_users

    rows = in_session(lambda s, r: list_users(s))
    table(
        "Users",
        ["username", "role", "agency", "active"],
        [[u.username, u.role, u.agency_code, u.active] for u in rows],
    )


@users_cli.command("token")
def users_token(username: str, hours: int | None = None) -> None:
    """Issue a bearer token for a user; it is shown once."""
    from app.auth.service import issue_token

    def _issue(session: AsyncSession, resources: Resources) -> Awaitable[Any]:
        return issue_token(session, username=username, ttl_hours=hours or resources.settings.token_ttl_hours)

    token, plaintext = in_session(_issue)
    console.print(f"token for {username}, expires {token.expires_at:%Y-%m-%d %H:%M} UTC:")
    print(plaintext)


@users_cli.command("deactivate")
def users_deactivate(username: str) -> None:
    """Deactivate a user: every token stops at once."""
    from app.auth.service import deactivate_user

    in_session(lambda s, r: deactivate_user(s, username=username))
    console.print(f"{username} deactivated")


@cli.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A .csv or .xlsx file")],
    agency: Annotated[str, typer.Option(help="The uploading agency's code")],
) -> None:
    """Import an agency's spreadsheet through the same validation as the API; re-runs skip stored rows."""
    from rich.progress import Progress

    from app.ingestion.file_import import import_file

    async def _import(resources: Resources) -> Any:
        with Progress(console=console) as progress:
            task = progress.add_task(f"importing {file.name}", total=None)
            return await import_file(
                resources.session_factory,
                path=file,
                agency_code=agency.upper(),
                catalog=resources.catalog,
                secret=resources.settings.secret_key,
                progress=lambda n: progress.advance(task, n),
            )

    report = run(_import)
    console.print(f"{report.rows} rows: {report.outcomes}")
    if report.report_path:
        console.print(f"rejected rows with reasons: {report.report_path}")
        raise typer.Exit(2)


# --- index and outbox -------------------------------------------------------------------------


def _require_es(resources: Resources) -> Any:
    if resources.elasticsearch is None:
        err_console.print("[red]error:[/red] INQUIRY_ELASTICSEARCH_URL is not set; the database backend has no index")
        raise typer.Exit(1)
    return resources.elasticsearch


@index_cli.command("rebuild")
def index_rebuild() -> None:
    """Build a new versioned index from the database and swap the alias, with no downtime."""
    from rich.progress import Progress

    from indexers.rebuild import rebuild

    async def _rebuild(resources: Resources) -> Any:
        es = _require_es(resources)
        with Progress(console=console) as progress:
            task = progress.add_task("rebuilding", total=None)

            def advance(done: int, total: int) -> None:
                progress.update(task, completed=done, total=total)

            return await rebuild(
                resources.session_factory,
                es,
                resources.settings,
                resources.catalog,
                advance,
                redis=resources.redis,
            )

    report = run(_rebuild)
    console.print(
        f"{report.new_index}: {report.indexed}/{report.total} documents in {report.seconds:.1f}s "
        f"(replaced {report.old_index or 'nothing'}, {report.dead_lettered} dead letters)"
    )


@index_cli.command("verify")
def index_verify(repair: Annotated[bool, typer.Option(help="Reindex missing/stale, delete orphans")] = False) -> None:
    """Compare the database and the index; exit 1 when they differ (after repair: when still different)."""
    from indexers.verify import verify

    async def _verify(resources: Resources) -> Any:
        es = _require_es(resources)
        return await verify(resources.session_factory, es, resources.settings, resources.catalog, repair=repair)

    report = run(_verify)
    table(
        "Index verification",
        ["database", "index", "missing", "stale", "orphans", "repaired", "unrepaired"],
        [
            [
                report.db_count,
                report.index_count,
                len(report.missing),
                len(report.stale),
                len(report.orphans),
                report.repaired,
                len(report.unrepaired),
            ]
        ],
    )
    if (repair and report.unrepaired) or (not repair and not report.ok):
        raise typer.Exit(1)


@index_cli.command("dead-letters")
def index_dead_letters(
    replay: Annotated[bool, typer.Option(help="Queue every unreplayed dead letter again")] = False,
) -> None:
    """List the documents the index refused; --replay puts them back in the outbox."""
    from indexers import dead_letters

    async def _letters(session: AsyncSession, resources: Resources) -> Any:
        letters = await dead_letters.list_dead_letters(session)
        replayed = await dead_letters.replay(session) if replay else 0
        return letters, replayed

    letters, replayed = in_session(_letters)
    table(
        "Dead letters",
        ["id", "transaction", "error", "reason", "created"],
        [[d.id, d.transaction_id, d.error_type, d.reason[:80], d.created_at] for d in letters],
    )
    if replay:
        console.print(f"{replayed} dead letters queued again")


@index_cli.command("drain")
def index_drain() -> None:
    """Drain the outbox once, in this process (what the worker does)."""
    from indexers.pipeline import drain_outbox, make_sink

    async def _drain(resources: Resources) -> Any:
        sink = make_sink(resources.settings, resources.elasticsearch)
        return await drain_outbox(
            resources.session_factory, sink, catalog=resources.catalog, batch_size=resources.settings.index_batch_size
        )

    report = run(_drain)
    console.print(f"drained: {report}")
    if report.failed:
        raise typer.Exit(1)


@outbox_cli.command("status")
def outbox_status() -> None:
    """Pending outbox rows, the oldest one's age (the index lag) and unreplayed dead letters."""
    from datetime import UTC, datetime

    from sqlalchemy import func, select

    from app.models import DeadLetter, OutboxEntry

    async def _status(session: AsyncSession, resources: Resources) -> Any:
        pending, oldest = (await session.execute(select(func.count(), func.min(OutboxEntry.created_at)))).one()
        dead = await session.scalar(
            select(func.count()).select_from(DeadLetter).where(DeadLetter.replayed_at.is_(None))
        )
        return pending, oldest, dead

    pending, oldest, dead = in_session(_status)
    age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
    table("Outbox", ["pending", "oldest age (s)", "dead letters"], [[pending, f"{age:.1f}", dead]])


# --- demo -------------------------------------------------------------------------------------


@demo_cli.command("load")
def demo_load(
    transactions: Annotated[int, typer.Option(help="How many demo transactions")] = 20000,
    seed: int = 2026,
    if_empty: Annotated[bool, typer.Option(help="Skip when transactions already exist")] = False,
) -> None:
    """Send deterministic demo traffic through the ingestion service."""
    from rich.progress import Progress
    from sqlalchemy import func, select

    from app.demo.service import load_demo
    from app.models import Transaction

    async def _load(resources: Resources) -> None:
        if if_empty:
            async with resources.session_factory() as session:
                existing = await session.scalar(select(func.count()).select_from(Transaction))
            if existing:
                console.print(f"{existing} transactions already loaded; skipping demo data")
                return
        with Progress(console=console) as progress:
            task = progress.add_task("demo events", total=None)
            report = await load_demo(
                resources.session_factory,
                catalog=resources.catalog,
                secret=resources.settings.secret_key,
                transactions=transactions,
                seed=seed,
                progress=lambda n: progress.advance(task, n),
            )
        console.print(f"demo: {report.events_sent} events sent; outcomes {report.outcomes}")

    run(_load)


DEMO_USERS = (
    ("demo-staff-hcm", "staff", "HCM"),
    ("demo-staff-mohu", "staff", "MOHU"),
    ("demo-agent", "call_center", None),
    ("demo-manager-hcm", "manager", "HCM"),
    ("demo-admin", "admin", None),
)


async def _sample_lookups(session: AsyncSession, resources: Resources) -> list[str]:
    """A few demo transactions a newcomer can look up as a citizen, one per status."""
    from sqlalchemy import func, select

    from app.models import Transaction, TransactionReference

    first_per_status = (
        select(func.min(Transaction.id)).where(Transaction.national_id_last4.is_not(None)).group_by(Transaction.status)
    )
    rows = (
        await session.execute(
            select(Transaction.tracking_number, Transaction.status, Transaction.national_id_last4, Transaction.id)
            .where(Transaction.id.in_(first_per_status))
            .order_by(Transaction.status)
            .limit(6)
        )
    ).all()
    lines = []
    for tracking, status, last4, tid in rows:
        ref = await session.scalar(
            select(TransactionReference.reference_display).where(TransactionReference.transaction_id == tid).limit(1)
        )
        lines.append(f"{tracking:18} or {ref or '-':16} verifier {last4}   ({status})")
    return lines


@demo_cli.command("generate")
def demo_generate(
    output: Annotated[Path, typer.Option(help="NDJSON file: one {agency, event} per line")],
    transactions: int = 1000,
    seed: int = 2026,
) -> None:
    """Write the deterministic demo traffic to a file instead of loading it (for other tools and load tests)."""
    import orjson

    from app.catalog.loader import load_catalog
    from app.demo.generator import DemoGenerator

    generator = DemoGenerator(load_catalog(get_settings().config_dir), seed=seed)
    count = 0
    with output.open("wb") as handle:
        for delivery in generator.deliveries(transactions):
            handle.write(orjson.dumps({"agency": delivery.agency_code, "event": delivery.event}) + b"\n")
            count += 1
    console.print(f"{count} events for {transactions} transactions written to {output}")


@demo_cli.command("users")
def demo_users(
    output: Annotated[Path, typer.Option(help="Where to write the tokens")] = Path("var/demo-credentials.txt"),
) -> None:
    """Create demo users (if missing) and write fresh tokens for them to a file."""
    from sqlalchemy import select

    from app.auth.service import create_user, issue_token
    from app.models import StaffUser

    async def _users(session: AsyncSession, resources: Resources) -> list[str]:
        lines = []
        for username, role, agency in DEMO_USERS:
            if await session.scalar(select(StaffUser).where(StaffUser.username == username)) is None:
                await create_user(session, username=username, role=role, agency_code=agency)
            _, plaintext = await issue_token(session, username=username, ttl_hours=24 * 30)
            lines.append(f"{username:18} {role:12} {agency or 'region':6} {plaintext}")
        return lines

    lines = in_session(_users)
    lines += ["", "# citizen lookups to try (reference, verifier = last 4 digits of the ID number):"]
    lines += in_session(_sample_lookups)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    console.print(f"demo users ready; tokens in {output}")
    for line in lines:
        print(line)  # plain print: a terminal-width wrap would break the tokens


def main() -> None:
    """Entry point of the ``inquiry`` command."""
    cli()


if __name__ == "__main__":
    main()
