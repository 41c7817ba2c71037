"""Engine and session factories. Created in the app's lifespan (or a worker's startup), never at import."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.settings import Settings


def create_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout so writers queue instead of failing.

    ``autocommit`` gives PostgreSQL connections that never open a transaction, for requests that
    only read: no BEGIN/ROLLBACK per request, and their pool's ping is one round trip instead of three.
    """
    if settings.is_sqlite:
        engine = create_async_engine(settings.database_url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(
        settings.database_url,
        connect_args=_loopback_without_tls(settings.database_url),
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # The ping costs a round trip per checkout (about a tenth of an inquiry's CPU), but without it
        # the first use of each connection after a database restart fails: the fault tests showed it.
        pool_pre_ping=True,
        pool_timeout=10,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def _loopback_without_tls(database_url: str) -> dict[str, Any]:
    """No TLS to a database on this very machine unless the URL asks for it.

    asyncpg otherwise negotiates TLS whenever the server offers it (Debian's PostgreSQL does), and
    encrypting loopback traffic cost a fifth of ingestion's CPU; remote databases keep their TLS.
    """
    url = make_url(database_url)
    if url.get_backend_name() == "postgresql" and url.host in LOOPBACK_HOSTS and "ssl" not in url.query:
        return {"ssl": False}
    return {}


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
