"""Engine and session factories. Created in the app's lifespan (or a worker's startup), never at import."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from app.settings import Settings


def create_engine(settings: Settings, *, autocommit: bool = False) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout so writers queue instead of failing.

    ``autocommit`` gives PostgreSQL connections that never open a transaction, for requests that
    only read: no BEGIN/ROLLBACK per request, and a ping only for connections that sat idle
    (see ``_ping_when_idle``).
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
    engine = create_async_engine(
        settings.database_url,
        connect_args=_loopback_without_tls(settings.database_url),
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # Without a ping the first use of each connection after a database restart fails (the fault
        # tests showed it). Writers ping at every checkout; readers only after an idle spell.
        pool_pre_ping=not autocommit,
        pool_timeout=10,
        **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}),
    )
    if autocommit:
        _ping_when_idle(engine)
    return engine


IDLE_BEFORE_PING_S = 1.0


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Ping a pooled connection at checkout only if it has been idle for ``IDLE_BEFORE_PING_S``.

    The ping is a round trip per request, about a tenth of the public inquiry's CPU. Under load
    every connection comes back within milliseconds, so the ping mostly checked a connection that
    had just worked. A connection that dies in a busier moment fails its request (a 503, like any
    database outage) and SQLAlchemy then recycles the whole pool, so the next requests reconnect.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _fresh(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkin")
    def _returned(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("idle_since", 0.0) < IDLE_BEFORE_PING_S:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # any failure: the pool discards this connection and connects anew
            raise DisconnectionError("pooled connection failed its ping") from exc


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
