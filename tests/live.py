"""A real uvicorn server in a thread, on its own database, for tests that need real commits and concurrency."""

import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp

from app.content.service import load_modules
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.main import create_app
from app.storage import storage_for
from tests.conftest import drop_database, make_test_settings, migrated_database
from tests.factories import application
from tests.progress.conftest import programme


@contextmanager
def live_server(settings: Settings, port: int = 0,
                wrap: Callable[[ASGIApp], ASGIApp] | None = None) -> Iterator[str]:
    """``port`` 0: any free one; a fixed one brings a stopped server back at the same origin. ``wrap``: an ASGI
    layer around the app (a slow or cut connection, for the browser tests)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    # the server's public address is itself: lesson images as served point back at it
    app = create_app(settings.model_copy(update={"public_base_url": f"http://127.0.0.1:{port}"}))
    server = uvicorn.Server(uvicorn.Config(wrap(app) if wrap else app, log_level="warning", access_log=False,
                                           limit_concurrency=1000, backlog=2048, proxy_headers=False))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        app.state.engine.dispose()
        sock.close()


def run_at_once(calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[httpx.Response]:
    """Start every call at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with httpx.Client(timeout=120) as http:
            barrier.wait()
            return call(http)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


@dataclass(frozen=True)
class LiveService:
    base_url: str
    sessions: sessionmaker[Session]  # for the test's own reads and setup, on the same database
    settings: Settings


@contextmanager
def live_service(backend: str, tmp_path: Path, *, with_programme: bool = True,
                 **overrides: object) -> Iterator[LiveService]:
    """A live server on a fresh database of its own (dropped afterwards), with the test programme loaded."""
    url = migrated_database(backend, tmp_path)
    settings = make_test_settings(url, **overrides)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    if with_programme:
        with sessions() as session, session.begin():
            load_modules(session, storage_for(settings), programme())
    try:
        with live_server(settings) as base_url:
            yield LiveService(base_url, sessions, settings)
    finally:
        engine.dispose()
        drop_database(url)


def self_applied_learner(http: httpx.Client, country: str = "PE") -> dict[str, str]:
    """A woman who applied by herself (enrolled while seats last) and logged in: her request headers."""
    body = application(country)
    applied = http.post("/api/v1/applications", json=body)
    assert applied.status_code == 201, applied.text
    token = http.post("/api/v1/auth/token", data={"username": body["email"], "password": body["password"]})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}
