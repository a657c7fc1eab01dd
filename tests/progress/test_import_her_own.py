"""Her own upload of a ``progreso.json`` (``POST /progress/import``): on a phone shared by a household she may pick
her sister's file; it is refused as her coordinator's route refuses it, and nobody is credited."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.models import User
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, enrolled_since
from tests.progress.test_import_for_participant import completed, progreso, stored

API = "/api/v1"


@pytest.fixture
def woman(factory: Factory, sessions: sessionmaker[Session], catalogue: Catalogue) -> Actor:
    learner = factory.participant("PE")
    enrolled_since(sessions, learner.participant_id, datetime.now(UTC) - timedelta(days=30))
    return learner


def upload_own(client: TestClient, actor: Actor, body: Any) -> Any:
    return client.post(f"{API}/progress/import", json=body, headers=actor.headers)


def test_her_own_file_counts_once(client, sessions, woman):
    body = progreso(woman.username, completed())
    first = upload_own(client, woman, body)
    again = upload_own(client, woman, body)
    assert [r["status"] for r in first.json()["results"]] == ["accepted"]
    assert [r["status"] for r in again.json()["results"]] == ["duplicate"]
    assert stored(sessions, woman) == 1


def test_her_participant_code_in_another_case_is_hers(client, sessions, woman):
    with sessions() as session:
        code = session.get_one(User, woman.user_id).participant_code
    assert code
    response = upload_own(client, woman, progreso(f"  {code.lower()} ", completed()))
    assert response.status_code == 200, response.text
    assert stored(sessions, woman) == 1


@pytest.mark.parametrize(("locale", "message"), [("es", "otra persona"), ("en", "someone else")])
def test_another_womans_file_is_refused_like_on_her_coordinators_route(
        client, sessions, factory: Factory, woman, locale, message):
    sister = factory.participant("PE")
    body = progreso(sister.username, completed())
    own = client.post(f"{API}/progress/import", json=body,
                      headers={**woman.headers, "Accept-Language": locale})
    by_coordinator = client.post(f"{API}/participants/{woman.participant_id}/progress/import", json=body,
                                 headers={**factory.coordinator("PE").headers, "Accept-Language": locale})

    assert own.status_code == by_coordinator.status_code == 409
    assert own.json() == by_coordinator.json()
    assert own.json()["error"] == "progress_of_another_person"
    assert message in own.json()["detail"].lower()
    assert stored(sessions, woman) == 0
    assert stored(sessions, sister) == 0


def test_a_file_of_another_country_is_refused_too(client, sessions, factory: Factory, woman):
    stranger = factory.participant("MX")
    response = upload_own(client, woman, progreso(stranger.username, completed()))
    assert response.status_code == 409
    assert stored(sessions, woman) == stored(sessions, stranger) == 0


def test_events_without_a_username_are_hers(client, sessions, woman):
    """As ``/progress/events`` takes them: the token says whose they are."""
    response = upload_own(client, woman, {"events": [completed()]})
    assert response.status_code == 200, response.text
    assert stored(sessions, woman) == 1


@pytest.mark.parametrize("username", [7, "a" * 300, "ana\u0000"])
def test_a_bad_username_is_a_bad_file(client, sessions, woman, username):
    response = upload_own(client, woman, progreso(woman.username, completed()) | {"username": username})
    assert response.status_code == 400
    assert response.json()["detail"]
    assert stored(sessions, woman) == 0
