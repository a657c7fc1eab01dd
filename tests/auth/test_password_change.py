"""Accounts a person can keep: changing her own password knowing the current one (POST /me/password), and an
admin's one-time code for a coordinator or an admin who forgot hers (POST /users/{id}/activation-code), which she
redeems through POST /auth/activate like a participant. Through the HTTP API, on both databases."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.i18n import MESSAGES
from app.models import AuditEntry, Role, ThrottleHit, User
from tests.factories import Actor, Factory, message, row_counts

API = "/api/v1"
PASSWORD = "clave-segura-123"  # the factories' password
NEW_PASSWORD = "otra-clave-789"


def change(client: TestClient, actor: Actor | dict[str, str], current: Any = PASSWORD,
           new: Any = NEW_PASSWORD) -> Any:
    headers = actor.headers if isinstance(actor, Actor) else actor
    return client.post(f"{API}/me/password", headers=headers,
                       json={"current_password": current, "new_password": new})


def can_log_in(client: TestClient, username: str, password: str) -> bool:
    response = client.post(f"{API}/auth/token", data={"username": username, "password": password})
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(params=["participant", "coordinator", "admin"])
def person(request: pytest.FixtureRequest, factory: Factory) -> Actor:
    match request.param:
        case "participant":
            return factory.participant("PE")
        case "coordinator":
            return factory.coordinator("CO")
        case _:
            return factory.admin()


# --- POST /me/password ----------------------------------------------------------------------------------

def test_she_changes_her_password_and_stays_logged_in_on_this_device(client, person, sessions):
    other_device = client.post(f"{API}/auth/token", data={"username": person.username, "password": PASSWORD})
    assert other_device.status_code == 200

    response = change(client, person)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body.keys() == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] > 0
    # the fresh token works; the one she called with and every other session are over
    assert client.get(f"{API}/me", headers=bearer(body["access_token"])).json()["id"] == person.user_id
    assert client.get(f"{API}/me", headers=person.headers).status_code == 401
    assert client.get(f"{API}/me", headers=bearer(other_device.json()["access_token"])).status_code == 401
    assert change(client, person).status_code == 401  # the old token cannot change it again
    assert can_log_in(client, person.username, NEW_PASSWORD)
    assert not can_log_in(client, person.username, PASSWORD)
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "account.password_changed")).one()
        assert (entry.actor_id, entry.entity, entry.entity_id) == (person.user_id, "user", str(person.user_id))
        assert entry.country_code == person.country
        assert PASSWORD not in str(entry.data)
        assert NEW_PASSWORD not in str(entry.data)


def test_a_wrong_current_password_changes_nothing_and_says_so_in_spanish(client, person, sessions):
    before = row_counts(sessions)
    response = change(client, person, current="no-es-la-clave")
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "wrong_password", "detail": MESSAGES["wrong_password"]["es"]}
    assert row_counts(sessions) == before
    assert client.get(f"{API}/me", headers=person.headers).status_code == 200  # still logged in
    assert can_log_in(client, person.username, PASSWORD)
    english = client.post(f"{API}/me/password", headers={**person.headers, "Accept-Language": "en"},
                          json={"current_password": "no-es-la-clave", "new_password": NEW_PASSWORD})
    assert english.json()["detail"] == MESSAGES["wrong_password"]["en"]


def test_wrong_current_passwords_count_toward_the_login_throttle(client, factory):
    person = factory.coordinator("PE")
    for _ in range(5):
        assert change(client, person, current="no-es-la-clave").status_code == 400
    throttled = change(client, person)  # even the right one, like a locked login
    assert throttled.status_code == 429, throttled.text
    assert int(throttled.headers["Retry-After"]) > 0
    assert throttled.json()["error"] == "throttled"
    # the same count as logging in: the account is locked from this address for both
    assert client.post(f"{API}/auth/token", data={"username": person.username, "password": PASSWORD}
                       ).status_code == 429


def test_login_failures_count_toward_the_change_too(client, factory):
    person = factory.participant("CL")
    for _ in range(5):
        assert not can_log_in(client, person.username, "no-es-la-clave")
    assert change(client, person).status_code == 429


def test_a_success_forgives_its_attempt_and_clears_earlier_failures(client, factory, sessions):
    person = factory.admin()
    for _ in range(4):
        assert change(client, person, current="no-es-la-clave").status_code == 400
    response = change(client, person)
    assert response.status_code == 200, response.text
    with sessions() as session:
        keys = set(session.scalars(select(ThrottleHit.key)))
    assert f"login:account:{person.user_id}:testclient" not in keys
    # four more wrong ones from here do not lock her: the earlier four were cleared
    fresh = bearer(response.json()["access_token"])
    for _ in range(4):
        assert change(client, fresh, current="no-es-la-clave", new="tercera-clave-1").status_code == 400
    assert change(client, fresh, current=NEW_PASSWORD, new="tercera-clave-1").status_code == 200


def test_anonymous_and_bad_tokens_are_401(client):
    assert client.post(f"{API}/me/password", json={"current_password": PASSWORD,
                                                   "new_password": NEW_PASSWORD}).status_code == 401
    assert change(client, bearer("no-es-un-token")).status_code == 401


@pytest.mark.parametrize(("body", "field", "rule"), [
    pytest.param({"new_password": NEW_PASSWORD}, "current_password", "missing", id="current-missing"),
    pytest.param({"current_password": PASSWORD}, "new_password", "missing", id="new-missing"),
    pytest.param({"current_password": PASSWORD, "new_password": "corta"}, "new_password", "string_too_short",
                 id="new-too-short"),
    pytest.param({"current_password": PASSWORD, "new_password": "x" * 129}, "new_password", "string_too_long",
                 id="new-too-long"),
    pytest.param({"current_password": "x" * 129, "new_password": NEW_PASSWORD}, "current_password",
                 "string_too_long", id="current-too-long"),
    pytest.param({"current_password": "", "new_password": NEW_PASSWORD}, "current_password", "string_too_short",
                 id="current-empty"),
    pytest.param({"current_password": PASSWORD, "new_password": 12345678}, "new_password", "string_type",
                 id="new-number"),
    pytest.param({"current_password": ["a"], "new_password": NEW_PASSWORD}, "current_password", "string_type",
                 id="current-list"),
    pytest.param({"current_password": PASSWORD, "new_password": None}, "new_password", "string_type",
                 id="new-null"),
    pytest.param({"current_password": PASSWORD, "new_password": "clave\x00nueva-1"}, "new_password",
                 "invalid_text", id="new-nul"),
    pytest.param({"current_password": "clave\x00segura", "new_password": NEW_PASSWORD}, "current_password",
                 "invalid_text", id="current-nul"),
    pytest.param({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password", "password_unchanged",
                 id="new-same-as-current"),
    pytest.param({"current_password": PASSWORD, "new_password": NEW_PASSWORD, "role": "admin"}, "role",
                 "extra_forbidden", id="extra-field"),
])
def test_bad_input_is_422_on_the_field_and_nothing_is_counted_or_changed(client, factory, sessions, body, field,
                                                                         rule):
    person = factory.participant("MX")
    before = row_counts(sessions)
    with sessions() as session:
        hits = session.scalar(select(func.count()).select_from(ThrottleHit))
    response = client.post(f"{API}/me/password", headers=person.headers, json=body)
    assert response.status_code == 422, response.text
    data = response.json()
    assert data["error"] == "invalid_input"
    assert {"field": field, "message": message(rule)} in data["fields"], data["fields"]
    assert row_counts(sessions) == before
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(ThrottleHit)) == hits
    assert can_log_in(client, person.username, PASSWORD)


def test_a_lone_surrogate_is_refused_not_a_500(client, factory):
    person = factory.coordinator("PE")
    response = client.post(f"{API}/me/password", headers={**person.headers, "Content-Type": "application/json"},
                           content=b'{"current_password": "clave-segura-123", "new_password": "clave-\\ud800-nueva"}')
    assert response.status_code == 422, response.text
    assert {"field": "new_password", "message": message("invalid_text")} in response.json()["fields"]


@pytest.mark.parametrize("content", [b"no es json", b"[]", b'"texto"', b"{"])
def test_a_body_that_is_not_an_object_is_refused(client, factory, content):
    person = factory.coordinator("PE")
    response = client.post(f"{API}/me/password", headers={**person.headers, "Content-Type": "application/json"},
                           content=content)
    assert response.status_code in (400, 422), response.text
    assert response.json()["error"] in ("invalid_json", "invalid_input")


# --- POST /users/{id}/activation-code -------------------------------------------------------------------

def staff_code(client: TestClient, admin: Actor, user_id: int) -> Any:
    return client.post(f"{API}/users/{user_id}/activation-code", headers=admin.headers)


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMIN])
def test_admin_gives_a_staff_member_a_code_and_she_sets_a_new_password(client, factory, sessions, role):
    admin = factory.admin()
    member = factory.staff(role, "CO" if role is Role.COORDINATOR else None)
    first = staff_code(client, admin, member.user_id)
    assert first.status_code == 201, first.text
    response = staff_code(client, admin, member.user_id)
    assert response.status_code == 201, response.text
    assert response.json().keys() == {"activation_code", "expires_at"}
    # her sessions are over, and only the newest code works
    assert client.get(f"{API}/me", headers=member.headers).status_code == 401
    old = client.post(f"{API}/auth/activate", json={"code": first.json()["activation_code"],
                                                   "password": NEW_PASSWORD})
    assert old.status_code == 400, old.text
    activated = client.post(f"{API}/auth/activate", json={"code": response.json()["activation_code"],
                                                         "password": NEW_PASSWORD})
    assert activated.status_code == 200, activated.text
    assert activated.json() == {"username": member.username}
    assert can_log_in(client, member.username, NEW_PASSWORD)
    assert not can_log_in(client, member.username, PASSWORD)
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "account.activation_code_issued", AuditEntry.entity == "user",
            AuditEntry.entity_id == str(member.user_id))).all()
        assert [e.actor_id for e in entries] == [admin.user_id, admin.user_id]
        assert all(e.country_code == member.country for e in entries)


def test_a_participant_is_not_staff_here(client, factory, sessions):
    admin, participant = factory.admin(), factory.participant("PE")
    before = row_counts(sessions)
    response = staff_code(client, admin, participant.user_id)
    assert response.status_code == 404, response.text
    assert response.json()["error"] == "not_found"
    assert row_counts(sessions) == before
    assert client.get(f"{API}/me", headers=participant.headers).status_code == 200  # her tokens survive


@pytest.mark.parametrize(("user_id", "status"), [
    ("999999", 404), ("0", 422), ("-1", 422), ("abc", 422), ("1e3", 422), ("99999999999999999999", 422),
])
def test_unknown_or_malformed_ids(client, factory, user_id, status):
    admin = factory.admin()
    response = client.post(f"{API}/users/{user_id}/activation-code", headers=admin.headers)
    assert response.status_code == status, response.text


def test_only_admins_issue_staff_codes(client, factory, sessions: sessionmaker[Session]):
    coordinator, other = factory.coordinator("PE"), factory.coordinator("PE")
    participant = factory.participant("PE")
    for caller in (coordinator, participant):
        assert staff_code(client, caller, other.user_id).status_code == 403
    assert client.post(f"{API}/users/{other.user_id}/activation-code").status_code == 401
    with sessions() as session:
        assert session.get_one(User, other.user_id).password_hash is not None
    assert client.get(f"{API}/me", headers=other.headers).status_code == 200
