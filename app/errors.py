"""One error hierarchy and one JSON shape, ``{"error": code, "detail": message}``, for every failure."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: str
    detail: Any = None


class InquiryError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, detail: Any = None, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers


class BadRequest(InquiryError):
    status_code = 400
    code = "bad_request"


class Unauthorized(InquiryError):
    status_code = 401
    code = "unauthorized"


class Forbidden(InquiryError):
    status_code = 403
    code = "forbidden"


class NotFound(InquiryError):
    status_code = 404
    code = "not_found"


class Conflict(InquiryError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(InquiryError):
    status_code = 413
    code = "payload_too_large"


class UnprocessableEntity(InquiryError):
    status_code = 422
    code = "invalid"


class TooManyRequests(InquiryError):
    status_code = 429
    code = "too_many_requests"


class ServiceUnavailable(InquiryError):
    status_code = 503
    code = "service_unavailable"


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 409, 413, 422, 429, 503)
}


UNAVAILABLE_SQLSTATES = ("08", "53", "57P")
"""Connection exceptions, insufficient resources, and "shutting down" / "starting up" (57P01-57P03)."""


CONTENTION_SQLSTATES = frozenset({"40P01", "40001"})
"""Deadlock detected and serialization failure: the transaction was rolled back and may simply be retried."""


def sqlstate(exc: DBAPIError) -> str | None:
    """PostgreSQL's SQLSTATE of a wrapped driver error (asyncpg and psycopg name it differently)."""
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state if isinstance(state, str) else None


def database_unavailable(exc: DBAPIError) -> bool:
    """True when the error says the database cannot serve now (a restart, a failover), not that the query is wrong.

    asyncpg reports "the database system is shutting down / starting up" while connecting, which
    SQLAlchemy wraps as a plain ``DBAPIError`` with no invalidated connection: it is still a 503.
    """
    if exc.connection_invalidated:
        return True
    state = sqlstate(exc)
    return state is not None and state.startswith(UNAVAILABLE_SQLSTATES)


def _json(status: int, code: str, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": code, "detail": detail}, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    """Map our errors, validation errors, HTTP errors and an unreachable database to the one shape."""

    @app.exception_handler(InquiryError)
    async def _inquiry_error(_: Request, exc: InquiryError) -> JSONResponse:
        return _json(exc.status_code, exc.code, exc.detail, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": err.get("msg", ""),
                "code": err.get("type", "invalid"),
            }
            for err in exc.errors()
        ]
        return _json(422, "invalid", details)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _json(exc.status_code, code, exc.detail, getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeoutError)
    @app.exception_handler(ConnectionError)
    @app.exception_handler(OSError)
    async def _database_down(_: Request, exc: Exception) -> JSONResponse:
        logger.warning("database unavailable: %s", type(exc).__name__)
        return _json(503, "database_unavailable", "The database is unavailable; retry later.", {"Retry-After": "5"})

    @app.exception_handler(DBAPIError)
    async def _dbapi_error(_: Request, exc: DBAPIError) -> JSONResponse:
        if database_unavailable(exc):
            return _json(503, "database_unavailable", "The database is unavailable; retry later.", {"Retry-After": "5"})
        state = sqlstate(exc)
        if state in CONTENTION_SQLSTATES:
            # Nothing was committed: the client's retry (ingestion is idempotent) goes through.
            logger.warning("request gave up after repeated write conflicts: %s", state)
            return _json(503, "busy", "Concurrent writes conflicted; retry the request.", {"Retry-After": "1"})
        raise exc
