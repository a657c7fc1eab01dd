"""A page on the website's origin calls the API from headless Chromium: the browser's own CORS checks, preflights
included (a bearer token and a JSON body both need one)."""

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.content.service import load_modules
from app.content.spec import LessonSpec, MediaSpec, ModuleSpec
from app.core.db import make_engine, make_sessionmaker
from app.storage import storage_for
from tests.browser.website import website
from tests.conftest import drop_database, make_test_settings, migrated_database
from tests.factories import Factory
from tests.live import live_server
from tests.progress.conftest import programme

pytestmark = pytest.mark.xdist_group("live")

CALLS = """async ([api, username]) => {
  const log = {};
  const form = new URLSearchParams({username, password: 'clave-segura-123'});
  const login = await fetch(api + '/api/v1/auth/token', {method: 'POST', body: form});
  log.login = login.status;
  const token = (await login.json()).access_token;
  const auth = {'Authorization': 'Bearer ' + token, 'Accept-Language': 'en'};
  const me = await fetch(api + '/api/v1/me', {headers: auth});
  log.me = [me.status, (await me.json()).role, me.headers.get('X-Request-ID') !== null];
  const events = await fetch(api + '/api/v1/progress/events', {
    method: 'POST', headers: {...auth, 'Content-Type': 'application/json', 'Idempotency-Key': 'k1'},
    body: JSON.stringify({events: [{event_id: crypto.randomUUID(), type: 'lesson_completed', module: 'saberes',
                                    lesson: 'valor', occurred_at: '2026-03-01T10:00:00Z', payload: {}}]})});
  log.events = [events.status, (await events.json()).results[0].status];
  const denied = await fetch(api + '/api/v1/me', {headers: {'Authorization': 'Bearer wrong'}});
  log.denied = [denied.status, (await denied.json()).error];
  return log;
}"""


@pytest.fixture
def database(tmp_path: Path) -> Iterator[str]:
    url = migrated_database("sqlite", tmp_path)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        load_modules(session, storage_for(make_test_settings(url)), programme())
    engine.dispose()
    yield url
    drop_database(url)


def test_the_website_origin_can_call_the_api(page: Any, database: str) -> None:
    with website("<!doctype html><title>Alianza del Pacífico</title><p>Caminos de Saberes</p>") as origin:
        settings = make_test_settings(database, cors_origins=[origin])
        learner = Factory(make_sessionmaker(make_engine(database)), settings).participant("PE")
        with live_server(settings) as api:
            page.goto(origin)
            log = page.evaluate(CALLS, [api, learner.username])
    assert log == {"login": 200, "me": [200, "participant", True], "events": [200, "accepted"],
                   "denied": [401, "not_authenticated"]}


def test_another_origin_is_refused_by_the_browser(page: Any, database: str) -> None:
    with website("<!doctype html><title>otra</title>") as origin:
        settings = make_test_settings(database, cors_origins=["https://alianzapacifico.net"])
        with live_server(settings) as api:
            page.goto(origin)
            outcome = page.evaluate("""async (api) => {
                try { await fetch(api + '/api/v1/countries'); return 'read'; }
                catch (e) { return 'blocked'; }
            }""", api)
    assert outcome == "blocked"


PICTURE = (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="48" viewBox="0 0 64 48">'
           b'<rect width="64" height="48" fill="#b5651d"/></svg>')


def test_a_lesson_image_shows_on_the_website(page: Any, tmp_path: Path) -> None:
    """The website renders a lesson's HTML as served: its <img> (a public blob on the API's origin) loads."""
    sha = hashlib.sha256(PICTURE).hexdigest()
    lesson = LessonSpec(slug="telar", title="El telar", estimated_minutes=5, required=True, position=1,
                        html=f'<p><img src="/api/v1/blobs/{sha}" alt="Un telar"></p>', media=(sha,))
    spec = ModuleSpec(slug="telares", title="Telares", summary="Tejer.", position=1, estimated_minutes=5,
                      required=True, objectives=("Tejer",), lessons=(lesson,),
                      media=(MediaSpec("media/telar.svg", sha, "image/svg+xml", PICTURE),))
    url = migrated_database("sqlite", tmp_path)
    try:
        with website("<!doctype html><title>Alianza del Pacífico</title><main id=lesson></main>") as origin:
            settings = make_test_settings(url, cors_origins=[origin])
            sessions = make_sessionmaker(make_engine(url))
            with sessions() as session, session.begin():
                load_modules(session, storage_for(settings), [spec])
            learner = Factory(sessions, settings).participant("PE")
            with live_server(settings) as api:
                page.goto(origin)
                size = page.evaluate("""async ([api, token]) => {
                    const answer = await fetch(api + '/api/v1/modules/telares/lessons/telar',
                                               {headers: {'Authorization': 'Bearer ' + token}});
                    document.getElementById('lesson').innerHTML = (await answer.json()).html;
                    const img = document.querySelector('#lesson img');
                    await new Promise((ok, fail) => { img.onload = ok; img.onerror = fail;
                                                      if (img.complete && img.naturalWidth) ok(); });
                    return [img.src.startsWith(api), img.naturalWidth, img.naturalHeight];
                }""", [api, learner.token])
    finally:
        drop_database(url)
    assert size == [True, 64, 48]
