"""Rendering helpers shared by the UI routes: language, templates, errors, the sign-in cookie.

The routes stay thin; anything about how a page is produced (headers, language, which message an
error becomes) lives here once.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.service import StaffPrincipal, authenticate_staff
from app.errors import Forbidden, InquiryError, NotFound, TooManyRequests, Unauthorized
from app.ui.i18n import Lang, clock, gregorian, hijri, translate

HERE = Path(__file__).resolve().parent
LANG_COOKIE = "lang"
TOKEN_COOKIE = "ui_token"
FRAGMENT_HEADER = "x-ui-fragment"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HANDLED = (InquiryError, OperationalError, PoolTimeoutError, ConnectionError, OSError, DBAPIError)
"""Errors a page turns into a message; anything else is a bug and goes to the app's handlers."""


def lang_of(request: Request) -> Lang:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "ar"


def safe_next(value: str | None, default: str = "/") -> str:
    """Only same-site paths, so the language and sign-in redirects cannot send anyone elsewhere."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return default
    return value


def same_origin(request: Request) -> bool:
    """Refuse cross-site form posts (sign-in, language, lookups) without a token scheme."""
    if request.headers.get("sec-fetch-site") == "cross-site":
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.headers.get("host", "")
    return True


def _marked(value: str | None) -> Markup:
    """Search highlights arrive HTML-escaped with ``<mark>`` only; anything else is escaped again."""
    if not value:
        return Markup("")
    if "<" in re.sub(r"</?mark>", "", value):
        return Markup(escape(value))
    return Markup(value)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["marked"] = _marked
    env.filters["clock"] = clock
    return env


templates = Jinja2Templates(env=_environment())


def wants_fragment(request: Request) -> bool:
    """The citizen form's script asks for the result fragment only; without script the whole page comes."""
    return request.headers.get(FRAGMENT_HEADER) == "1"


def render(
    request: Request,
    name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    """A page (or, when asked by the page's script, just its result fragment) in the active language."""
    lang = lang_of(request)
    ctx: dict[str, Any] = {
        "lang": lang,
        "dir": "rtl" if lang == "ar" else "ltr",
        "t": lambda key, **kw: translate(key, lang, **kw),
        "loc": lambda ar, en: (ar if lang == "ar" else en) or ar or en or "",
        "gdate": lambda v: gregorian(v, lang),
        "hdate": lambda v: hijri(v, lang),
        "path": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        "principal": None,
        "error": None,
    }
    ctx.update(context or {})
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Vary"] = "Cookie, X-UI-Fragment"
    return response


def explain(exc: Exception, lang: Lang) -> tuple[int, str]:
    """The status and the message in the active language for an error a page can expect."""
    if isinstance(exc, TooManyRequests):
        seconds = int((exc.headers or {}).get("Retry-After", "3600"))
        return 429, translate("err_too_many", lang, minutes=max(1, math.ceil(seconds / 60)))
    if isinstance(exc, NotFound):
        return 404, translate("err_not_found", lang)
    if isinstance(exc, Unauthorized):
        return 401, translate("err_token", lang)
    if isinstance(exc, Forbidden):
        return 403, translate("err_forbidden", lang)
    if isinstance(exc, InquiryError):
        return exc.status_code, translate("err_invalid", lang, detail=describe(exc.detail))
    if isinstance(exc, DBAPIError) and not isinstance(exc, OperationalError) and not exc.connection_invalidated:
        raise exc
    return 503, translate("err_unavailable", lang)


def describe(detail: Any) -> str:
    """Validation details (a list of {field, message}) as one readable line."""
    if isinstance(detail, list):
        return "; ".join(
            f"{d.get('field', '')}: {d.get('message', '')}" if isinstance(d, dict) else str(d) for d in detail
        )
    return str(detail or "")


async def current_principal(request: Request, session: AsyncSession) -> StaffPrincipal | None:
    token = request.cookies.get(TOKEN_COOKIE)
    return await authenticate_staff(session, token) if token else None


def signin_page(request: Request, *, expired: bool) -> HTMLResponse:
    """The sign-in form in place of a protected page; a stale cookie is dropped."""
    lang = lang_of(request)
    response = render(
        request,
        "signin.html",
        {"error": translate("err_token", lang) if expired else None, "next": request.url.path},
        status_code=401 if expired else 200,
    )
    if expired:
        response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


def forbidden_page(request: Request, principal: StaffPrincipal) -> HTMLResponse:
    return render(
        request,
        "message.html",
        {"principal": principal, "error": translate("err_forbidden", lang_of(request))},
        status_code=403,
    )


def set_token_cookie(request: Request, response: Response, token: str) -> None:
    """HttpOnly + SameSite=Strict session cookie: page scripts never see the token, other sites never send it."""
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
