"""The application: routers, error handlers and middleware. ``uvicorn app.main:app`` serves it."""

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import text

from app.audit.router import router as audit_router
from app.auth.router import router as auth_router
from app.content.router import router as content_router
from app.core.config import Settings, get_settings
from app.core.db import SessionFactoryDep, make_engine, make_sessionmaker, short_session
from app.core.edge import refuse_bad_input
from app.core.errors import ServiceUnavailable, error_responses, install_error_handlers
from app.core.logging import RequestIdMiddleware, configure_logging
from app.enrolment.router import router as enrolment_router
from app.privacy.router import router as privacy_router
from app.progress.router import router as progress_router

API_PREFIX = "/api/v1"

health = APIRouter(tags=["health"])


@health.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@health.get("/readyz", responses=error_responses(503))
def readyz(factory: SessionFactoryDep) -> dict[str, str]:
    """The database answers."""
    try:
        with short_session(factory) as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:
        raise ServiceUnavailable("database_unavailable") from exc
    return {"status": "ok"}


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.log_json)
    app = FastAPI(
        title="Caminos de Saberes",
        version="1.0.0",
        description="Inscripción con cupos por país, módulos, progreso sin conexión y certificados.",
        # runs before every route's own dependencies: bad bytes never reach a session or the database
        dependencies=[Depends(refuse_bad_input)],
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    install_error_handlers(app)
    app.add_middleware(RequestIdMiddleware)
    for router in (auth_router, enrolment_router, content_router, progress_router, privacy_router, audit_router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health)
    return app


app = create_app()
