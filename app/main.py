"""The application: routers, error handlers and middleware. ``uvicorn app.main:app`` serves it."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import text
from starlette.middleware.cors import CORSMiddleware
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app.auth.dependencies import current_principal, optional_principal
from app.auth.router import router as auth_router
from app.certificates.pages import router as certificate_pages
from app.certificates.router import router as certificates_router
from app.content.router import router as content_router
from app.core.compression import SelectiveCompressMiddleware
from app.core.config import Settings, get_settings
from app.core.db import make_engine, make_sessionmaker, short_session
from app.core.dependencies import SessionFactoryDep
from app.core.docs import install_docs
from app.core.edge import refuse_bad_input
from app.core.error_handlers import install_error_handlers
from app.core.errors import ServiceUnavailable, error_responses
from app.core.http import RateLimitPolicyMiddleware, Utf8QueryStringMiddleware, require_json_content_type
from app.core.logging import RequestIdMiddleware, configure_logging
from app.core.openapi import install_openapi, operation_id
from app.credentials.keys import load_signing_key
from app.credentials.router import router as credentials_router
from app.credentials.router import well_known
from app.dashboard.pages import install_page_errors
from app.dashboard.router import router as dashboard_router
from app.dashboard.session import LOGIN_PATH as DASHBOARD_LOGIN_PATH
from app.dashboard.session import PREFIX as DASHBOARD_PREFIX
from app.enrolment import imports
from app.enrolment.router import router as enrolment_router
from app.jobs.queue import runner_for
from app.jobs.router import router as jobs_router
from app.offline.router import router as offline_router
from app.privacy.router import router as privacy_router
from app.progress.router import router as progress_router
from app.reader.router import router as reader_router
from app.reporting.router import router as reporting_router
from app.rights.router import router as rights_router
from app.storage import storage_for

API_PREFIX = "/api/v1"
# what the website's front end sends, and what it needs to read back (a browser hides other response headers)
CORS_REQUEST_HEADERS = ["Authorization", "Content-Type", "Idempotency-Key", "Accept-Language"]
CORS_EXPOSED_HEADERS = ["Retry-After", "X-Request-ID", "ETag", "Content-Range", "Content-Language",
                        "RateLimit", "RateLimit-Policy"]

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


def rate_limit_policies(settings: Settings) -> dict[tuple[str, str], str]:
    """The quotas of the throttled routes, as ``RateLimit-Policy`` values (q: attempts, w: window in seconds)."""
    window = settings.throttle_window_minutes * 60
    login = (f'"account";q={settings.login_failures_per_account};w={window}, '
             f'"account_total";q={settings.login_failures_per_account_total};w={window}, '
             f'"address";q={settings.login_failures_per_address};w={window}')
    return {
        ("POST", f"{API_PREFIX}/auth/token"): login,
        ("POST", DASHBOARD_LOGIN_PATH): login,  # the dashboard's login counts the same attempts
        ("POST", f"{API_PREFIX}/auth/activate"): f'"address";q={settings.activation_failures_per_address};w={window}',
        ("POST", f"{API_PREFIX}/applications"): f'"address";q={settings.application_rate_limit};w=3600',
        ("POST", f"{API_PREFIX}/applications/import"): f'"user";q={imports.IMPORTS_PER_HOUR};w=3600',
        # the dashboard's form counts toward the same hourly limit
        ("POST", f"{DASHBOARD_PREFIX}/{{code}}/inscribir"): f'"user";q={imports.IMPORTS_PER_HOUR};w=3600',
    }


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    # at start-up, so that a development key is generated (and said so in the log) before the first request
    app.state.signing_key = load_signing_key(app.state.settings)
    runner = getattr(app.state, "job_runner", None)
    if runner is not None:
        runner.submit()  # resume what a previous process left queued or running
    if app.state.settings.environment != "test":  # (the suite makes hundreds of apps in one process)
        # what start-up made lives as long as the process: out of the collector's sight, a full collection takes a
        # few milliseconds instead of some 80, and no request waits behind one
        gc.collect()
        gc.freeze()
    yield


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    configure_logging(settings.json_logs)
    app = FastAPI(
        lifespan=lifespan,
        title="Caminos de Saberes",
        version="1.0.0",
        description="Inscripción con cupos por país, módulos, progreso sin conexión y certificados.",
        generate_unique_id_function=operation_id,
        docs_url=None,  # served by install_docs with local files
        redoc_url=None,
        # before every route's own dependencies: a body of the wrong type is 415, and bad bytes never reach a
        # session or the database
        dependencies=[Depends(require_json_content_type), Depends(refuse_bad_input)],
    )
    engine = make_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(engine)
    app.state.storage = storage_for(settings)
    app.state.signing_key = None  # loaded by the lifespan (app/credentials/keys.py)
    app.state.job_runner = runner_for(settings, app.state.sessionmaker, app.state.storage)
    install_error_handlers(app)
    install_page_errors(app)  # after the API's: it hands them every error outside /coordinacion
    app.add_middleware(Utf8QueryStringMiddleware)
    app.add_middleware(RateLimitPolicyMiddleware, policies=rate_limit_policies(settings))
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(SelectiveCompressMiddleware)
    if settings.forwarded_allow_ips:
        # the client's address as the trusted proxy saw it; a forged header from anyone else is ignored
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    # outermost, so that error answers carry the CORS headers too and a browser can read them. Bearer tokens
    # only: no credentials mode, so cookies never ride along to another origin.
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.allowed_origins,
        allow_methods=["GET", "POST", "PATCH", "DELETE"],
        allow_headers=CORS_REQUEST_HEADERS,
        expose_headers=CORS_EXPOSED_HEADERS,
        allow_credentials=False,
        max_age=600,
    )
    # routes are matched in this order, each router's in turn: the hot paths (every sync, every reader page)
    # first, so they are found without trying the other routers' patterns
    for router in (progress_router, auth_router, enrolment_router, content_router, offline_router, privacy_router,
                   certificates_router, credentials_router, jobs_router, reporting_router, rights_router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(health)
    app.include_router(well_known)
    app.include_router(certificate_pages)
    app.include_router(reader_router)
    app.include_router(dashboard_router)
    install_openapi(app, optional_login=optional_principal, login=current_principal)
    install_docs(app)
    return app


app = create_app()
