"""The authorisation matrix (API.md, "Who may call what"): every route × every kind of caller → one status.

Six callers: nobody (anonymous); two enrolled Peruvian participants (``participant_self``, whose objects
every request targets, and ``participant_other``); a coordinator of Peru (``coordinator_same``) and one of
Chile (``coordinator_other``); an admin. Every request body is valid, so that the status reflects
authorisation only. Each (route, caller) pair is its own test, in its own rolled-back transaction.

``test_every_route_is_in_the_matrix`` fails as soon as a route is added without an entry here.
"""

import hashlib
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import fastapi.routing
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from starlette.routing import Route

from app.auth.principal import Principal
from app.certificates import batch
from app.certificates import service as certificate_service
from app.certificates.render import CertificateContent, render_pdf
from app.content.service import load_modules
from app.content.spec import LessonSpec, MediaSpec, ModuleSpec
from app.core.config import Settings
from app.dashboard.session import COOKIE, LOGIN_COOKIE, session_csrf
from app.models import Role
from app.offline.service import build_packages
from app.storage import Storage
from tests.enrolment.imports_helpers import csv_file, person
from tests.factories import Actor, Factory, application

ROLES = (
    "anonymous", "participant_self", "participant_other", "coordinator_same", "coordinator_other", "admin",
)
PASSWORD = "clave-segura-123"  # the factories' password
_emails = itertools.count(1)

# FastAPI's own documentation routes: served to everyone, not part of the API contract
DOCS_ROUTES = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc", "/docs/assets/{name}"}


@dataclass
class World:
    """The callers of one test; the requests target ``participant_self``'s objects."""

    client: TestClient
    sessions: sessionmaker[Session]
    storage: Storage
    participant_self: Actor
    participant_other: Actor
    coordinator_same: Actor
    coordinator_other: Actor
    admin: Actor
    # participant_self's certificate (id, code), issued on first use
    certificate: Callable[[], tuple[int, str]]
    job: Callable[[], int]  # a queued certificate batch

    def headers(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else getattr(self, role).headers


# A request builder answers the keyword arguments of ``TestClient.request`` (url and body) for one caller.
Builder = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Spec:
    request: Builder
    expected: dict[str, int]
    # a dashboard page (/coordinacion): the caller's session is its cookie, errors are HTML pages
    page: bool = False


def statuses(anonymous: int, participant_self: int, participant_other: int, coordinator_same: int,
             coordinator_other: int, admin: int) -> dict[str, int]:
    answers = (anonymous, participant_self, participant_other, coordinator_same, coordinator_other, admin)
    return dict(zip(ROLES, answers, strict=True))


def everyone(status: int) -> dict[str, int]:
    return statuses(status, status, status, status, status, status)


def authenticated(status: int) -> dict[str, int]:
    """401 without a token, ``status`` for anyone logged in."""
    return statuses(401, status, status, status, status, status)


def admin_only(status: int) -> dict[str, int]:
    return statuses(401, 403, 403, 403, 403, status)


def scoped(status: int) -> dict[str, int]:
    """Her own object: she, her country's coordinator and admins; anyone else is told it does not exist."""
    return statuses(401, status, 404, status, 404, status)


def staff_of_peru(status: int) -> dict[str, int]:
    """Peru's staff and admins; participants are refused, Chile's coordinator is told it does not exist."""
    return statuses(401, 403, 403, status, 404, status)


def dashboard(status: int) -> dict[str, int]:
    """A dashboard page of Peru: logged out, to the login page; participants refused; Chile's coordinator is told
    it does not exist."""
    return statuses(303, 403, 403, status, 404, status)


def page(url: str) -> Builder:
    return lambda _world, _role: {"url": url, "follow_redirects": False}


def page_form(url: str, **data: str) -> Builder:
    """A dashboard form as its page sends it: from this site, with the caller's session token."""
    def build(world: World, role: str) -> dict[str, Any]:
        token = "" if role == "anonymous" else session_csrf(world.client.app.state.settings,  # type: ignore[attr-defined]
                                                              getattr(world, role).token)
        return {"url": url, "follow_redirects": False, "data": {**data, "csrf": token},
                "headers": {"Origin": "http://testserver"}}
    return build


def page_upload(url: str) -> Builder:
    """The dashboard's bulk registration form as its page sends it: a multipart form with the file, the
    session's token and the form's key."""
    def build(world: World, role: str) -> dict[str, Any]:
        kwargs = page_form(url, accion="inscribir", clave=f"matriz-{next(_emails)}")(world, role)
        return {**kwargs, "files": {"file": ("lista.csv", csv_file([person("PE")]), "text/csv")}}
    return build


def dashboard_login(world: World, role: str) -> dict[str, Any]:
    """Each caller logs in with her own password (nobody with a name that does not exist)."""
    username = "nadie@example.org" if role == "anonymous" else getattr(world, role).username
    return {"url": "/coordinacion/entrar", "follow_redirects": False, "cookies": {LOGIN_COOKIE: "t" * 32},
            "data": {"username": username, "password": PASSWORD, "csrf": "t" * 32},
            "headers": {"Origin": "http://testserver"}}


def bare(url: str) -> Builder:
    """A request without a body."""
    return lambda _world, _role: {"url": url}


def new_application(_world: World, role: str) -> dict[str, Any]:
    # an anonymous woman applies for herself (email and password); staff register a Peruvian woman without
    # them; a participant applying again already has an active enrolment
    return {"url": "/api/v1/applications", "json": application("PE", self_service=role == "anonymous")}


def bulk_import(_world: World, _role: str) -> dict[str, Any]:
    # a Peruvian woman: Chile's coordinator is answered 200 with the row rejected (test_bulk_import.py)
    return {"url": "/api/v1/applications/import",
            "files": {"file": ("lista.csv", csv_file([person("PE")]), "text/csv")}}


def new_user(_world: World, _role: str) -> dict[str, Any]:
    return {"url": "/api/v1/users", "json": {
        "email": f"matriz{next(_emails)}@example.org", "password": PASSWORD, "full_name": "Rosa Huamán",
        "role": "coordinator", "country": "PE",
    }}


def country_update(world: World, _role: str) -> dict[str, Any]:
    pe = next(c for c in world.client.get("/api/v1/countries").json() if c["code"] == "PE")
    return {"url": "/api/v1/countries/PE", "json": {"capacity": max(pe["capacity"], pe["enrolled"]) + 1}}


IMAGE = MediaSpec(path="media/telar.svg", sha256=hashlib.sha256(b"<svg/>").hexdigest(),
                  media_type="image/svg+xml", data=b"<svg/>")
MODULE = ModuleSpec(
    slug="matriz", title="Módulo de la matriz", summary="Para probar permisos.", position=1, estimated_minutes=5,
    required=True, objectives=("Probar",), media=(IMAGE,),
    lessons=(LessonSpec(slug="telar", title="El telar", estimated_minutes=5, required=True, position=1,
                        html=f'<p><img src="/api/v1/blobs/{IMAGE.sha256}" alt="Un telar"></p>',
                        media=(IMAGE.sha256,)),),
)


def offline(url: str) -> Builder:
    """A request for an offline package: built first (without narration: the matrix is about who may call)."""
    def build(world: World, _role: str) -> dict[str, Any]:
        with world.sessions() as session, session.begin():
            build_packages(session, world.storage, None)
        return {"url": url}

    return build


def progress_events(kind: str) -> Builder:
    def build(_world: World, _role: str) -> dict[str, Any]:
        event = {"event_id": str(uuid.uuid4()), "type": "lesson_viewed", "module": MODULE.slug,
                 "lesson": MODULE.lessons[0].slug, "occurred_at": "2026-11-20T15:00:00Z", "payload": {"seconds": 60}}
        return {"url": f"/api/v1/progress/{kind}", "json": {"events": [event]}}

    return build


_PDFS: list[bytes] = []


def reused_pdf(content: CertificateContent) -> bytes:
    """A real WeasyPrint PDF, rendered once per process: the matrix is about who may call, not about the PDF."""
    if not _PDFS:
        _PDFS.append(render_pdf(content))
    return _PDFS[0]


def certificate_url(suffix: str) -> Builder:
    return lambda w, _r: {"url": f"/api/v1/certificates/{w.certificate()[0]}{suffix}"}


MATRIX: dict[tuple[str, str], Spec] = {
    # auth
    ("POST", "/api/v1/auth/token"): Spec(
        lambda w, _r: {"url": "/api/v1/auth/token",
                       "data": {"username": w.participant_self.username, "password": "no-es-la-clave"}},
        everyone(401),  # wrong credentials, whoever asks
    ),
    ("POST", "/api/v1/auth/logout"): Spec(bare("/api/v1/auth/logout"), authenticated(204)),
    ("POST", "/api/v1/auth/activate"): Spec(
        lambda _w, _r: {"url": "/api/v1/auth/activate",
                        "json": {"code": "ABCD-EFGH-JKMN", "password": "clave-nueva-456"}},
        everyone(400),  # a wrong code, whoever asks
    ),
    ("GET", "/api/v1/me"): Spec(bare("/api/v1/me"), authenticated(200)),
    ("POST", "/api/v1/me/password"): Spec(
        lambda _w, _r: {"url": "/api/v1/me/password",
                        "json": {"current_password": PASSWORD, "new_password": "clave-nueva-456"}},
        authenticated(200),
    ),
    ("POST", "/api/v1/users/{user_id}/activation-code"): Spec(
        lambda w, _r: {"url": f"/api/v1/users/{w.coordinator_same.user_id}/activation-code"}, admin_only(201),
    ),
    ("POST", "/api/v1/participants/{participant_id}/activation-code"): Spec(
        lambda w, _r: {"url": f"/api/v1/participants/{w.participant_self.participant_id}/activation-code"},
        statuses(401, 404, 404, 201, 404, 201),
    ),
    ("POST", "/api/v1/users"): Spec(new_user, admin_only(201)),
    ("PATCH", "/api/v1/users/{user_id}"): Spec(
        lambda w, _r: {"url": f"/api/v1/users/{w.coordinator_same.user_id}",
                       "json": {"full_name": "Coordinadora Renombrada"}},
        admin_only(200),
    ),
    # countries, applications, enrolments
    ("GET", "/api/v1/countries"): Spec(bare("/api/v1/countries"), everyone(200)),
    ("PATCH", "/api/v1/countries/{code}"): Spec(country_update, admin_only(200)),
    ("POST", "/api/v1/applications"): Spec(new_application, statuses(201, 409, 409, 201, 403, 201)),
    ("POST", "/api/v1/applications/import"): Spec(bulk_import, statuses(401, 403, 403, 200, 200, 200)),
    ("GET", "/api/v1/applications/import/template.csv"): Spec(
        bare("/api/v1/applications/import/template.csv"), statuses(401, 403, 403, 200, 200, 200)),
    ("GET", "/api/v1/applications/import/template.xlsx"): Spec(
        bare("/api/v1/applications/import/template.xlsx"), statuses(401, 403, 403, 200, 200, 200)),
    ("GET", "/api/v1/enrolments"): Spec(bare("/api/v1/enrolments"), authenticated(200)),  # contents: below
    ("GET", "/api/v1/enrolments/{enrolment_id}"): Spec(
        lambda w, _r: {"url": f"/api/v1/enrolments/{w.participant_self.enrolment_id}"}, scoped(200),
    ),
    ("GET", "/api/v1/participants/{participant_id}"): Spec(
        lambda w, _r: {"url": f"/api/v1/participants/{w.participant_self.participant_id}"}, scoped(200),
    ),
    ("POST", "/api/v1/enrolments/{enrolment_id}/withdraw"): Spec(
        lambda w, _r: {"url": f"/api/v1/enrolments/{w.participant_self.enrolment_id}/withdraw",
                       "json": {"reason": "Se mudó a la ciudad"}},
        scoped(200),
    ),
    ("POST", "/api/v1/enrolments/{enrolment_id}/notified"): Spec(
        lambda w, _r: {"url": f"/api/v1/enrolments/{w.participant_self.enrolment_id}/notified"},
        statuses(401, 404, 404, 409, 404, 409),  # in scope, the rule answers: she was never promoted
    ),
    # content and progress
    ("GET", "/api/v1/modules"): Spec(bare("/api/v1/modules"), everyone(200)),  # the public curriculum
    ("GET", "/api/v1/modules/{slug}"): Spec(bare(f"/api/v1/modules/{MODULE.slug}"), authenticated(200)),
    ("GET", "/api/v1/modules/{slug}/lessons/{lesson}"): Spec(
        bare(f"/api/v1/modules/{MODULE.slug}/lessons/{MODULE.lessons[0].slug}"), authenticated(200),
    ),
    ("GET", "/api/v1/blobs/{sha256}"): Spec(bare(f"/api/v1/blobs/{IMAGE.sha256}"), everyone(200)),
    ("GET", "/api/v1/modules/{slug}/offline"): Spec(offline(f"/api/v1/modules/{MODULE.slug}/offline"),
                                                    authenticated(200)),
    ("GET", "/api/v1/modules/{slug}/offline/{tier}.zip"): Spec(
        offline(f"/api/v1/modules/{MODULE.slug}/offline/light.zip"), authenticated(200)),
    ("GET", "/api/v1/modules/{slug}/offline/{tier}/manifest"): Spec(
        offline(f"/api/v1/modules/{MODULE.slug}/offline/text/manifest"), authenticated(200)),
    ("POST", "/api/v1/progress/events"): Spec(progress_events("events"), statuses(401, 200, 200, 403, 403, 403)),
    ("POST", "/api/v1/progress/import"): Spec(progress_events("import"), statuses(401, 200, 200, 403, 403, 403)),
    ("POST", "/api/v1/participants/{participant_id}/progress/import"): Spec(
        lambda w, r: {**progress_events("import")(w, r),
                      "url": f"/api/v1/participants/{w.participant_self.participant_id}/progress/import"}
        | {"json": {**progress_events("import")(w, r)["json"], "username": w.participant_self.username}},
        statuses(401, 403, 403, 200, 404, 200),
    ),
    ("GET", "/api/v1/me/progress"): Spec(bare("/api/v1/me/progress"), statuses(401, 200, 200, 403, 403, 403)),
    ("GET", "/api/v1/participants/{participant_id}/progress"): Spec(
        lambda w, _r: {"url": f"/api/v1/participants/{w.participant_self.participant_id}/progress"}, scoped(200),
    ),
    # privacy, audit, health
    ("GET", "/api/v1/consent/notice"): Spec(bare("/api/v1/consent/notice"), everyone(200)),
    ("GET", "/api/v1/audit"): Spec(bare("/api/v1/audit"), admin_only(200)),
    # certificates
    ("POST", "/api/v1/certificates"): Spec(
        lambda w, _r: {"url": "/api/v1/certificates", "json": {
            "participant_id": w.participant_self.participant_id, "override_reason": "Avance registrado en papel"}},
        admin_only(201),
    ),
    ("GET", "/api/v1/certificates"): Spec(bare("/api/v1/certificates"), statuses(401, 403, 403, 200, 200, 200)),
    ("GET", "/api/v1/me/certificates"): Spec(bare("/api/v1/me/certificates"), statuses(401, 200, 200, 403, 403, 403)),
    ("GET", "/api/v1/certificates/{certificate_id}/pdf"): Spec(certificate_url("/pdf"), scoped(200)),
    ("GET", "/api/v1/certificates/{certificate_id}/credential"): Spec(certificate_url("/credential"), scoped(200)),
    # what any verifier fetches: the status list and the key
    ("GET", "/api/v1/credentials/status/1"): Spec(bare("/api/v1/credentials/status/1"), everyone(200)),
    ("GET", "/.well-known/jwks.json"): Spec(bare("/.well-known/jwks.json"), everyone(200)),
    ("POST", "/api/v1/certificates/{certificate_id}/revoke"): Spec(
        lambda w, r: {**certificate_url("/revoke")(w, r), "json": {"reason": "error_de_emision"}}, admin_only(200),
    ),
    ("POST", "/api/v1/certificates/{certificate_id}/reissue"): Spec(
        lambda w, r: {**certificate_url("/reissue")(w, r), "json": {"reason": "Rectificación del nombre"}},
        admin_only(201),
    ),
    ("POST", "/api/v1/certificates/batch"): Spec(
        lambda _w, _r: {"url": "/api/v1/certificates/batch", "json": {"country": "PE"}}, admin_only(202),
    ),
    ("GET", "/api/v1/jobs/{job_id}"): Spec(lambda w, _r: {"url": f"/api/v1/jobs/{w.job()}"}, admin_only(200)),
    ("GET", "/api/v1/verify/{code}"): Spec(
        lambda w, _r: {"url": f"/api/v1/verify/{w.certificate()[1]}"}, everyone(200)),
    ("GET", "/verificar/{code}"): Spec(lambda w, _r: {"url": f"/verificar/{w.certificate()[1]}"}, everyone(200)),
    ("POST", "/api/v1/me/consent/withdraw"): Spec(
        lambda _w, _r: {"url": "/api/v1/me/consent/withdraw", "json": {"sensitive_data": True}}, authenticated(200)),
    ("GET", "/api/v1/me/data"): Spec(bare("/api/v1/me/data"), authenticated(200)),
    ("PATCH", "/api/v1/me"): Spec(lambda _w, _r: {"url": "/api/v1/me", "json": {"locale": "en"}}, authenticated(200)),
    ("POST", "/api/v1/participants/{participant_id}/erase"): Spec(
        lambda w, _r: {"url": f"/api/v1/participants/{w.participant_self.participant_id}/erase",
                       "json": {"reason": "Lo pidió ella por escrito"}},
        admin_only(200),
    ),
    # reports: Peru's, asked for by everyone
    ("GET", "/api/v1/reports/countries/{code}"): Spec(bare("/api/v1/reports/countries/PE"), staff_of_peru(200)),
    ("GET", "/api/v1/reports/countries/{code}/participants.csv"): Spec(
        bare("/api/v1/reports/countries/PE/participants.csv"), staff_of_peru(200)),
    ("GET", "/api/v1/reports/countries/{code}/participants.xlsx"): Spec(
        bare("/api/v1/reports/countries/PE/participants.xlsx"), staff_of_peru(200)),
    ("GET", "/healthz"): Spec(bare("/healthz"), everyone(200)),
    # the offline reader's shell and files: public, its API calls carry the token
    ("GET", "/aprender"): Spec(lambda w, _r: {"url": "/aprender", "follow_redirects": False}, everyone(308)),
    ("GET", "/aprender/"): Spec(bare("/aprender/"), everyone(200)),
    ("GET", "/aprender/sw.js"): Spec(bare("/aprender/sw.js"), everyone(200)),
    ("GET", "/aprender/{name}"): Spec(bare("/aprender/app.js"), everyone(200)),
    ("GET", "/readyz"): Spec(bare("/readyz"), everyone(200)),
    # the coordinators' dashboard: pages under a cookie session (the caller's token), Peru's asked for by everyone
    ("GET", "/coordinacion/static/{name}"): Spec(page("/coordinacion/static/panel.css"), everyone(200), page=True),
    ("GET", "/coordinacion/entrar"): Spec(page("/coordinacion/entrar"), statuses(200, 200, 200, 303, 303, 303),
                                          page=True),
    ("POST", "/coordinacion/entrar"): Spec(dashboard_login, statuses(401, 403, 403, 303, 303, 303), page=True),
    ("POST", "/coordinacion/salir"): Spec(page_form("/coordinacion/salir"), everyone(303), page=True),
    ("GET", "/coordinacion"): Spec(page("/coordinacion"), statuses(303, 403, 403, 303, 303, 200), page=True),
    ("GET", "/coordinacion/{code}"): Spec(page("/coordinacion/PE"), dashboard(200), page=True),
    ("GET", "/coordinacion/{code}/participantes"): Spec(page("/coordinacion/PE/participantes"), dashboard(200),
                                                        page=True),
    ("GET", "/coordinacion/{code}/participantes/{participant_id}"): Spec(
        lambda w, r: page(f"/coordinacion/PE/participantes/{w.participant_self.participant_id}")(w, r),
        dashboard(200), page=True),
    ("GET", "/coordinacion/{code}/participantes.csv"): Spec(page("/coordinacion/PE/participantes.csv"),
                                                            dashboard(200), page=True),
    ("GET", "/coordinacion/{code}/participantes.xlsx"): Spec(page("/coordinacion/PE/participantes.xlsx"),
                                                             dashboard(200), page=True),
    # participant_self was never on the waitlist: staff who may act get the API's 409 "not promoted"
    ("POST", "/coordinacion/{code}/inscripciones/{enrolment_id}/avisada"): Spec(
        lambda w, r: page_form(f"/coordinacion/PE/inscripciones/{w.participant_self.enrolment_id}/avisada")(w, r),
        statuses(303, 403, 403, 409, 404, 409), page=True),
    ("GET", "/coordinacion/{code}/inscribir"): Spec(page("/coordinacion/PE/inscribir"), dashboard(200), page=True),
    ("POST", "/coordinacion/{code}/inscribir"): Spec(page_upload("/coordinacion/PE/inscribir"), dashboard(200),
                                                     page=True),
    ("GET", "/coordinacion/{code}/plantilla.csv"): Spec(page("/coordinacion/PE/plantilla.csv"), dashboard(200),
                                                        page=True),
    ("GET", "/coordinacion/{code}/plantilla.xlsx"): Spec(page("/coordinacion/PE/plantilla.xlsx"), dashboard(200),
                                                         page=True),
}

CASES = [(method, path, role) for (method, path) in MATRIX for role in ROLES]


def path_pattern(template: str) -> re.Pattern[str]:
    return re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(template)))


@pytest.fixture
def world(client: TestClient, factory: Factory, sessions: sessionmaker[Session], storage: Storage,
          settings: Settings) -> World:
    with sessions() as session, session.begin():
        load_modules(session, storage, [MODULE])
    participant_self, admin = factory.participant("PE"), factory.admin()
    made: list[tuple[int, str]] = []

    def certificate() -> tuple[int, str]:
        if not made:
            principal = Principal(user_id=admin.user_id, role=Role.ADMIN, country=None, participant_id=None,
                                  token_id=0)
            with sessions() as session, session.begin():
                row, _ = certificate_service.issue(session, sessions, settings, storage, principal,
                                                   participant_self.participant_id or 0, "Matriz de permisos",
                                                   render=reused_pdf)
                made.append((row.id, row.code))
        return made[0]

    def job() -> int:
        with sessions() as session, session.begin():
            return batch.create_job(session, "PE", admin.user_id).id

    return World(
        client=client,
        sessions=sessions,
        storage=storage,
        participant_self=participant_self,
        participant_other=factory.participant("PE"),
        coordinator_same=factory.coordinator("PE"),
        coordinator_other=factory.coordinator("CL"),
        admin=admin,
        certificate=certificate,
        job=job,
    )


@pytest.mark.parametrize(("method", "path", "role"), CASES,
                         ids=[f"{method} {path} {role}" for method, path, role in CASES])
def test_authorization(world: World, method: str, path: str, role: str) -> None:
    spec = MATRIX[(method, path)]
    assert set(spec.expected) == set(ROLES), "every route states a status for every caller"
    kwargs = spec.request(world, role)
    # a mistyped url would answer 404 for the wrong reason
    assert path_pattern(path).fullmatch(kwargs["url"]), (kwargs["url"], path)

    if spec.page:
        cookies = {**kwargs.pop("cookies", {}), **({} if role == "anonymous" else {COOKIE: getattr(world, role).token})}
        headers = {**kwargs.pop("headers", {}), "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    else:
        headers = world.headers(role)
    response = world.client.request(method, headers=headers, **kwargs)

    expected = spec.expected[role]
    assert response.status_code == expected, f"{role} {method} {kwargs['url']}: {response.text}"
    if spec.page:
        if expected == 303:
            assert response.headers["location"].startswith("/coordinacion")
        if expected >= 400:  # a page in Spanish, not the API's JSON
            assert response.headers["content-type"].startswith("text/html")
            assert 'lang="es"' in response.text
    elif expected >= 400:
        body = response.json()
        assert {"error", "detail"} <= body.keys(), body
        if expected == 401:
            assert response.headers.get("WWW-Authenticate") == "Bearer"
        if expected == 404:
            assert body["error"] == "not_found", body  # the same answer as for an object that does not exist


def app_routes(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(method, path) of every route the app serves, routers included at any depth."""
    # FastAPI ≥ 0.16x keeps included routers as nodes of app.routes; iter_route_contexts flattens them
    iterate = getattr(fastapi.routing, "iter_route_contexts", None)
    for entry in iterate(app.routes) if iterate else app.routes:
        route = getattr(entry, "original_route", entry)
        assert isinstance(route, APIRoute | Route), f"a route kind the matrix does not know: {route!r}"
        path = entry.path
        if path in DOCS_ROUTES:
            continue
        for method in sorted(set(entry.methods or ()) - {"HEAD", "OPTIONS"}):
            yield method, path


def test_every_route_is_in_the_matrix(app: FastAPI) -> None:
    routes = set(app_routes(app))
    assert ("GET", "/api/v1/enrolments/{enrolment_id}") in routes  # the walk reaches included routers
    assert ("GET", "/healthz") in routes
    assert routes - MATRIX.keys() == set(), "routes without an entry in the authorisation matrix"
    assert MATRIX.keys() - routes == set(), "matrix entries for routes the app does not serve"


def test_enrolment_lists_hold_only_what_the_caller_may_read(world: World, factory: Factory) -> None:
    chilean = factory.participant("CL")
    client = world.client

    def listing(actor: Actor, **params: str) -> dict[str, Any]:
        response = client.get("/api/v1/enrolments", headers=actor.headers, params={"limit": "200", **params})
        assert response.status_code == 200, response.text
        return response.json()

    own = listing(world.participant_self)
    assert [e["id"] for e in own["items"]] == [world.participant_self.enrolment_id]
    assert own["total"] == 1
    other = listing(world.participant_other)
    assert [e["id"] for e in other["items"]] == [world.participant_other.enrolment_id]
    # a participant's filter for another country finds nothing either
    assert listing(world.participant_self, country="CL") == {"items": [], "total": 0}

    peruvian_ids = {world.participant_self.enrolment_id, world.participant_other.enrolment_id}
    same = listing(world.coordinator_same)
    assert {e["country"] for e in same["items"]} == {"PE"}
    assert peruvian_ids <= {e["id"] for e in same["items"]}
    assert chilean.enrolment_id not in {e["id"] for e in same["items"]}

    foreign = listing(world.coordinator_other)
    assert all(e["country"] != "PE" for e in foreign["items"]), foreign
    assert chilean.enrolment_id in {e["id"] for e in foreign["items"]}
    assert listing(world.coordinator_other, country="PE") == {"items": [], "total": 0}

    everything = listing(world.admin)
    assert peruvian_ids | {chilean.enrolment_id} <= {e["id"] for e in everything["items"]}
