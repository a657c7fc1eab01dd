"""What the reader's browser tests share: the real programme built once per test module (the first module's full
tier with a short real narration), a live server around it, and the steps a woman takes in /aprender/."""

import asyncio
import hashlib
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.content.loader import load_content
from app.content.service import load_modules
from app.content.spec import ModuleSpec
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.models import ProgressEvent
from app.offline.narration import EspeakOpus, find_synthesiser
from app.offline.service import build_packages
from app.storage import LocalStorage, storage_for
from tests.conftest import BACKENDS, drop_database, make_test_settings, migrated_database
from tests.factories import Actor, Factory
from tests.live import live_server
from tests.offline.conftest import CONTENT

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "clave-segura-123"
PHONE = {"width": 360, "height": 800}


class TitleVoice:
    """The system's voice reading only the lesson's title: real Ogg Opus as the full tier has it, in well under a
    second a lesson instead of about three (tests/offline builds the whole narration)."""

    def __init__(self, real: EspeakOpus) -> None:
        self.real = real

    @property
    def voice(self) -> str:
        return self.real.voice + "-titulo"

    def synthesise(self, text: str) -> bytes:
        return self.real.synthesise(text.splitlines()[0])


@dataclass
class Shelf:
    """A database and storage with the programme loaded and its packages built."""

    settings: Settings
    sessions: sessionmaker[Session]
    modules: list[ModuleSpec]
    narrated: bool
    factory: Factory = field(init=False)

    def __post_init__(self) -> None:
        self.factory = Factory(self.sessions, self.settings)

    @property
    def module(self) -> ModuleSpec:
        return self.modules[0]

    def events_of(self, woman: Actor) -> int:
        assert woman.participant_id is not None
        with self.sessions() as session:
            return session.scalar(select(func.count()).select_from(ProgressEvent)
                                  .where(ProgressEvent.participant_id == woman.participant_id)) or 0

    def load_and_build(self, content: Path) -> None:
        with self.sessions() as session, session.begin():
            self.modules = load_content(content)
            load_modules(session, storage_for(self.settings), self.modules)
            build_packages(session, storage_for(self.settings), None)


@contextmanager
def shelf_on(backend: str, folder: Path, content: Path = CONTENT, narrate: bool = True) -> Iterator[Shelf]:
    url = migrated_database(backend, folder)
    settings = make_test_settings(url, data_dir=folder / "data")
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    specs = load_content(content)
    real = find_synthesiser() if narrate else None
    with sessions() as session, session.begin():
        storage = storage_for(settings)
        load_modules(session, storage, specs)
        # the first module with narration (the one the tests study), the others without (not studied here)
        build_packages(session, storage, TitleVoice(real) if real else None, slugs=[specs[0].slug])
        build_packages(session, storage, None)
    try:
        yield Shelf(settings, sessions, specs, narrated=real is not None)
    finally:
        engine.dispose()
        drop_database(url)


@pytest.fixture(scope="module", params=BACKENDS)
def shelf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shelf]:
    with shelf_on(str(request.param), tmp_path_factory.mktemp("lector")) as built:
        yield built


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A phone's browser: 360×800, its own storage, service workers on."""
    context = browser.new_context(viewport=PHONE, service_workers="allow", accept_downloads=True)
    yield context
    context.close()


# a browser without Background Sync (Firefox, Safari): only the page sends, on opening, 'online' and visibility
NO_BACKGROUND_SYNC = "delete ServiceWorkerRegistration.prototype.sync;"


def port_of(base_url: str) -> int:
    return int(base_url.rsplit(":", 1)[1])


def open_reader(context: Any, base_url: str) -> Any:
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{base_url}/aprender/")
    return page


def log_in(page: Any, woman: Actor) -> None:
    page.fill("#form-ingreso input[name=username]", woman.username)
    page.fill("#form-ingreso input[name=password]", PASSWORD)
    page.click("#form-ingreso button")
    page.locator("#modulos").wait_for()


def card(page: Any, slug: str) -> Any:
    return page.locator(f"li[data-modulo='{slug}']")


def download(page: Any, slug: str, tier: str = "light") -> None:
    found = card(page, slug)
    found.locator("select").select_option(tier)
    found.get_by_role("button", name="Descargar para estudiar sin conexión").click()
    found.get_by_text("Guardado en el teléfono").wait_for(timeout=30_000)
    page.evaluate("navigator.serviceWorker.ready")  # the shell is cached: it opens with no connection


def offline(context: Any, page: Any) -> None:
    """The server is stopped already (a service worker's fetches ignore Playwright's offline mode); no signal."""
    context.set_offline(True)
    page.reload()
    page.locator("#modulos").wait_for()


def holding_it_offline(shelf: Shelf, context: Any, tier: str = "light") -> tuple[Actor, Any, int]:
    """A woman who logged in and downloaded the first module, now with no connection: (her, the page, the port
    to bring the server back on)."""
    woman = shelf.factory.participant("PE")
    with live_server(shelf.settings) as api:
        page = open_reader(context, api)
        log_in(page, woman)
        download(page, shelf.module.slug, tier)
    offline(context, page)
    return woman, page, port_of(api)


def back_online(context: Any, page: Any) -> None:
    context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")


def study_first_lesson(page: Any, slug: str) -> None:
    """Open the module, read its first lesson, and say it is done: two events (viewed, completed)."""
    card(page, slug).get_by_role("button", name="Estudiar").click()
    page.locator("#lecciones li").first.get_by_role("button", name="Leer").click()
    page.locator("#leccion-texto p").first.wait_for()
    page.click("#terminar")
    page.locator("#lecciones").wait_for()
    page.click(".volver")


def picture_shown(page: Any) -> None:
    # a function, not an expression: Playwright polls an expression with eval, which the reader's CSP refuses
    page.wait_for_function("() => { const image = document.querySelector('#leccion-texto img');"
                           " return image !== null && image.naturalWidth > 0; }")


def pending(page: Any, count: int) -> None:
    page.get_by_text(f"{count} avance(s) por enviar").wait_for(timeout=15_000)


def queued(page: Any, username: str) -> list[dict[str, Any]]:
    """The rows of her queue in IndexedDB, read with the reader's own functions."""
    rows: list[dict[str, Any]] = page.evaluate("(name) => eventsOf(name)", username)
    return rows


def zip_bytes(shelf: Shelf, base_url: str, woman: Actor, tier: str) -> bytes:
    import httpx

    response = httpx.get(f"{base_url}/api/v1/modules/{shelf.module.slug}/offline/{tier}.zip", headers=woman.headers)
    assert response.status_code == 200
    return response.content


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def storage_of(shelf: Shelf) -> LocalStorage:
    storage = storage_for(shelf.settings)
    assert isinstance(storage, LocalStorage)
    return storage


def copy_content(folder: Path) -> Path:
    target = folder / "contenido"
    shutil.copytree(CONTENT, target)
    return target


def manifest_of(base_url: str, woman: Actor, slug: str, tier: str) -> dict[str, Any]:
    import httpx

    document: dict[str, Any] = json.loads(httpx.get(f"{base_url}/api/v1/modules/{slug}/offline/{tier}/manifest",
                                                    headers=woman.headers).content)
    return document


def slow_answer(path: str, seconds: float, calls: list[str]) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI layer that lets ``path`` be handled (and committed) at once but holds its answer ``seconds``: the
    page can be closed while its POST is in flight, after the server has done the work."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def slowed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or scope["path"] != path:
                return await app(scope, receive, send)
            calls.append(scope["method"])

            async def late(message: Message) -> None:
                if message["type"] == "http.response.start":
                    await asyncio.sleep(seconds)
                try:
                    await send(message)
                except OSError:  # the page is gone
                    pass

            await app(scope, receive, late)
        return slowed
    return wrap


def cut_once(suffix: str, after_bytes: int, ranges: list[str | None]) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI layer that breaks the first answer to a path ending in ``suffix`` after ``after_bytes`` of its
    body (a lost signal halfway); later ones go through. ``ranges`` gets each such request's Range header."""
    state = {"cut": False}

    def wrap(app: ASGIApp) -> ASGIApp:
        async def cutting(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http" or not scope["path"].endswith(suffix):
                return await app(scope, receive, send)
            headers = dict(scope["headers"])
            ranges.append(headers[b"range"].decode() if b"range" in headers else None)
            if state["cut"]:
                return await app(scope, receive, send)
            state["cut"] = True
            sent = 0

            async def partly(message: Message) -> None:
                nonlocal sent
                if message["type"] == "http.response.body":
                    body = message.get("body", b"")
                    if sent + len(body) >= after_bytes:
                        await send({"type": "http.response.body", "body": body[:after_bytes - sent],
                                    "more_body": True})
                        await asyncio.sleep(0.5)  # the half reaches the page before the connection breaks
                        raise ConnectionAbortedError("señal perdida a mitad de la descarga")
                    sent += len(body)
                await send(message)

            await app(scope, receive, partly)
        return cutting
    return wrap


__all__ = ["ARTIFACTS", "NO_BACKGROUND_SYNC", "PASSWORD", "Shelf", "back_online", "card", "copy_content", "cut_once",
           "download", "holding_it_offline", "live_server", "log_in", "manifest_of", "offline", "open_reader",
           "pending", "phone", "picture_shown", "port_of", "queued", "sha256", "shelf", "shelf_on", "slow_answer",
           "storage_of", "study_first_lesson", "zip_bytes"]
