"""What a browser or a generated client notices of the HTTP layer: CORS, media types, languages, UTF-8 query strings,
throttling it can act on."""

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import DEVELOPMENT_CORS_ORIGINS, Settings
from app.core.errors import Throttled
from app.core.i18n import EVENT_REASONS, wait_text
from app.main import create_app
from tests.factories import Factory, application

API = "/api/v1"
WEBSITE = "https://alianzapacifico.net"


@pytest.fixture
def cors_client(settings: Settings, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    app: FastAPI = create_app(settings.model_copy(update={"cors_origins": [WEBSITE]}))
    app.state.sessionmaker = sessions
    with TestClient(app) as client:
        yield client
    app.state.engine.dispose()


def preflight(client: TestClient, origin: str, method: str = "POST",
              headers: str = "authorization,content-type,idempotency-key") -> dict[str, str]:
    response = client.options(f"{API}/applications", headers={
        "Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers})
    return {"status": str(response.status_code), **response.headers}


# --- CORS ------------------------------------------------------------------------------------------------

def test_preflight_from_the_website_is_allowed(cors_client: TestClient) -> None:
    answer = preflight(cors_client, WEBSITE)
    assert answer["status"] == "200"
    assert answer["access-control-allow-origin"] == WEBSITE
    assert {"authorization", "content-type", "idempotency-key", "accept-language"} <= {
        h.strip().lower() for h in answer["access-control-allow-headers"].split(",")}
    assert "POST" in answer["access-control-allow-methods"]
    assert "access-control-allow-credentials" not in answer  # bearer tokens: no credentials mode


def test_answers_to_the_website_expose_what_a_client_reads(cors_client: TestClient) -> None:
    response = cors_client.get(f"{API}/countries", headers={"Origin": WEBSITE})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == WEBSITE
    exposed = {h.strip().lower() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"retry-after", "x-request-id", "etag", "content-range", "ratelimit", "ratelimit-policy"} <= exposed
    assert "origin" in response.headers["vary"].lower()
    # an error answer too: the page must be able to read the JSON body of a 401
    denied = cors_client.get(f"{API}/me", headers={"Origin": WEBSITE})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == WEBSITE


def test_other_origins_get_no_cors_headers(cors_client: TestClient) -> None:
    assert preflight(cors_client, "https://evil.example")["status"] == "400"
    response = cors_client.get(f"{API}/countries", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in response.headers
    assert preflight(cors_client, "null")["status"] == "400"


def test_cors_origins_default_by_environment() -> None:
    assert Settings(environment="development").allowed_origins == list(DEVELOPMENT_CORS_ORIGINS)
    assert Settings(environment="production", secret_key="s" * 40).allowed_origins == []
    assert Settings(environment="test", secret_key="una-clave-de-verdad").allowed_origins == []


def test_cors_origins_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAMINOS_CORS_ORIGINS", "https://alianzapacifico.net, https://www.alianzapacifico.net")
    assert Settings().allowed_origins == ["https://alianzapacifico.net", "https://www.alianzapacifico.net"]
    monkeypatch.setenv("CAMINOS_CORS_ORIGINS", '["https://alianzapacifico.net"]')
    assert Settings().allowed_origins == ["https://alianzapacifico.net"]
    monkeypatch.setenv("CAMINOS_CORS_ORIGINS", "")
    assert Settings(environment="development").allowed_origins == []  # set but empty: none


@pytest.mark.parametrize("origins", ["*", "null", "https://a.org,*", "https://alianzapacifico.net/",
                                     "alianzapacifico.net", "https://a.org/path"])
def test_wildcard_null_and_non_origins_are_refused_at_start_up(monkeypatch: pytest.MonkeyPatch,
                                                               origins: str) -> None:
    monkeypatch.setenv("CAMINOS_CORS_ORIGINS", origins)
    with pytest.raises(ValidationError, match="CAMINOS_CORS_ORIGINS"):
        Settings()


# --- media types, bad JSON, languages ---------------------------------------------------------------------

def test_a_body_that_is_not_json_is_415(client: TestClient) -> None:
    response = client.post(f"{API}/applications", content=b"first_name=Maria",
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 415
    assert response.json()["error"] == "unsupported_media_type"
    response = client.post(f"{API}/progress/events", content=b'{"events": []}', headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    # the login form is a form: JSON there is the wrong type too
    response = client.post(f"{API}/auth/token", json={"username": "a", "password": "b"})
    assert response.status_code == 415


def test_json_that_does_not_parse_is_400_in_the_error_shape(client: TestClient) -> None:
    for path in ("/applications", "/auth/activate"):
        response = client.post(f"{API}{path}", content=b'{"first_name": ', headers={
            "Content-Type": "application/json", "Accept-Language": "en"})
        assert response.status_code == 400, path
        assert response.json() == {"error": "invalid_json", "detail": "The body is not valid JSON."}
        assert response.headers["content-language"] == "en"


def test_localised_answers_say_their_language(client: TestClient) -> None:
    spanish = client.get(f"{API}/me")
    assert spanish.headers["content-language"] == "es"
    assert "accept-language" in spanish.headers["vary"].lower()
    english = client.get(f"{API}/me", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.headers["content-language"] == "en"
    assert english.json()["detail"] == "You must log in."


def raw_get(app: FastAPI, path: str, query: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    """A GET whose query string bytes reach the app exactly as given (an HTTP client would percent-encode them),
    the way curl and some phone libraries send them."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "method": "GET", "path": path, "raw_path": path.encode(),
             "query_string": query, "http_version": "1.1", "scheme": "http", "server": ("test", 80),
             "client": ("127.0.0.1", 1), "root_path": "", "state": {},
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    anyio.run(app, scope, receive, send)
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return sent[0]["status"], json.loads(body)


def test_raw_utf8_in_a_query_string_is_read_as_utf8(client: TestClient, app: FastAPI, factory: Factory) -> None:
    admin = factory.admin()
    factory.participant("PE", region="Apurímac")
    status, body = raw_get(app, f"{API}/enrolments", "region=Apurímac".encode(), admin.headers)
    encoded = client.get(f"{API}/enrolments", params={"region": "Apurímac"}, headers=admin.headers)
    assert status == 200, body
    assert body["total"] == encoded.json()["total"] >= 1


def test_a_query_string_that_is_not_utf8_is_400(client: TestClient, app: FastAPI) -> None:
    status, body = raw_get(app, f"{API}/countries", b"q=\xff\xfe", {"Accept-Language": "en"})
    assert status == 400
    assert body == {"error": "invalid_query_string", "detail": "The address holds characters that are not UTF-8."}


def test_event_reasons_come_with_a_localised_detail(client: TestClient, factory: Factory) -> None:
    learner = factory.participant("PE")
    event = {"event_id": "6b0f1c1e-0000-4000-8000-000000000001", "type": "lesson_viewed", "module": "nope",
             "lesson": "x", "occurred_at": "2026-01-01T10:00:00Z", "payload": {"seconds": 5}}
    for language, locale in (("es", "es"), ("en", "en")):
        response = client.post(f"{API}/progress/events", json={"events": [event, {"type": "??"}]},
                               headers={**learner.headers, "Accept-Language": language})
        assert response.status_code == 200, response.text
        assert response.headers["content-language"] == locale
        first, second = response.json()["results"]
        assert (first["reason"], first["detail"]) == ("unknown_module", EVENT_REASONS["unknown_module"][locale])
        assert second["detail"] == EVENT_REASONS[second["reason"]][locale]


def test_every_event_reason_is_worded_in_both_languages() -> None:
    assert all(set(text) == {"es", "en"} and all(text.values()) for text in EVENT_REASONS.values())


# --- throttling ------------------------------------------------------------------------------------------

def test_a_429_says_how_long_to_wait_and_states_the_quota(client: TestClient, factory: Factory) -> None:
    coordinator = factory.coordinator()
    for _ in range(5):
        client.post(f"{API}/auth/token", data={"username": coordinator.username, "password": "mala"})
    response = client.post(f"{API}/auth/token", data={"username": coordinator.username, "password": "mala"})
    assert response.status_code == 429
    assert response.json()["detail"] == "Demasiados intentos. Intente de nuevo en 15 minutos."
    assert response.headers["ratelimit"] == f'"account";r=0;t={response.headers["retry-after"]}'
    assert response.headers["ratelimit-policy"] == (
        '"account";q=5;w=900, "account_total";q=100;w=900, "address";q=20;w=900')


def test_throttled_routes_state_their_quota_before_it_is_hit(client: TestClient) -> None:
    response = client.post(f"{API}/applications", json=application("PE"))
    assert response.status_code == 201, response.text
    assert response.headers["ratelimit-policy"] == '"address";q=100000;w=3600'
    assert "ratelimit-policy" not in client.get(f"{API}/countries").headers


def test_throttled_takes_the_limit_and_window() -> None:
    error = Throttled(61, limit=5, window_seconds=900, policy="login")
    assert error.headers == {"Retry-After": "61", "RateLimit": '"login";r=0;t=61',
                             "RateLimit-Policy": '"login";q=5;w=900'}


@pytest.mark.parametrize(("seconds", "spanish", "english"), [
    (1, "1 segundo", "1 second"), (45, "45 segundos", "45 seconds"), (60, "1 minuto", "1 minute"),
    (61, "2 minutos", "2 minutes"), (900, "15 minutos", "15 minutes"), (3 * 3600, "3 horas", "3 hours"),
])
def test_waits_are_worded_for_people(seconds: int, spanish: str, english: str) -> None:
    assert wait_text(seconds, "es") == f"Demasiados intentos. Intente de nuevo en {spanish}."
    assert wait_text(seconds, "en") == f"Too many attempts. Try again in {english}."
