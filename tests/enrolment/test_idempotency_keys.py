"""``Idempotency-Key`` on applications: a retry gets the first answer, without the activation code ever being kept
in clear; a throttled request leaves no reservation behind; keys belong to their caller."""

import json
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.models import Enrolment, IdempotencyRecord, ThrottleHit
from tests.factories import Factory, application

API = "/api/v1"
PASSWORD = "clave-nueva-456"


def activate(client: TestClient, code: str) -> int:
    return client.post(f"{API}/auth/activate", json={"code": code, "password": PASSWORD}).status_code


def test_a_retried_registration_gets_a_working_code_and_no_code_is_stored_in_clear(client, sessions, factory):
    coordinator = factory.coordinator("PE")
    body = application("PE", self_service=False)
    key = {"Idempotency-Key": "registro-en-campo-1", **coordinator.headers}

    first = client.post(f"{API}/applications", json=body, headers=key)
    retry = client.post(f"{API}/applications", json=body, headers=key)

    assert first.status_code == retry.status_code == 201
    code1, code2 = first.json()["activation_code"], retry.json()["activation_code"]
    assert code1
    assert code2
    assert code1 != code2
    assert {k: v for k, v in retry.json().items() if not k.startswith("activation_code")} == \
        {k: v for k, v in first.json().items() if not k.startswith("activation_code")}
    with sessions() as session:
        stored = json.dumps([r.response for r in session.scalars(select(IdempotencyRecord))])
        assert session.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.participant_id == first.json()["participant_id"])) == 1
    assert code1 not in stored
    assert code2 not in stored
    # the lost first code is retired; the one the retry gave works, once
    assert activate(client, code1) == 400
    assert activate(client, code2) == 200
    # after she has a password a further retry gives no code at all
    again = client.post(f"{API}/applications", json=body, headers=key)
    assert again.status_code == 201
    assert again.json().get("activation_code") is None


def test_a_throttled_request_leaves_no_reservation(client, sessions, app):
    app.state.settings = app.state.settings.model_copy(update={"application_rate_limit": 1})
    try:
        assert client.post(f"{API}/applications", json=application("PE")).status_code == 201
        body = application("PE")
        key = {"Idempotency-Key": "reintento-tras-429"}
        assert client.post(f"{API}/applications", json=body, headers=key).status_code == 429
        with sessions() as session, session.begin():  # an hour passes
            for hit in session.scalars(select(ThrottleHit)):
                hit.at -= timedelta(hours=2)

        later = client.post(f"{API}/applications", json=body, headers=key)
    finally:
        app.state.settings = app.state.settings.model_copy(update={"application_rate_limit": 100_000})
    assert later.status_code == 201, later.text  # not 409 idempotency_in_progress for ever


def test_two_coordinators_may_use_the_same_key(client, factory: Factory):
    peru, again_peru = factory.coordinator("PE"), factory.coordinator("PE")
    key = "registro-1"
    first = client.post(f"{API}/applications", json=application("PE", self_service=False),
                        headers={"Idempotency-Key": key, **peru.headers})
    second = client.post(f"{API}/applications", json=application("PE", self_service=False),
                         headers={"Idempotency-Key": key, **again_peru.headers})
    assert first.status_code == second.status_code == 201
    assert first.json()["participant_id"] != second.json()["participant_id"]


def test_two_women_applying_by_themselves_may_use_the_same_key(client):
    key = {"Idempotency-Key": "mi-postulacion"}
    first = client.post(f"{API}/applications", json=application("PE"), headers=key)
    second = client.post(f"{API}/applications", json=application("PE"), headers=key)
    assert first.status_code == second.status_code == 201
    assert first.json()["participant_id"] != second.json()["participant_id"]
    # her own retry still replays her first answer: the key is scoped by her email, not by her address
    body = application("CL")
    mine = client.post(f"{API}/applications", json=body, headers=key)
    retry = client.post(f"{API}/applications", json=body, headers=key)
    assert retry.status_code == 201
    assert retry.json() == mine.json()
