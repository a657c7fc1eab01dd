"""Bad input to the staff, country, activation and enrolment routes: 422 on the named field (never 500),
and nothing written."""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.core.i18n import MESSAGES
from app.models import Country, Enrolment, EnrolmentStatus, User
from tests.factories import Actor, Factory, application, message, row_counts

API = "/api/v1"


def assert_invalid(response: Any, field: str, rule: str | None = None) -> None:
    assert response.status_code == 422, response.text
    data = response.json()
    assert data["error"] == "invalid_input"
    assert data["detail"] == MESSAGES["invalid_input"]["es"]
    assert field in [f["field"] for f in data["fields"]], data["fields"]
    if rule is not None:
        assert {"field": field, "message": message(rule)} in data["fields"], data["fields"]


@pytest.fixture
def admin(factory: Factory) -> Actor:
    return factory.admin()


@pytest.fixture
def unchanged(client: Any, admin: Actor, sessions: sessionmaker[Session]) -> Iterator[None]:
    """Counted after the admin exists: the test's requests leave every table's row count as it was."""
    before = row_counts(sessions)
    yield
    assert row_counts(sessions) == before


def new_user(**overrides: Any) -> dict[str, Any]:
    body = {"email": "nueva.coordinadora@example.org", "password": "clave-segura-123",
            "full_name": "Rosa Mamani", "role": "coordinator", "country": "PE"}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not ...}


# --- POST /users ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field", "rule"), [
    pytest.param(new_user(email="rosa.example.org"), "email", "email", id="email-no-at"),
    pytest.param(new_user(email="rosa@"), "email", "email", id="email-no-domain"),
    pytest.param(new_user(email=...), "email", "missing", id="email-missing"),
    pytest.param(new_user(password="corta"), "password", "string_too_short", id="password-too-short"),
    pytest.param(new_user(password="x" * 129), "password", "string_too_long", id="password-too-long"),
    pytest.param(new_user(password=...), "password", "missing", id="password-missing"),
    pytest.param(new_user(full_name="   "), "full_name", "blank", id="full_name-blank"),
    pytest.param(new_user(full_name="R" * 201), "full_name", "string_too_long", id="full_name-too-long"),
    pytest.param(new_user(role="participant"), "role", "literal_error", id="role-participant"),
    pytest.param(new_user(role="superadmin"), "role", "literal_error", id="role-unknown"),
    pytest.param(new_user(role=...), "role", "missing", id="role-missing"),
    pytest.param(new_user(country=...), "country", "coordinator_needs_country", id="coordinator-no-country"),
    pytest.param(new_user(country=None), "country", "coordinator_needs_country",
                 id="coordinator-country-null"),
    pytest.param(new_user(country="AR"), "country", "literal_error", id="country-not-participating"),
    pytest.param(new_user(country="pe"), "country", "literal_error", id="country-lowercase"),
    pytest.param(new_user(role="admin"), "country", "admin_has_no_country", id="admin-with-country"),
    pytest.param(new_user(is_superuser=True), "is_superuser", "extra_forbidden", id="unknown-field"),
    pytest.param(new_user(active=False), "active", "extra_forbidden", id="active-not-settable-on-create"),
])
@pytest.mark.usefixtures("unchanged")
def test_create_user_bad_input(client, admin, body, field, rule):
    response = client.post(f"{API}/users", json=body, headers=admin.headers)

    assert_invalid(response, field, rule)


@pytest.mark.usefixtures("unchanged")
def test_create_user_body_not_an_object(client, admin):
    response = client.post(f"{API}/users", json=[new_user()], headers=admin.headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"


# --- PATCH /users/{id} ----------------------------------------------------------------------------------

@pytest.fixture
def coordinator(factory: Factory) -> Actor:
    return factory.coordinator("CL")


@pytest.mark.parametrize(("body", "field", "rule"), [
    pytest.param({"role": "participant"}, "role", "literal_error", id="role-participant"),
    pytest.param({"role": "root"}, "role", "literal_error", id="role-unknown"),
    pytest.param({"country": "AR"}, "country", "literal_error", id="country-not-participating"),
    pytest.param({"country": None}, "country", "coordinator_needs_country", id="coordinator-country-null"),
    pytest.param({"role": "admin", "country": "PE"}, "country", "admin_has_no_country",
                 id="admin-with-country"),
    pytest.param({"active": "quizás"}, "active", "bool_parsing", id="active-not-boolean"),
    pytest.param({"full_name": "  "}, "full_name", "blank", id="full_name-blank"),
    pytest.param({"full_name": ""}, "full_name", "string_too_short", id="full_name-empty"),
    pytest.param({"email": "otra@example.org"}, "email", "extra_forbidden", id="email-not-patchable"),
    pytest.param({"password": "clave-segura-456"}, "password", "extra_forbidden",
                 id="password-not-patchable"),
])
def test_update_user_bad_input(client, sessions, admin, coordinator, body, field, rule):
    before = row_counts(sessions)

    response = client.patch(f"{API}/users/{coordinator.user_id}", json=body, headers=admin.headers)

    assert_invalid(response, field, rule)
    assert row_counts(sessions) == before
    with sessions() as session:
        user = session.get_one(User, coordinator.user_id)
        assert (user.role.value, user.country_code, user.active) == ("coordinator", "CL", True)
    assert client.get(f"{API}/me", headers=coordinator.headers).status_code == 200  # tokens not revoked


def test_update_participant_role_is_refused(client, sessions, factory, admin):
    participant = factory.participant("PE")
    before = row_counts(sessions)

    response = client.patch(f"{API}/users/{participant.user_id}", json={"role": "coordinator"},
                            headers=admin.headers)

    assert_invalid(response, "role", "cannot_change_participant_role")
    assert row_counts(sessions) == before


@pytest.mark.parametrize(("user_id", "status"), [
    pytest.param("abc", 422, id="not-a-number"),
    pytest.param("0", 422, id="zero"),
    pytest.param("-1", 422, id="negative"),
    pytest.param("99999999999", 422, id="beyond-int32"),
    pytest.param("1.5", 422, id="decimal"),
    pytest.param("2147483647", 404, id="max-id-not-found"),
])
@pytest.mark.usefixtures("unchanged")
def test_update_user_bad_id(client, admin, user_id, status):
    response = client.patch(f"{API}/users/{user_id}", json={"full_name": "Rosa"}, headers=admin.headers)

    assert response.status_code == status, response.text
    if status == 422:
        assert_invalid(response, "user_id")


# --- PATCH /countries/{code} ----------------------------------------------------------------------------

def country_state(sessions: sessionmaker[Session], code: str) -> tuple[int, list[str]]:
    with sessions() as session:
        country = session.get_one(Country, code)
        return country.capacity, list(country.eligible_regions)


@pytest.mark.parametrize(("code", "body", "field", "rule"), [
    pytest.param("PE", {"capacity": -1}, "capacity", "greater_than_equal", id="capacity-negative"),
    pytest.param("PE", {"capacity": "abc"}, "capacity", "int_parsing", id="capacity-text"),
    pytest.param("PE", {"capacity": 2.5}, "capacity", None, id="capacity-fraction"),
    pytest.param("PE", {"capacity": 10_001}, "capacity", "less_than_equal", id="capacity-too-large"),
    pytest.param("PE", {"eligible_regions": ["Cajamarca", "Oaxaca"]}, "eligible_regions", "eligible_regions",
                 id="eligible_regions-Mexican-region-for-PE"),
    pytest.param("CL", {"eligible_regions": ["Lima"]}, "eligible_regions", "eligible_regions",
                 id="eligible_regions-Peruvian-region-for-CL"),
    pytest.param("PE", {"eligible_regions": "Cajamarca"}, "eligible_regions", "list_type",
                 id="eligible_regions-not-a-list"),
    pytest.param("PE", {"eligible_regions": [""]}, "eligible_regions.0", "string_too_short",
                 id="eligible_regions-empty-name"),
    pytest.param("PE", {"name": "Perú"}, "name", "extra_forbidden", id="unknown-field-name"),
    pytest.param("PE", {"enrolled": 0}, "enrolled", "extra_forbidden", id="unknown-field-enrolled"),
    pytest.param("PER", {"capacity": 10}, "code", "string_too_long", id="code-three-letters"),
])
@pytest.mark.usefixtures("unchanged")
def test_update_country_bad_input(client, sessions, admin, code, body, field, rule):
    state = country_state(sessions, code[:2])

    response = client.patch(f"{API}/countries/{code}", json=body, headers=admin.headers)

    assert_invalid(response, field, rule)
    assert country_state(sessions, code[:2]) == state


# --- POST /auth/activate --------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "field", "rule"), [
    pytest.param({"code": "ABCD-EFGH", "password": "corta"}, "password", "string_too_short",
                 id="password-too-short"),
    pytest.param({"code": "ABCD-EFGH", "password": "x" * 129}, "password", "string_too_long",
                 id="password-too-long"),
    pytest.param({"code": "ABCD-EFGH"}, "password", "missing", id="password-missing"),
    pytest.param({"code": "", "password": "clave-segura-123"}, "code", "string_too_short", id="code-empty"),
    pytest.param({"code": "A" * 41, "password": "clave-segura-123"}, "code", "string_too_long",
                 id="code-too-long"),
    pytest.param({"code": "ABCD-EFGH", "password": "clave-segura-123", "username": "x"}, "username",
                 "extra_forbidden", id="unknown-field"),
])
@pytest.mark.usefixtures("unchanged")
def test_activate_bad_input(client, body, field, rule):
    response = client.post(f"{API}/auth/activate", json=body)

    assert_invalid(response, field, rule)


def test_activate_short_password_keeps_the_code_usable(client, sessions, factory, admin):
    """A real code with a too-short password: refused before the code is touched."""
    registered = client.post(f"{API}/applications", json=application("PE", self_service=False),
                             headers=admin.headers)
    assert registered.status_code == 201, registered.text
    code = registered.json()["activation_code"]
    before = row_counts(sessions)

    response = client.post(f"{API}/auth/activate", json={"code": code, "password": "1234567"})

    assert_invalid(response, "password", "string_too_short")
    assert row_counts(sessions) == before
    ok = client.post(f"{API}/auth/activate", json={"code": code, "password": "clave-segura-123"})
    assert ok.status_code == 200, ok.text


# --- GET /enrolments ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("query", "field", "rule"), [
    pytest.param("limit=0", "limit", "greater_than_equal", id="limit-0"),
    pytest.param("limit=201", "limit", "less_than_equal", id="limit-201"),
    pytest.param("limit=-5", "limit", "greater_than_equal", id="limit-negative"),
    pytest.param("limit=abc", "limit", "int_parsing", id="limit-text"),
    pytest.param("limit=99999999999999999999", "limit", "less_than_equal", id="limit-huge"),
    pytest.param("offset=-1", "offset", "greater_than_equal", id="offset-negative"),
    pytest.param("offset=abc", "offset", "int_parsing", id="offset-text"),
    pytest.param("offset=99999999999999999999", "offset", "less_than_equal", id="offset-huge"),
    pytest.param("status=approved", "status", "enum", id="status-unknown"),
    pytest.param("country=PER", "country", "string_too_long", id="country-three-letters"),
    pytest.param("q=" + "a" * 101, "q", "string_too_long", id="q-too-long"),
])
@pytest.mark.usefixtures("unchanged")
def test_list_enrolments_bad_query(client, admin, query, field, rule):
    response = client.get(f"{API}/enrolments?{query}", headers=admin.headers)

    assert_invalid(response, field, rule)


@pytest.mark.parametrize("query", ["limit=1", "limit=200", "offset=0"])
@pytest.mark.usefixtures("unchanged")
def test_list_enrolments_limits_accepted(client, admin, query):
    response = client.get(f"{API}/enrolments?{query}", headers=admin.headers)

    assert response.status_code == 200, response.text


# --- GET /enrolments/{id} and withdraw ------------------------------------------------------------------

@pytest.mark.parametrize("enrolment_id", [
    pytest.param("abc", id="not-a-number"),
    pytest.param("99999999999", id="beyond-int32"),
    pytest.param("0", id="zero"),
    pytest.param("-3", id="negative"),
    pytest.param("1e3", id="exponent"),
])
@pytest.mark.usefixtures("unchanged")
def test_get_enrolment_bad_id(client, admin, enrolment_id):
    response = client.get(f"{API}/enrolments/{enrolment_id}", headers=admin.headers)

    assert_invalid(response, "enrolment_id")


@pytest.mark.usefixtures("unchanged")
def test_get_enrolment_largest_id_is_not_found(client, admin):
    response = client.get(f"{API}/enrolments/2147483647", headers=admin.headers)

    assert response.status_code == 404, response.text


@pytest.mark.parametrize(("body", "field", "rule"), [
    pytest.param({"reason": ""}, "reason", "string_too_short", id="reason-empty"),
    pytest.param({"reason": "   "}, "reason", "blank", id="reason-whitespace"),
    pytest.param({"reason": "x" * 1001}, "reason", "string_too_long", id="reason-too-long"),
    pytest.param({}, "reason", "missing", id="reason-missing"),
    pytest.param({"reason": 7}, "reason", "string_type", id="reason-not-text"),
    pytest.param({"reason": "se mudó", "status": "enrolled"}, "status", "extra_forbidden",
                 id="unknown-field"),
])
def test_withdraw_bad_input(client, sessions, factory, admin, body, field, rule):
    participant = factory.participant("PE")
    before = row_counts(sessions)

    response = client.post(f"{API}/enrolments/{participant.enrolment_id}/withdraw", json=body,
                           headers=admin.headers)

    assert_invalid(response, field, rule)
    assert row_counts(sessions) == before
    with sessions() as session:
        assert session.get_one(Enrolment, participant.enrolment_id).status is EnrolmentStatus.ENROLLED


@pytest.mark.parametrize("enrolment_id", ["abc", "99999999999"])
@pytest.mark.usefixtures("unchanged")
def test_withdraw_bad_id(client, admin, enrolment_id):
    response = client.post(f"{API}/enrolments/{enrolment_id}/withdraw", json={"reason": "se mudó"},
                           headers=admin.headers)

    assert_invalid(response, "enrolment_id")


@pytest.mark.usefixtures("unchanged")
def test_english_messages(client, admin):
    response = client.post(f"{API}/users", json=new_user(role="admin"),
                           headers={**admin.headers, "Accept-Language": "en"})

    assert response.status_code == 422, response.text
    assert response.json()["detail"] == MESSAGES["invalid_input"]["en"]
    assert response.json()["fields"] == [
        {"field": "country", "message": message("admin_has_no_country", "en")}]
