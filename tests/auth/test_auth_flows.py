"""Logging in and out, tokens, throttling, activation codes, staff accounts and the audit trail, as a user sees
them: each test goes through the HTTP API and checks what she would notice (a 401, a 429, who she is on /me).

The database is touched directly only to move time (an expired token or code, an old throttling window), to
change a coordinator's country behind the API's back, and to check that no secret is stored in clear.
"""

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from app.auth import service as auth_service
from app.core.base import utcnow
from app.core.i18n import MESSAGES
from app.models import AccessToken, ActivationCode, AuditEntry, Participant, Role, ThrottleHit, User
from tests.factories import Actor, Factory, application, login

API = "/api/v1"
PASSWORD = "clave-segura-123"  # the factories' password
NEW_PASSWORD = "otra-clave-789"


# --- helpers --------------------------------------------------------------------------------------------

def token_response(client: TestClient, username: str, password: str) -> Any:
    return client.post(f"{API}/auth/token", data={"username": username, "password": password})


def me(client: TestClient, headers: dict[str, str]) -> Any:
    return client.get(f"{API}/me", headers=headers)


def assert_unauthenticated(response: Any) -> None:
    assert response.status_code == 401, response.text
    assert response.headers.get("www-authenticate") == "Bearer"


def assert_throttled(response: Any) -> None:
    assert response.status_code == 429, response.text
    assert response.json()["error"] == "throttled"
    assert int(response.headers["retry-after"]) > 0


def fail_logins(client: TestClient, username: str, times: int) -> None:
    for _ in range(times):
        response = token_response(client, username, "no-es-la-clave")
        assert response.status_code == 401, response.text


def self_apply(client: TestClient, country: str = "PE", **overrides: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    body = application(country, **overrides)
    response = client.post(f"{API}/applications", json=body)
    assert response.status_code == 201, response.text
    return body, response.json()


def participant_code(client: TestClient, body: dict[str, Any], applied: dict[str, Any]) -> str:
    """A self-applicant's username is her email; she may also log in with her participant code."""
    headers = login(client, body["email"], body["password"])
    response = client.get(f"{API}/enrolments/{applied['enrolment_id']}", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["participant_code"])


def register(client: TestClient, staff: Actor, country: str = "PE") -> dict[str, Any]:
    """A woman registered by staff, without email or password: the answer carries her activation code."""
    response = client.post(f"{API}/applications", json=application(country, self_service=False),
                           headers=staff.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def activate(client: TestClient, code: str, password: str = NEW_PASSWORD) -> Any:
    return client.post(f"{API}/auth/activate", json={"code": code, "password": password})


def age_throttle_hits(sessions: sessionmaker[Session], minutes: int) -> None:
    with sessions() as session, session.begin():
        for hit in session.scalars(select(ThrottleHit)):
            hit.at = hit.at - timedelta(minutes=minutes)


def country(client: TestClient, code: str) -> dict[str, Any]:
    return next(c for c in client.get(f"{API}/countries").json() if c["code"] == code)


def enrolment_ids(client: TestClient, headers: dict[str, str]) -> set[int]:
    response = client.get(f"{API}/enrolments?limit=200", headers=headers)
    assert response.status_code == 200, response.text
    return {item["id"] for item in response.json()["items"]}


def audit(client: TestClient, admin: Actor, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit?limit=200&{query}", headers=admin.headers)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["total"] == len(data["items"])  # everything fits on one page in these tests
    return list(data["items"])


@pytest.fixture
def admin(factory: Factory) -> Actor:
    return factory.admin()


@pytest.fixture
def coordinator(factory: Factory) -> Actor:
    return factory.coordinator("PE")


# --- logging in -----------------------------------------------------------------------------------------

def test_login_with_email_in_any_case(client):
    body, _ = self_apply(client, email="Rosa.Quispe@Example.org")

    for username in ("rosa.quispe@example.org", "ROSA.QUISPE@EXAMPLE.ORG", " Rosa.Quispe@Example.org "):
        response = token_response(client, username, body["password"])
        assert response.status_code == 200, (username, response.text)
        token = response.json()
        assert token["token_type"] == "bearer"
        assert token["expires_in"] > 0
        data = me(client, {"Authorization": f"Bearer {token['access_token']}"}).json()
        assert data["username"] == "rosa.quispe@example.org"


def test_login_with_participant_code_in_any_case(client):
    body, applied = self_apply(client)
    code = participant_code(client, body, applied)
    assert re.fullmatch(r"PE-\d{4}", code), code

    for username in (code, code.lower()):
        headers = login(client, username, body["password"])
        assert me(client, headers).json()["participant_id"] == applied["participant_id"]


def test_login_wrong_password_and_unknown_user_look_the_same(client, coordinator):
    wrong = token_response(client, coordinator.username, "no-es-la-clave")
    unknown = token_response(client, "nadie@example.org", PASSWORD)

    assert_unauthenticated(wrong)
    assert_unauthenticated(unknown)
    assert wrong.json() == unknown.json() == {
        "error": "invalid_credentials", "detail": MESSAGES["invalid_credentials"]["es"],
    }
    assert "access_token" not in wrong.text


@pytest.mark.parametrize("username", [
    pytest.param("a" * 300 + "@example.org", id="very-long"),
    pytest.param("pe-9999", id="unused-participant-code"),
    pytest.param("ñandú@ejemplo.pe", id="non-ascii"),
])
def test_unknown_usernames_are_401_and_counted(client, username):
    for _ in range(5):
        assert_unauthenticated(token_response(client, username, PASSWORD))

    assert_throttled(token_response(client, username, PASSWORD))


def test_token_from_login_works_on_me(client, coordinator):
    headers = login(client, coordinator.username, PASSWORD)

    response = me(client, headers)

    assert response.status_code == 200, response.text
    data = response.json()
    assert data["id"] == coordinator.user_id
    assert (data["role"], data["country"], data["enrolment"]) == ("coordinator", "PE", None)
    assert data["full_name"].startswith("Staff ")
    assert data["locale"] == "es"


def test_me_without_or_with_a_bad_token_is_401(client):
    assert_unauthenticated(client.get(f"{API}/me"))
    assert_unauthenticated(me(client, {"Authorization": "Bearer no-es-un-token"}))


def test_me_of_an_admin_has_no_country(client, admin):
    data = me(client, admin.headers).json()

    assert (data["role"], data["country"], data["enrolment"]) == ("admin", None, None)


def test_me_of_an_enrolled_participant(client, factory):
    participant = factory.participant("PE", first_name="Juana", last_name="Huamán Ccori")

    data = me(client, participant.headers).json()

    assert data["id"] == participant.user_id
    assert data["username"] == participant.username
    assert (data["role"], data["country"], data["full_name"]) == ("participant", "PE", "Juana Huamán Ccori")
    assert data["enrolment"] == {"id": participant.enrolment_id, "status": "enrolled", "waitlist_position": None}


def test_me_of_a_waitlisted_participant_shows_her_position(client, factory, admin):
    co = country(client, "CO")
    response = client.patch(f"{API}/countries/CO", json={"capacity": co["enrolled"]}, headers=admin.headers)
    assert response.status_code == 200, response.text

    first = factory.participant("CO")
    second = factory.participant("CO")

    data = me(client, second.headers).json()
    assert data["country"] == "CO"
    assert data["enrolment"] == {"id": second.enrolment_id, "status": "waitlisted",
                                 "waitlist_position": co["waitlisted"] + 2}
    assert me(client, first.headers).json()["enrolment"]["waitlist_position"] == co["waitlisted"] + 1

    # a seat freed: the first in line is promoted, and sees it
    client.patch(f"{API}/countries/CO", json={"capacity": co["enrolled"] + co["waitlisted"] + 1},
                 headers=admin.headers)
    assert me(client, first.headers).json()["enrolment"]["status"] == "enrolled"


def test_expired_token_is_401(client, sessions, coordinator):
    assert me(client, coordinator.headers).status_code == 200
    with sessions() as session, session.begin():
        session.execute(update(AccessToken).where(AccessToken.user_id == coordinator.user_id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))

    assert_unauthenticated(me(client, coordinator.headers))
    assert me(client, login(client, coordinator.username, PASSWORD)).status_code == 200  # a new one works


def test_logout_revokes_only_that_token(client, coordinator):
    other = login(client, coordinator.username, PASSWORD)

    response = client.post(f"{API}/auth/logout", headers=coordinator.headers)

    assert response.status_code == 204, response.text
    assert_unauthenticated(me(client, coordinator.headers))
    assert_unauthenticated(client.post(f"{API}/auth/logout", headers=coordinator.headers))
    assert me(client, other).status_code == 200


# --- throttling -----------------------------------------------------------------------------------------

def test_five_failures_lock_the_account_even_for_the_right_password(client, coordinator):
    fail_logins(client, coordinator.username, 5)

    response = token_response(client, coordinator.username, PASSWORD)

    assert_throttled(response)
    assert int(response.headers["retry-after"]) <= 15 * 60 + 1
    assert me(client, coordinator.headers).status_code == 200  # tokens she already holds keep working


def test_four_failures_do_not_lock_the_account(client, coordinator):
    fail_logins(client, coordinator.username, 4)

    assert token_response(client, coordinator.username, PASSWORD).status_code == 200


def test_account_lock_ignores_the_case_of_the_username(client, coordinator):
    fail_logins(client, coordinator.username.upper(), 5)

    assert_throttled(token_response(client, coordinator.username, PASSWORD))


def test_failures_under_email_and_participant_code_count_for_the_same_account(client):
    body, applied = self_apply(client)
    code = participant_code(client, body, applied)
    fail_logins(client, body["email"], 3)
    fail_logins(client, code.lower(), 2)

    assert_throttled(token_response(client, body["email"], body["password"]))
    assert_throttled(token_response(client, code, body["password"]))


def test_successful_login_clears_the_account_failures(client, coordinator):
    fail_logins(client, coordinator.username, 4)
    login(client, coordinator.username, PASSWORD)
    fail_logins(client, coordinator.username, 4)

    assert token_response(client, coordinator.username, PASSWORD).status_code == 200


def test_address_is_locked_after_twenty_failures(client, factory):
    locked, other = factory.coordinator("PE"), factory.coordinator("CL")
    fail_logins(client, locked.username, 5)
    assert_throttled(token_response(client, locked.username, PASSWORD))

    # another account from the same address is not affected by the first one's lock
    assert token_response(client, other.username, PASSWORD).status_code == 200
    for n in range(14):
        fail_logins(client, f"desconocida{n}@example.org", 1)  # 19 failures from this address so far
    assert token_response(client, other.username, PASSWORD).status_code == 200

    fail_logins(client, "desconocida-final@example.org", 1)  # the 20th

    assert_throttled(token_response(client, other.username, PASSWORD))
    assert_throttled(token_response(client, "nadie@example.org", "no-es-la-clave"))


def test_lock_ends_when_the_window_has_passed(client, sessions, coordinator):
    fail_logins(client, coordinator.username, 5)
    assert_throttled(token_response(client, coordinator.username, PASSWORD))

    age_throttle_hits(sessions, minutes=16)

    assert token_response(client, coordinator.username, PASSWORD).status_code == 200


def test_address_lock_ends_when_the_window_has_passed(client, sessions, coordinator):
    for n in range(20):
        fail_logins(client, f"desconocida{n}@example.org", 1)
    assert_throttled(token_response(client, coordinator.username, PASSWORD))

    age_throttle_hits(sessions, minutes=16)

    assert token_response(client, coordinator.username, PASSWORD).status_code == 200


def test_failures_older_than_the_window_do_not_count(client, sessions, coordinator):
    fail_logins(client, coordinator.username, 4)
    age_throttle_hits(sessions, minutes=16)
    fail_logins(client, coordinator.username, 4)

    assert token_response(client, coordinator.username, PASSWORD).status_code == 200


# --- changes to an account ------------------------------------------------------------------------------

@pytest.mark.parametrize("change", [
    pytest.param({"role": "admin"}, id="role"),
    pytest.param({"country": "CL"}, id="country"),
    pytest.param({"active": False}, id="active"),
    pytest.param({"role": "coordinator", "country": "MX", "full_name": "Rosa Mamani"}, id="country-and-name"),
])
def test_security_change_revokes_tokens(client, admin, coordinator, change):
    second = login(client, coordinator.username, PASSWORD)

    response = client.patch(f"{API}/users/{coordinator.user_id}", json=change, headers=admin.headers)

    assert response.status_code == 200, response.text
    assert_unauthenticated(me(client, coordinator.headers))
    assert_unauthenticated(me(client, second))
    assert me(client, admin.headers).status_code == 200  # the admin's own token is not touched


@pytest.mark.parametrize("change", [
    pytest.param({"full_name": "Rosa Mamani Condori"}, id="full_name"),
    pytest.param({"country": "PE"}, id="same-country"),
    pytest.param({"active": True}, id="already-active"),
    pytest.param({}, id="nothing"),
])
def test_other_changes_keep_tokens(client, admin, coordinator, change):
    response = client.patch(f"{API}/users/{coordinator.user_id}", json=change, headers=admin.headers)

    assert response.status_code == 200, response.text
    data = me(client, coordinator.headers)
    assert data.status_code == 200, data.text
    assert data.json()["full_name"] == change.get("full_name", response.json()["full_name"])


def test_role_change_takes_effect_with_a_new_token(client, admin, coordinator):
    assert client.get(f"{API}/audit", headers=coordinator.headers).status_code == 403

    client.patch(f"{API}/users/{coordinator.user_id}", json={"role": "admin"}, headers=admin.headers)
    headers = login(client, coordinator.username, PASSWORD)

    data = me(client, headers).json()
    assert (data["role"], data["country"]) == ("admin", None)
    assert client.get(f"{API}/audit", headers=headers).status_code == 200


def test_deactivated_user_cannot_log_in_until_reactivated(client, admin, coordinator):
    client.patch(f"{API}/users/{coordinator.user_id}", json={"active": False}, headers=admin.headers)

    response = token_response(client, coordinator.username, PASSWORD)

    assert_unauthenticated(response)
    assert response.json()["error"] == "invalid_credentials"
    client.patch(f"{API}/users/{coordinator.user_id}", json={"active": True}, headers=admin.headers)
    assert me(client, login(client, coordinator.username, PASSWORD)).status_code == 200
    assert_unauthenticated(me(client, coordinator.headers))  # the old token stays revoked


def test_coordinator_moved_to_another_country_sees_only_the_new_one(client, factory, admin, coordinator):
    peruvian, chilean = factory.participant("PE"), factory.participant("CL")
    assert peruvian.enrolment_id in enrolment_ids(client, coordinator.headers)
    assert chilean.enrolment_id not in enrolment_ids(client, coordinator.headers)

    client.patch(f"{API}/users/{coordinator.user_id}", json={"country": "CL"}, headers=admin.headers)
    headers = login(client, coordinator.username, PASSWORD)

    assert me(client, headers).json()["country"] == "CL"
    visible = enrolment_ids(client, headers)
    assert chilean.enrolment_id in visible
    assert peruvian.enrolment_id not in visible
    assert client.get(f"{API}/enrolments/{peruvian.enrolment_id}", headers=headers).status_code == 404
    assert client.get(f"{API}/enrolments/{chilean.enrolment_id}", headers=headers).status_code == 200


def test_role_and_country_are_read_from_the_database_on_every_request(client, sessions, factory, coordinator):
    """Even a change made outside the API (no token revoked) applies to the very next request."""
    peruvian, chilean = factory.participant("PE"), factory.participant("CL")
    with sessions() as session, session.begin():
        session.get_one(User, coordinator.user_id).country_code = "CL"

    visible = enrolment_ids(client, coordinator.headers)

    assert chilean.enrolment_id in visible
    assert peruvian.enrolment_id not in visible


# --- activation codes -----------------------------------------------------------------------------------

def test_registered_woman_activates_her_account_and_logs_in(client, coordinator):
    registered = register(client, coordinator)
    assert re.fullmatch(r"PE-\d{4}", registered["username"]), registered
    assert registered["activation_code"]
    assert token_response(client, registered["username"], PASSWORD).status_code == 401  # no password yet

    response = activate(client, registered["activation_code"])

    assert response.status_code == 200, response.text
    assert response.json() == {"username": registered["username"]}
    headers = login(client, registered["username"].lower(), NEW_PASSWORD)
    data = me(client, headers).json()
    assert (data["role"], data["country"], data["participant_id"]) == ("participant", "PE",
                                                                      registered["participant_id"])
    assert data["enrolment"]["id"] == registered["enrolment_id"]


def test_activation_code_is_single_use(client, coordinator):
    code = register(client, coordinator)["activation_code"]
    assert activate(client, code).status_code == 200

    response = activate(client, code, "tercera-clave-000")

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_activation_code"


def test_codes_left_unused_are_retired_once_she_has_a_password(client, sessions, settings, coordinator):
    registered = register(client, coordinator)
    with sessions() as session, session.begin():  # a second code outstanding (issued before this rule)
        user_id = session.get_one(Participant, registered["participant_id"]).user_id
        spare = auth_service.create_activation_code(session, settings, user_id, coordinator.user_id).activation_code
    assert activate(client, registered["activation_code"]).status_code == 200

    response = activate(client, spare, "otra-clave-789")

    assert response.status_code == 400, response.text
    login(client, registered["username"], NEW_PASSWORD)  # her password stands


def test_a_stale_token_on_an_application_is_refused_with_a_clear_message(client, coordinator):
    assert client.post(f"{API}/auth/logout", headers=coordinator.headers).status_code == 204

    response = client.post(f"{API}/applications", json=application("PE", self_service=False),
                           headers=coordinator.headers)

    assert response.status_code == 401  # not treated as an anonymous application
    assert response.json()["error"] == "not_authenticated"
    assert response.json()["detail"]


def test_expired_activation_code_is_refused(client, sessions, coordinator):
    registered = register(client, coordinator)
    with sessions() as session, session.begin():
        user_id = session.scalars(select(User.id).where(User.participant_code == registered["username"])).one()
        session.execute(update(ActivationCode).where(ActivationCode.user_id == user_id)
                        .values(expires_at=utcnow() - timedelta(seconds=1)))

    response = activate(client, registered["activation_code"])

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_activation_code"
    assert token_response(client, registered["username"], NEW_PASSWORD).status_code == 401


def test_activation_code_expires_after_fourteen_days(client, coordinator):
    registered = register(client, coordinator)

    delta = datetime.fromisoformat(registered["activation_code_expires_at"]) - utcnow()
    assert timedelta(days=13, hours=23) < delta <= timedelta(days=14)


@pytest.mark.parametrize("spelling", [
    pytest.param(str.lower, id="lower-case"),
    pytest.param(lambda code: code.replace("-", ""), id="no-dashes"),
    pytest.param(lambda code: code.lower().replace("-", " "), id="spaces"),
    pytest.param(lambda code: f"  {code}  ", id="surrounding-spaces"),
])
def test_activation_code_ignores_case_and_dashes(client, coordinator, spelling):
    registered = register(client, coordinator)

    response = activate(client, spelling(registered["activation_code"]))

    assert response.status_code == 200, response.text
    login(client, registered["username"], NEW_PASSWORD)


def test_wrong_activation_codes_are_throttled_per_address(client, coordinator):
    first, second = register(client, coordinator), register(client, coordinator)
    for _ in range(9):
        wrong = activate(client, "ABCD-EFGH-JKMN")
        assert wrong.status_code == 400, wrong.text
    assert activate(client, first["activation_code"]).status_code == 200  # nine wrong guesses: still allowed
    assert activate(client, "ABCD-EFGH-JKMN").status_code == 400  # the tenth

    response = activate(client, second["activation_code"])

    assert_throttled(response)
    assert token_response(client, second["username"], NEW_PASSWORD).status_code == 401  # nothing was set


def test_new_activation_code_replaces_the_old_one_and_revokes_tokens(client, coordinator):
    registered = register(client, coordinator)
    assert activate(client, registered["activation_code"]).status_code == 200
    headers = login(client, registered["username"], NEW_PASSWORD)
    url = f"{API}/participants/{registered['participant_id']}/activation-code"

    issued = client.post(url, headers=coordinator.headers)

    assert issued.status_code == 201, issued.text
    second_code = issued.json()["activation_code"]
    assert issued.json()["expires_at"]
    assert second_code != registered["activation_code"]
    assert_unauthenticated(me(client, headers))

    # a third code before the second was used: the second no longer works
    third_code = client.post(url, headers=coordinator.headers).json()["activation_code"]
    refused = activate(client, second_code)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "invalid_activation_code"

    assert activate(client, third_code, "clave-recuperada-1").status_code == 200
    assert token_response(client, registered["username"], NEW_PASSWORD).status_code == 401
    login(client, registered["username"], "clave-recuperada-1")


def test_new_activation_code_for_a_self_applicant_who_forgot_her_password(client, factory, coordinator):
    participant = factory.participant("PE")

    issued = client.post(f"{API}/participants/{participant.participant_id}/activation-code",
                         headers=coordinator.headers)

    assert issued.status_code == 201, issued.text
    assert_unauthenticated(me(client, participant.headers))
    assert activate(client, issued.json()["activation_code"]).json() == {"username": participant.username}
    login(client, participant.username, NEW_PASSWORD)


def test_coordinator_of_another_country_cannot_issue_a_code(client, factory):
    participant = factory.participant("PE")

    response = client.post(f"{API}/participants/{participant.participant_id}/activation-code",
                           headers=factory.coordinator("CL").headers)

    assert response.status_code == 404, response.text
    assert me(client, participant.headers).status_code == 200  # her tokens are untouched


# --- staff accounts -------------------------------------------------------------------------------------

def new_user_body(**overrides: Any) -> dict[str, Any]:
    body = {"email": "Rosa.Mamani@Example.org", "password": "clave-coordinadora-1", "full_name": "Rosa Mamani",
            "role": "coordinator", "country": "CL"}
    body.update(overrides)
    return body


def test_admin_creates_a_coordinator_who_can_log_in(client, admin):
    response = client.post(f"{API}/users", json=new_user_body(), headers=admin.headers)

    assert response.status_code == 201, response.text
    created = response.json()
    assert created["email"] == created["username"] == "rosa.mamani@example.org"
    assert (created["role"], created["country"], created["active"]) == ("coordinator", "CL", True)
    assert "password" not in created
    assert "password_hash" not in created

    headers = login(client, "ROSA.MAMANI@example.org", "clave-coordinadora-1")
    data = me(client, headers).json()
    assert data["id"] == created["id"]
    assert (data["role"], data["country"], data["full_name"]) == ("coordinator", "CL", "Rosa Mamani")


def test_duplicate_email_in_another_case_is_refused(client, admin):
    assert client.post(f"{API}/users", json=new_user_body(), headers=admin.headers).status_code == 201

    response = client.post(f"{API}/users", json=new_user_body(email="ROSA.MAMANI@EXAMPLE.ORG", country="PE"),
                           headers=admin.headers)

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "email_taken"
    assert token_response(client, "rosa.mamani@example.org", "clave-coordinadora-1").status_code == 200


def test_staff_email_taken_by_a_participant_is_refused(client, admin):
    body, _ = self_apply(client)

    response = client.post(f"{API}/users", json=new_user_body(email=body["email"].upper()),
                           headers=admin.headers)

    assert response.status_code == 409, response.text
    assert response.json()["error"] == "email_taken"


# --- secrets at rest ------------------------------------------------------------------------------------

def test_passwords_tokens_and_codes_are_not_stored_in_clear(client, sessions, admin):
    staff_password = "clave-muy-secreta-42"
    created = client.post(f"{API}/users", json=new_user_body(password=staff_password), headers=admin.headers)
    assert created.status_code == 201, created.text
    coordinator_token = token_response(client, "rosa.mamani@example.org", staff_password).json()["access_token"]
    coordinator_headers = {"Authorization": f"Bearer {coordinator_token}"}
    first = register(client, Actor(created.json()["id"], Role.COORDINATOR, "CL", coordinator_token), "CL")
    assert activate(client, first["activation_code"], "clave-de-ella-77").status_code == 200
    her_token = token_response(client, first["username"], "clave-de-ella-77").json()["access_token"]
    unused = client.post(f"{API}/participants/{first['participant_id']}/activation-code",
                         headers=coordinator_headers).json()["activation_code"]

    secrets = {staff_password, "clave-de-ella-77", coordinator_token, her_token, first["activation_code"],
               unused}
    secrets |= {code.replace("-", "") for code in (first["activation_code"], unused)}
    with sessions() as session:
        for model in (User, AccessToken, ActivationCode, AuditEntry):
            rows = session.scalars(select(model)).all()
            assert rows
            for row in rows:
                for column in model.__table__.columns:
                    stored = str(getattr(row, column.key))
                    leaked = [s for s in secrets if s in stored or s.lower() in stored.lower()]
                    assert not leaked, f"{model.__tablename__}.{column.key} holds a secret in clear"


# --- audit ----------------------------------------------------------------------------------------------

def test_account_changes_are_audited_with_their_actor(client, admin, coordinator):
    created = client.post(f"{API}/users", json=new_user_body(), headers=admin.headers).json()
    client.patch(f"{API}/users/{created['id']}", json={"country": "MX"}, headers=admin.headers)
    registered = register(client, coordinator)
    assert activate(client, registered["activation_code"]).status_code == 200
    her_id = me(client, login(client, registered["username"], NEW_PASSWORD)).json()["id"]

    entries = audit(client, admin)

    def one(action: str, entity_id: object) -> dict[str, Any]:
        found = [e for e in entries if e["action"] == action and e["entity_id"] == str(entity_id)]
        assert len(found) == 1, (action, entity_id, entries)
        return found[0]

    created_entry = one("user.created", created["id"])
    assert created_entry["actor_id"] == admin.user_id
    assert (created_entry["entity"], created_entry["country_code"]) == ("user", "CL")
    assert created_entry["data"]["role"] == "coordinator"
    updated_entry = one("user.updated", created["id"])
    assert updated_entry["actor_id"] == admin.user_id
    assert updated_entry["data"]["changes"] == {"country": "MX"}
    activated_entry = one("account.activated", her_id)
    assert activated_entry["actor_id"] == her_id
    assert activated_entry["country_code"] == "PE"
    assert all("password" not in str(e["data"]) for e in entries)


def test_audit_filters_by_action_and_actor(client, admin, coordinator):
    created = client.post(f"{API}/users", json=new_user_body(), headers=admin.headers).json()
    client.patch(f"{API}/users/{created['id']}", json={"full_name": "Rosa M."}, headers=admin.headers)
    register(client, coordinator)  # entries by the coordinator

    by_action = audit(client, admin, "action=user.updated")
    assert by_action
    assert {e["action"] for e in by_action} == {"user.updated"}
    assert str(created["id"]) in {e["entity_id"] for e in by_action}

    by_admin = audit(client, admin, f"actor={admin.user_id}")
    assert {e["actor_id"] for e in by_admin} == {admin.user_id}
    assert {"user.created", "user.updated"} <= {e["action"] for e in by_admin}

    by_coordinator = audit(client, admin, f"actor={coordinator.user_id}")
    assert by_coordinator
    assert {e["actor_id"] for e in by_coordinator} == {coordinator.user_id}
    assert "user.created" not in {e["action"] for e in by_coordinator}

    both = audit(client, admin, f"actor={admin.user_id}&action=user.created")
    assert [(e["action"], e["entity_id"]) for e in both] == [("user.created", str(created["id"]))]
    assert audit(client, admin, "action=no.such.action") == []


def test_audit_is_for_admins_only(client, coordinator, factory):
    assert client.get(f"{API}/audit", headers=coordinator.headers).status_code == 403
    assert client.get(f"{API}/audit", headers=factory.participant("PE").headers).status_code == 403
    assert_unauthenticated(client.get(f"{API}/audit"))
