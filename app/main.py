"""The FastAPI application: clients opened in the lifespan, routers, one error format."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from app.errors import install_error_handlers
from app.health.router import router as health_router
from app.ingestion.router import router as ingestion_router
from app.inquiry.router import router as inquiry_router
from app.observability.logging import configure_logging
from app.observability.middleware import RequestContextMiddleware
from app.observability.router import router as metrics_router
from app.resources import close_resources, open_resources
from app.settings import Settings, get_settings
from app.ui.router import STATIC_DIR
from app.ui.router import router as ui_router


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app; tests pass their own settings, production reads the environment."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        resources = await open_resources(settings)
        app.state.resources = resources
        from app.indexing import start_indexing

        await start_indexing(resources)
        try:
            yield
        finally:
            await close_resources(resources)

    app = FastAPI(
        title="Unified Inquiry — الاستعلام الموحد",
        version="0.1.0",
        description=(
            "One answer to “where is my transaction?” across the government agencies of Makkah Region. "
            "منصة الاستعلام الموحد عن المعاملات الواردة والصادرة لجهات منطقة مكة المكرمة."
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(RequestContextMiddleware)
    app.include_router(metrics_router)
    app.include_router(health_router)
    app.include_router(ingestion_router)
    app.include_router(inquiry_router)
    from app.audit.router import router as audit_router
    from app.dashboard.router import router as dashboard_router
    from app.staff.router import callcenter_router
    from app.staff.router import router as staff_router

    app.include_router(staff_router)
    app.include_router(callcenter_router)
    app.include_router(dashboard_router)
    app.include_router(audit_router)
    app.include_router(ui_router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
