"""The thin web UI: server-rendered pages over the same services the JSON API uses.

Every page works without JavaScript (forms and links); the small script only enhances the citizen
form and refreshes the dashboard. Staff sign in once with their token, which then lives in an
HttpOnly, SameSite=Strict cookie (see ``web.set_token_cookie``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth.service import StaffPrincipal, authenticate_staff
from app.dashboard.schemas import DashboardParams
from app.dashboard.service import build_dashboard
from app.deps import CatalogDep, ResourcesDep, SessionDep
from app.inquiry.router import inquire_for
from app.search.backend import get_backend
from app.staff import service as staff
from app.ui import views
from app.ui.i18n import translate
from app.ui.web import (
    HANDLED,
    HERE,
    LANG_COOKIE,
    TOKEN_COOKIE,
    current_principal,
    explain,
    forbidden_page,
    lang_of,
    render,
    safe_next,
    same_origin,
    set_token_cookie,
    signin_page,
    wants_fragment,
)

router = APIRouter(include_in_schema=False)
STATIC_DIR = HERE / "static"

ANY_STAFF = ("staff", "manager", "call_center", "admin")
CALL_CENTER = ("call_center", "admin")
MANAGERS = ("manager", "admin")


def _refused(request: Request) -> HTMLResponse:
    return render(request, "message.html", {"error": translate("err_origin", lang_of(request))}, status_code=403)


@router.post("/lang")
async def set_language(lang: Annotated[str, Form()] = "ar", next: Annotated[str, Form()] = "/") -> Response:
    """The language toggle works as a plain form, and the choice outlives the session (one year)."""
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(LANG_COOKIE, "en" if lang == "en" else "ar", max_age=365 * 24 * 3600, samesite="lax")
    return response


@router.get("/")
async def citizen_page(request: Request) -> HTMLResponse:
    return render(request, "citizen.html", {"reference": "", "verifier": "", "result": None, "missing": []})


@router.post("/")
async def citizen_lookup(
    request: Request,
    session: SessionDep,
    resources: ResourcesDep,
    reference: Annotated[str, Form(max_length=100)] = "",
    verifier: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse:
    """The same inquiry as ``POST /api/v1/inquiry`` (and the same lockout), answered as a page."""
    if not same_origin(request):
        return _refused(request)
    ctx: dict[str, object] = {"reference": reference, "verifier": verifier, "result": None, "missing": []}
    template = "_inquiry_result.html" if wants_fragment(request) else "citizen.html"
    missing = [name for name, value in (("reference", reference), ("verifier", verifier)) if not value.strip()]
    if missing:
        return render(request, template, {**ctx, "missing": missing}, status_code=422)
    try:
        ctx["result"] = await inquire_for(request, session, resources, reference=reference, verifier=verifier)
    except HANDLED as exc:
        status, ctx["error"] = explain(exc, lang_of(request))
        return render(request, template, ctx, status_code=status)
    return render(request, template, ctx)


@router.post("/staff/signin")
async def signin(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form(max_length=400)] = "",
    next: Annotated[str, Form()] = "/staff",
) -> Response:
    """Check the token once, then keep it in the HttpOnly cookie; a bad token re-shows the form."""
    if not same_origin(request):
        return _refused(request)
    try:
        principal = await authenticate_staff(session, token.strip()) if token.strip() else None
    except HANDLED as exc:
        status, error = explain(exc, lang_of(request))
        return render(request, "signin.html", {"error": error, "next": next}, status_code=status)
    if principal is None:
        return signin_page(request, expired=True)
    default = {"call_center": "/callcenter", "manager": "/dashboard"}.get(principal.role, "/staff")
    target = safe_next(next, default)
    response = RedirectResponse(default if target in ("/", "/staff/signin") else target, status_code=303)
    set_token_cookie(request, response, token.strip())
    return response


@router.post("/staff/signout")
async def signout(request: Request) -> Response:
    response = RedirectResponse("/staff", status_code=303)
    response.delete_cookie(TOKEN_COOKIE, path="/")
    return response


async def _gate(request: Request, session: SessionDep, roles: tuple[str, ...]) -> StaffPrincipal | Response:
    """The signed-in principal, or the page to show instead (sign-in form, or forbidden)."""
    principal = await current_principal(request, session)
    if principal is None:
        return signin_page(request, expired=TOKEN_COOKIE in request.cookies)
    if principal.role not in roles:
        return forbidden_page(request, principal)
    return principal


@router.get("/staff")
async def staff_search(request: Request, session: SessionDep, resources: ResourcesDep, catalog: CatalogDep) -> Response:
    """Search, facets, filters and cursor paging, all as links and a GET form."""
    lang = lang_of(request)
    ctx: dict[str, object] = {"result": None, "catalog": catalog, "params": None}
    try:
        principal = await _gate(request, session, ANY_STAFF)
        if isinstance(principal, Response):
            return principal
        ctx["principal"] = principal
        params = ctx["params"] = views.search_params(request.query_params)
        result = await staff.search_transactions(
            session, backend=get_backend(resources, session), principal=principal, params=params, catalog=catalog
        )
        await session.commit()
    except HANDLED as exc:
        status, ctx["error"] = explain(exc, lang)
        return render(request, "staff.html", ctx, status_code=status)
    return render(
        request,
        "staff.html",
        {
            **ctx,
            "result": result,
            "facet_groups": views.facet_groups(result.facets, request.query_params, lang),
            "next_href": views.next_page_href(request.query_params, result.next_cursor),
            "first_href": views.first_page_href(request.query_params),
        },
    )


@router.get("/staff/t/{tracking_number}")
async def staff_detail(request: Request, tracking_number: str, session: SessionDep, catalog: CatalogDep) -> Response:
    """The full timeline; a 404 here also means "outside your agency's scope"."""
    lang = lang_of(request)
    ctx: dict[str, object] = {}
    try:
        principal = await _gate(request, session, ANY_STAFF)
        if isinstance(principal, Response):
            return principal
        ctx["principal"] = principal
        detail = await staff.transaction_detail(
            session, principal=principal, tracking_number=tracking_number, catalog=catalog
        )
        await session.commit()
    except HANDLED as exc:
        status, ctx["error"] = explain(exc, lang)
        if status == 404:
            ctx["error"] = translate("err_detail_missing", lang)
        return render(request, "message.html", ctx, status_code=status)
    return render(request, "detail.html", {**ctx, "tx": detail})


@router.get("/callcenter")
async def callcenter(request: Request, session: SessionDep, resources: ResourcesDep, catalog: CatalogDep) -> Response:
    """One box for ID, mobile, name or reference; results are masked by the service."""
    lang = lang_of(request)
    ctx: dict[str, object] = {"kind": "national_id", "value": "", "result": None}
    try:
        principal = await _gate(request, session, CALL_CENTER)
        if isinstance(principal, Response):
            return principal
        ctx["principal"] = principal
        ctx["kind"], ctx["value"], params = views.lookup_params(request.query_params)
        if params is not None:
            ctx["result"] = await staff.callcenter_lookup(
                session,
                backend=get_backend(resources, session),
                principal=principal,
                params=params,
                catalog=catalog,
                secret=resources.settings.secret_key,
            )
            await session.commit()
    except HANDLED as exc:
        status, ctx["error"] = explain(exc, lang)
        return render(request, "callcenter.html", ctx, status_code=status)
    return render(request, "callcenter.html", ctx)


@router.get("/dashboard")
async def dashboard(request: Request, session: SessionDep, resources: ResourcesDep, catalog: CatalogDep) -> Response:
    """The whole page; its script re-fetches ``/dashboard?panel=1`` every 60 s and swaps the panel in."""
    lang = lang_of(request)
    template = "_dashboard_panel.html" if request.query_params.get("panel") == "1" else "dashboard.html"
    ctx: dict[str, object] = {"view": None}
    try:
        principal = await _gate(request, session, MANAGERS)
        if isinstance(principal, Response):
            return principal
        ctx["principal"] = principal
        agency = request.query_params.get("agency") or None
        params = views.validated(DashboardParams, {"agency": agency} if agency else {})
        data = await build_dashboard(
            session, backend=get_backend(resources, session), principal=principal, params=params, catalog=catalog
        )
    except HANDLED as exc:
        status, ctx["error"] = explain(exc, lang)
        return render(request, template, ctx, status_code=status)
    return render(request, template, {**ctx, "view": views.dashboard_view(data, lang, catalog)})
