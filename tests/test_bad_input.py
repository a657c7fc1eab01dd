"""Bad bytes at the edge: a NUL character, a lone surrogate, a non-finite number or deep nesting in any input
(query string, path, form field, JSON body) is answered 422/400 in the API's error shape, never 500, and never
reaches the database. PostgreSQL refuses NUL in text and NaN in JSON; both databases fail on lone surrogates.
"""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Factory, application, message, row_counts

API = "/api/v1"
JSON = {"Content-Type": "application/json"}


def assert_invalid_field(response: Any, field: str, rule: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert {"field": field, "message": message(rule)} in body["fields"], body


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(("path", "field"), [
    ("/enrolments?q=Mar%00ia", "q"),
    ("/enrolments?region=%00", "region"),
    ("/audit?action=login%00", "action"),
    ("/consent/notice?version=%00", "version"),
])
def test_nul_in_a_query_string_is_invalid_input(client: TestClient, factory: Factory, path: str,
                                                field: str) -> None:
    admin = factory.admin()
    assert_invalid_field(client.get(f"{API}{path}", headers=admin.headers), field, "invalid_text")


def test_nul_in_a_path_parameter_is_invalid_input(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    response = client.patch(f"{API}/countries/P%00", json={"capacity": 50}, headers=admin.headers)
    assert_invalid_field(response, "code", "invalid_text")


@pytest.mark.parametrize(("username", "password", "field"), [
    ("maria\x00", "clave-segura-123", "username"),
    ("maria", "clave\x00segura", "password"),
])
def test_nul_in_the_login_form_is_invalid_input(client: TestClient, sessions: sessionmaker[Session],
                                                username: str, password: str, field: str) -> None:
    before = row_counts(sessions)
    response = client.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert_invalid_field(response, field, "invalid_text")
    assert row_counts(sessions) == before  # not even a failed attempt recorded with that name


@pytest.mark.parametrize(("raw_value", "rule"), [
    ('"Mar\\u0000ia"', "invalid_text"),
    ('"Mar\\ud800ia"', "invalid_text"),  # a lone surrogate: not encodable as UTF-8
    ('"\\udfff"', "invalid_text"),
])
def test_bad_text_in_an_application_is_invalid_input(client: TestClient, sessions: sessionmaker[Session],
                                                     raw_value: str, rule: str) -> None:
    body = application("PE")
    raw = json.dumps(body, ensure_ascii=False).replace('"María"', raw_value, 1)
    assert raw_value in raw
    before = row_counts(sessions)
    assert_invalid_field(client.post(f"{API}/applications", content=raw, headers=JSON), "first_name", rule)
    assert row_counts(sessions) == before


def test_bad_text_in_a_nested_field_is_named_by_its_path(client: TestClient) -> None:
    raw = json.dumps(application("PE")).replace('"DNI"', '"D\\u0000NI"', 1)
    assert_invalid_field(client.post(f"{API}/applications", content=raw, headers=JSON), "document.type",
                         "invalid_text")


def test_a_bad_key_is_refused_too(client: TestClient) -> None:
    raw = json.dumps(application("PE"))[:-1] + ', "x\\u0000": 1}'
    assert_invalid_field(client.post(f"{API}/applications", content=raw, headers=JSON), "x\ufffd", "invalid_text")


def test_nul_in_activation_is_invalid_input(client: TestClient) -> None:
    response = client.post(f"{API}/auth/activate", json={"code": "AB\x00CD", "password": "clave-segura-123"})
    assert_invalid_field(response, "code", "invalid_text")


@pytest.mark.parametrize("depth", [40, 5_000, 100_000])
def test_deeply_nested_json_is_bad_request(client: TestClient, sessions: sessionmaker[Session], depth: int) -> None:
    before = row_counts(sessions)
    raw = json.dumps(application("PE"))[:-1] + f', "locality": {nested(depth)}}}'
    response = client.post(f"{API}/applications", content=raw, headers=JSON)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "invalid_json", "detail": message("json_invalid")}
    assert row_counts(sessions) == before


def test_errors_speak_english_when_asked(client: TestClient, factory: Factory) -> None:
    admin = factory.admin()
    response = client.get(f"{API}/enrolments?q=%00", headers=admin.headers | {"Accept-Language": "en"})
    assert response.status_code == 422
    assert response.json()["fields"] == [{"field": "q", "message": message("invalid_text", "en")}]


def test_ordinary_text_passes(client: TestClient, factory: Factory) -> None:
    """Accents, emoji (a valid surrogate pair in JSON) and tabs are text like any other."""
    body = application("PE", locality="Porcón Alto \U0001f9f6\tbajo")
    raw = json.dumps(body)  # ensure_ascii: the emoji travels as "\ud83e\uddf6", a pair
    assert "\\ud83e\\uddf6" in raw
    response = client.post(f"{API}/applications", content=raw, headers=JSON)
    assert response.status_code == 201, response.text
    admin = factory.admin()
    assert client.get(f"{API}/enrolments?q=Quispe", headers=admin.headers).status_code == 200
