"""Cross-cutting behaviour: configuration safety, request ids, languages, unknown paths."""

import pytest
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.config import Settings
from app.core.db import make_engine
from app.core.i18n import parse_locale


@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_the_placeholder_secret_is_refused(environment):
    with pytest.raises(ValidationError, match="CAMINOS_SECRET_KEY"):
        Settings(environment=environment, _env_file=None)  # type: ignore[call-arg]
    assert Settings(environment=environment, secret_key="s3cr3t-de-verdad", _env_file=None)  # type: ignore[call-arg]
    assert Settings(environment="development", _env_file=None)  # type: ignore[call-arg]


def test_a_failed_statement_never_logs_its_parameters(database_url):
    """The log of a failed insert once printed a woman's name, birth date, phone and DNI."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn, pytest.raises(DBAPIError) as failure:
            conn.execute(text("SELECT no_such_column FROM participant WHERE first_name = :name"),
                         {"name": "Ch'aska Huamán 40123456"})
    finally:
        engine.dispose()
    assert "40123456" not in str(failure.value)
    assert "hidden" in str(failure.value)


def test_every_response_carries_a_request_id(client):
    generated = client.get("/healthz")
    assert len(generated.headers["X-Request-ID"]) >= 16
    echoed = client.get("/healthz", headers={"X-Request-ID": "movil-cajamarca-0001"})
    assert echoed.headers["X-Request-ID"] == "movil-cajamarca-0001"
    # a header that could forge log lines is replaced, not echoed
    forged = client.get("/healthz", headers={"X-Request-ID": "x\" , \"level\": \"error"})
    assert forged.headers["X-Request-ID"] != "x\" , \"level\": \"error"


@pytest.mark.parametrize(("header", "locale"), [
    (None, "es"), ("en", "en"), ("en-US,en;q=0.9", "en"), ("es-PE,es;q=0.9,en;q=0.8", "es"),
    ("qu,en;q=0.5", "en"), ("qu", "es"), ("fr;q=0.9,en;q=0.2,es;q=0.5", "es"), ("en;q=bad", "es"),
])
def test_language_follows_accept_language_with_spanish_by_default(header, locale):
    assert parse_locale(header) == locale


def test_unknown_paths_answer_404_in_the_api_shape(client):
    response = client.get("/api/v1/no-existe", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert response.json() == {"error": "not_found", "detail": "Not found."}


def test_readyz_answers_when_the_database_does(client):
    assert client.get("/readyz").json() == {"status": "ok"}


@pytest.mark.parametrize("url", ["postgresql+psycopg://postgres@127.0.0.1:1/nadie",
                                 "sqlite:////nonexistent-folder/caminos.db"], ids=["postgresql", "sqlite"])
def test_a_database_that_does_not_answer_gives_503_with_a_time_to_retry(url):
    """A PostgreSQL with no connection slots left once gave 500s in the middle of a burst of applications."""
    from fastapi.testclient import TestClient

    from app.main import create_app
    from tests.conftest import make_test_settings

    app = create_app(make_test_settings(url))
    with TestClient(app, base_url="https://testserver") as client:
        for response in (client.get("/api/v1/countries"),
                         client.post("/api/v1/auth/token", data={"username": "ana@example.org", "password": "x"})):
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
            assert response.json() == {"error": "unavailable", "detail": (
                "El servicio está muy ocupado en este momento. Intente de nuevo en unos segundos.")}
        page = client.post("/coordinacion/entrar", data={"username": "ana@example.org", "password": "x"})
        assert page.status_code in (403, 503)  # the login form's CSRF check may refuse first; never a 500
        assert page.headers["content-type"].startswith("text/html")
