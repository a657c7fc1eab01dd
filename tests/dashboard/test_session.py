"""Logging in and out of the dashboard: the cookie, its CSRF protection, revocation, throttling."""

from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.dashboard.session import COOKIE, LOGIN_COOKIE, safe_next
from app.main import create_app
from tests.dashboard.conftest import SAME_ORIGIN, cookie, csrf, login_form
from tests.factories import Factory

API = "/api/v1"
PASSWORD = "clave-segura-123"


def set_cookies(response: object) -> dict[str, SimpleCookie]:
    found: dict[str, SimpleCookie] = {}
    for header in response.headers.get_list("set-cookie"):  # type: ignore[attr-defined]
        parsed: SimpleCookie = SimpleCookie()
        parsed.load(header)
        for name in parsed:
            found[name] = parsed
    return found


def log_in(client: TestClient, username: str, password: str = PASSWORD, **extra: str) -> object:
    token = login_form(client)
    return client.post("/coordinacion/entrar", data={"username": username, "password": password, "csrf": token,
                                                      **extra}, headers=SAME_ORIGIN, follow_redirects=False)


def test_logging_in_sets_a_session_cookie_that_scripts_and_other_sites_cannot_use(
        client: TestClient, factory: Factory) -> None:
    coordinator = factory.coordinator("PE")
    client.headers["Origin"] = "https://testserver"
    token = login_form(client)
    response = client.post("/coordinacion/entrar", follow_redirects=False, data={
        "username": coordinator.username, "password": PASSWORD, "csrf": token,
        "next": "/coordinacion/PE/participantes"})
    assert response.status_code == 303
    assert response.headers["location"] == "/coordinacion/PE/participantes"
    jar = set_cookies(response)[COOKIE][COOKIE]
    assert jar["httponly"] is True
    assert jar["secure"] is True  # outside development
    assert jar["samesite"].lower() == "lax"  # Strict would drop the session when she opens a link from WhatsApp
    assert jar["path"] == "/coordinacion"
    # the cookie is an ordinary access token: the API knows it (and revokes it the same way)
    assert client.get(f"{API}/me", headers={"Authorization": f"Bearer {jar.value}"}).json()["role"] == \
        "coordinator"
    page = client.get("/coordinacion/PE/participantes")
    assert page.status_code == 200
    assert "Participantes de Perú" in page.text


@pytest.fixture
def development_app(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[FastAPI]:
    app = create_app(settings.model_copy(update={"environment": "development"}))
    app.state.sessionmaker = sessions
    yield app
    app.state.engine.dispose()


def test_in_development_the_cookie_works_over_plain_http(development_app: FastAPI, factory: Factory) -> None:
    coordinator = factory.coordinator("PE")
    with TestClient(development_app, base_url="http://127.0.0.1:8000") as client:
        token = login_form(client)
        response = client.post("/coordinacion/entrar", headers={"Origin": "http://127.0.0.1:8000"}, data={
            "username": coordinator.username, "password": PASSWORD, "csrf": token}, follow_redirects=False)
        assert response.status_code == 303  # type: ignore[attr-defined]
        assert not set_cookies(response)[COOKIE][COOKIE]["secure"]


@pytest.mark.parametrize("username", ["wrong-password", "nadie@example.org"])
def test_a_failed_login_says_the_same_in_spanish_for_a_wrong_password_or_an_unknown_email(
        client: TestClient, factory: Factory, username: str) -> None:
    coordinator = factory.coordinator("PE")
    name = coordinator.username if username == "wrong-password" else username
    response = log_in(client, name, "no-es-la-clave")
    assert response.status_code == 401  # type: ignore[attr-defined]
    assert "El correo o la contraseña no son correctos." in response.text  # type: ignore[attr-defined]
    assert COOKIE not in set_cookies(response)
    assert f'value="{name}"' in response.text  # type: ignore[attr-defined]  # she does not type it again


def test_a_participant_gets_no_dashboard_session(client: TestClient, factory: Factory,
                                                 sessions: sessionmaker[Session]) -> None:
    woman = factory.participant("PE", email="rosa.panel@example.org")
    response = log_in(client, "rosa.panel@example.org")
    assert response.status_code == 403  # type: ignore[attr-defined]
    assert "Sin permiso" in response.text  # type: ignore[attr-defined]
    assert COOKIE not in set_cookies(response)
    # her own sessions elsewhere (the reader on her phone) go on
    assert client.get(f"{API}/me", headers=woman.headers).status_code == 200


def test_the_login_form_refuses_a_post_from_another_site_or_without_its_token(client: TestClient,
                                                                             factory: Factory) -> None:
    coordinator = factory.coordinator("PE")
    token = login_form(client)
    body = {"username": coordinator.username, "password": PASSWORD}
    for data, headers in [(body, SAME_ORIGIN), ({**body, "csrf": "x" * 32}, SAME_ORIGIN),
                          ({**body, "csrf": token}, {"Origin": "https://otro.example"}),
                          ({**body, "csrf": token}, {"Sec-Fetch-Site": "cross-site"})]:
        response = client.post("/coordinacion/entrar", data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 403
        assert COOKIE not in set_cookies(response)
    client.cookies.delete(LOGIN_COOKIE, path="/coordinacion")
    without_cookie = client.post("/coordinacion/entrar", data={**body, "csrf": token}, headers=SAME_ORIGIN)
    assert without_cookie.status_code == 403


@pytest.mark.parametrize("target", ["https://otro.example/coordinacion", "//otro.example/coordinacion",
                                    "/\\otro.example", "/api/v1/me", "javascript:alert(1)", "/coordinacionX",
                                    "https:/coordinacion"])
def test_after_login_she_never_goes_to_another_site(client: TestClient, factory: Factory, target: str) -> None:
    coordinator = factory.coordinator("PE")
    response = log_in(client, coordinator.username, next=target)
    assert response.headers["location"] == "/coordinacion"  # type: ignore[attr-defined]


def test_safe_next_keeps_dashboard_paths() -> None:
    assert safe_next("/coordinacion/PE/participantes?q=rosa") == "/coordinacion/PE/participantes?q=rosa"
    assert safe_next(None) == "/coordinacion"


def test_logging_out_revokes_the_session_so_a_copy_of_the_cookie_no_longer_works(
        client: TestClient, factory: Factory, settings: Settings) -> None:
    coordinator = factory.coordinator("PE")
    assert client.get("/coordinacion/PE", headers=cookie(coordinator)).status_code == 200
    # without the token (a link or a form on another site): she stays logged in
    refused = client.post("/coordinacion/salir", headers={**cookie(coordinator), **SAME_ORIGIN}, data={})
    assert refused.status_code == 403
    assert client.get("/coordinacion/PE", headers=cookie(coordinator)).status_code == 200
    response = client.post("/coordinacion/salir", headers={**cookie(coordinator), **SAME_ORIGIN},
                           data={"csrf": csrf(settings, coordinator)}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/coordinacion/entrar")
    cleared = set_cookies(response)[COOKIE][COOKIE]
    assert cleared.value == ""
    assert cleared["max-age"] == "0"
    again = client.get("/coordinacion/PE", headers=cookie(coordinator), follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, "/coordinacion/entrar?next=/coordinacion/PE")
    assert client.get(f"{API}/me", headers=coordinator.headers).status_code == 401


def test_a_deactivated_or_demoted_coordinator_is_refused_on_her_next_request(client: TestClient,
                                                                            factory: Factory) -> None:
    admin = factory.admin()
    deactivated, moved = factory.coordinator("PE"), factory.coordinator("PE")
    for actor in (deactivated, moved):
        assert client.get("/coordinacion/PE", headers=cookie(actor)).status_code == 200
    assert client.patch(f"{API}/users/{deactivated.user_id}", json={"active": False},
                        headers=admin.headers).status_code == 200
    moving = client.patch(f"{API}/users/{moved.user_id}", json={"country": "CL"}, headers=admin.headers)
    assert moving.status_code == 200
    for actor in (deactivated, moved):
        response = client.get("/coordinacion/PE", headers=cookie(actor), follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/coordinacion/entrar")


def test_login_is_throttled_as_the_apis(client: TestClient, factory: Factory, settings: Settings) -> None:
    coordinator = factory.coordinator("PE")
    for _ in range(settings.login_failures_per_account):
        assert log_in(client, coordinator.username, "no-es-la-clave").status_code == 401  # type: ignore[attr-defined]
    # now even the right password waits, and the API login counts the same attempts
    response = log_in(client, coordinator.username)
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert "Demasiados intentos. Intente de nuevo en 15 minutos." in response.text  # type: ignore[attr-defined]
    assert int(response.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    policy = response.headers["ratelimit-policy"]  # type: ignore[attr-defined]
    assert f'"account";q={settings.login_failures_per_account};w=900' in policy
    assert COOKIE not in set_cookies(response)
    api = client.post(f"{API}/auth/token", data={"username": coordinator.username, "password": PASSWORD})
    assert api.status_code == 429


