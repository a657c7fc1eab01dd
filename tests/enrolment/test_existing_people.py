"""An application that matches a woman already known never changes or reveals her, unless the caller may act for
her: herself (her own token), or staff of her country (an admin: any).

The two takeovers found in review: an anonymous application with the document (or email) of a withdrawn woman
took over her account; a coordinator of Peru moved a withdrawn Chilean woman to Peru and could then log in as
her. Afterwards, her record, account and consent ledger must be exactly as they were, and no answer may name her.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry, ConsentRecord, Participant, ThrottleHit, User
from tests.factories import Actor, Factory, application, login

API = "/api/v1"


def snapshot(sessions: sessionmaker[Session], participant_id: int) -> dict[str, Any]:
    """Everything held about her that an application could change."""
    with sessions() as session:
        participant = session.get_one(Participant, participant_id)
        user = session.get_one(User, participant.user_id)
        consents = session.scalars(select(ConsentRecord).where(ConsentRecord.participant_id == participant_id)
                                   .order_by(ConsentRecord.id)).all()
        return {
            "participant": {c.key: getattr(participant, c.key) for c in Participant.__table__.columns},
            "user": {c.key: getattr(user, c.key) for c in User.__table__.columns},
            "consents": [(c.id, c.notice_version, c.sensitive_data, c.channel) for c in consents],
        }


def refusals(sessions: sessionmaker[Session]) -> list[dict[str, Any]]:
    with sessions() as session:
        return [e.data for e in session.scalars(select(AuditEntry).where(AuditEntry.action == "application.refused"))]


@pytest.fixture
def admin(factory: Factory) -> Actor:
    return factory.admin()


def withdrawn_woman(client: TestClient, admin: Actor, body: dict[str, Any],
                    headers: dict[str, str] | None = None) -> dict[str, Any]:
    applied = client.post(f"{API}/applications", json=body, headers=headers or {})
    assert applied.status_code == 201, applied.text
    out = applied.json()
    response = client.post(f"{API}/enrolments/{out['enrolment_id']}/withdraw", json={"reason": "Viajó"},
                           headers=admin.headers)
    assert response.status_code == 200, response.text
    return dict(out)


def duplicate_body(client: TestClient) -> dict[str, Any]:
    """The answer an active duplicate gets: the reference every refusal must equal."""
    body = application("MX")
    assert client.post(f"{API}/applications", json=body).status_code == 201
    response = client.post(f"{API}/applications", json=application("MX", document=body["document"]))
    assert response.status_code == 409
    return dict(response.json())


@pytest.mark.parametrize("match", ["document", "email"])
def test_an_anonymous_application_never_takes_over_a_withdrawn_woman(client, sessions, admin, match):
    body = application("PE")
    first = withdrawn_woman(client, admin, body)
    before = snapshot(sessions, first["participant_id"])
    reference = duplicate_body(client)

    attacker = application("PE", email="otra@example.org", password="clave-de-la-intrusa")
    if match == "document":
        attacker["document"] = body["document"]
    else:
        attacker["email"] = body["email"].upper()
    response = client.post(f"{API}/applications", json=attacker)

    assert response.status_code == 409
    assert response.json() == reference  # exactly what any duplicate gets: nothing of hers
    assert body["email"] not in response.text
    assert str(first["participant_id"]) not in response.text
    assert snapshot(sessions, first["participant_id"]) == before
    # the intruder's password opens nothing; the owner's still does
    for username in (body["email"], first["username"]):
        denied = client.post(f"{API}/auth/token", data={"username": username, "password": "clave-de-la-intrusa"})
        assert denied.status_code == 401
    login(client, body["email"], body["password"])
    assert {"reason": "existing_person", "matched_participants": [first["participant_id"]]}.items() <= \
        refusals(sessions)[-1].items()


def test_an_anonymous_application_never_gives_a_field_registered_woman_an_account(client, sessions, factory, admin):
    """A woman registered by her coordinator has no email or password yet: the takeover set them."""
    coordinator = factory.coordinator("PE")
    body = application("PE", self_service=False)
    first = withdrawn_woman(client, admin, body, coordinator.headers)
    before = snapshot(sessions, first["participant_id"])
    assert before["user"]["password_hash"] is None
    assert before["user"]["email"] is None

    attacker = application("PE", document=body["document"], email="intrusa@example.org")
    response = client.post(f"{API}/applications", json=attacker)

    assert response.status_code == 409
    assert response.json()["error"] == "duplicate_application"
    assert snapshot(sessions, first["participant_id"]) == before
    assert client.post(f"{API}/auth/token", data={"username": "intrusa@example.org",
                                                   "password": attacker["password"]}).status_code == 401


def test_anonymous_refusals_count_toward_the_address_limit(client, sessions, admin):
    body = application("PE")
    withdrawn_woman(client, admin, body)
    with sessions() as session:
        before = len(session.scalars(select(ThrottleHit).where(ThrottleHit.key.like("apply:address:%"))).all())

    client.post(f"{API}/applications", json=application("PE", document=body["document"]))  # duplicate
    client.post(f"{API}/applications", json=application("PE", gender="male"))  # not eligible

    with sessions() as session:
        after = len(session.scalars(select(ThrottleHit).where(ThrottleHit.key.like("apply:address:%"))).all())
    assert after == before + 2


def test_a_withdrawn_woman_applies_again_with_her_own_token(client, sessions, admin):
    body = application("PE")
    first = withdrawn_woman(client, admin, body)
    headers = login(client, body["email"], body["password"])

    again = client.post(f"{API}/applications", json=dict(body, password=None, locality="Chota"), headers=headers)

    assert again.status_code == 201, again.text
    assert again.json()["participant_id"] == first["participant_id"]
    assert snapshot(sessions, first["participant_id"])["participant"]["locality"] == "Chota"


def test_a_participant_cannot_apply_with_another_womans_document(client, sessions, factory, admin):
    other = application("PE")
    other_out = withdrawn_woman(client, admin, other)
    before = snapshot(sessions, other_out["participant_id"])
    me = factory.participant("PE")
    client.post(f"{API}/enrolments/{me.enrolment_id}/withdraw", json={"reason": "Viajó"}, headers=me.headers)

    response = client.post(f"{API}/applications", json=application("PE", self_service=False,
                                                                    document=other["document"]), headers=me.headers)

    assert response.status_code == 409
    assert response.json()["error"] == "duplicate_application"
    assert snapshot(sessions, other_out["participant_id"]) == before


@pytest.mark.parametrize("email", [str.lower, str.upper], ids=["as_given", "other_case"])
def test_a_coordinator_cannot_move_another_countrys_withdrawn_woman(client, sessions, factory, admin, email):
    # (by document it cannot happen: a document's type belongs to one country, so a RUN is refused for PE)
    body = application("CL")
    chilean = withdrawn_woman(client, admin, body)
    before = snapshot(sessions, chilean["participant_id"])
    reference = duplicate_body(client)
    peru = factory.coordinator("PE")

    registration = application("PE", self_service=False, email=email(body["email"]))
    response = client.post(f"{API}/applications", json=registration, headers=peru.headers)

    assert response.status_code == 409, response.text
    assert response.json() == reference
    assert snapshot(sessions, chilean["participant_id"]) == before
    # and so she stays out of reach: no activation code for her
    code = client.post(f"{API}/participants/{chilean['participant_id']}/activation-code", headers=peru.headers)
    assert code.status_code == 404
    assert refusals(sessions)[-1]["reason"] == "out_of_scope"


def test_her_own_coordinator_registers_a_withdrawn_woman_again(client, sessions, factory, admin):
    coordinator = factory.coordinator("CL")
    body = application("CL")
    first = withdrawn_woman(client, admin, body)
    before = snapshot(sessions, first["participant_id"])

    again = client.post(f"{API}/applications", json=application("CL", self_service=False, document=body["document"]),
                        headers=coordinator.headers)

    assert again.status_code == 201, again.text
    assert again.json()["participant_id"] == first["participant_id"]
    after = snapshot(sessions, first["participant_id"])
    assert after["user"]["email"] == before["user"]["email"]  # her login is hers
    assert after["user"]["password_hash"] == before["user"]["password_hash"]
    assert "activation_code" not in again.json() or again.json()["activation_code"] is None
