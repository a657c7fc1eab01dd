"""Her coordinator uploads the ``progreso.json`` a woman exported from the reader after weeks without a
connection: the same rules and results as her own sync, only for a woman of her scope, only with her file."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry, ProgressEvent, User
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, enrolled_since

API = "/api/v1"


def progreso(username: str, *events: dict[str, Any]) -> dict[str, Any]:
    """The reader's export format."""
    return {"format_version": 1, "username": username, "device_id": "telefono-compartido-1",
            "exported_at": datetime.now(UTC).isoformat(), "events": list(events)}


def completed(lesson: str = "valor") -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": "lesson_completed", "module": "saberes", "lesson": lesson,
            "occurred_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(), "payload": {}}


@pytest.fixture
def woman(factory: Factory, sessions: sessionmaker[Session], catalogue: Catalogue) -> Actor:
    learner = factory.participant("PE")
    enrolled_since(sessions, learner.participant_id, datetime.now(UTC) - timedelta(days=30))
    return learner


def upload(client: TestClient, actor: Actor | None, woman: Actor, body: Any) -> Any:
    return client.post(f"{API}/participants/{woman.participant_id}/progress/import", json=body,
                       headers=actor.headers if actor else {})


def stored(sessions: sessionmaker[Session], woman: Actor) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(ProgressEvent).where(
            ProgressEvent.participant_id == woman.participant_id)) or 0


def test_her_coordinator_uploads_her_file_and_it_counts(client, sessions, factory, woman):
    coordinator = factory.coordinator("PE")
    body = progreso(woman.username, completed(), completed("extra"))

    first = upload(client, coordinator, woman, body)
    again = upload(client, coordinator, woman, body)  # the same file twice: nothing doubled

    assert first.status_code == 200, first.text
    assert [r["status"] for r in first.json()["results"]] == ["accepted", "accepted"]
    assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert stored(sessions, woman) == 2
    seen = client.get(f"{API}/participants/{woman.participant_id}/progress", headers=coordinator.headers).json()
    lessons = {row["slug"]: row for m in seen["modules"] for row in m["lessons"] if m["slug"] == "saberes"}
    assert lessons["valor"]["completed_at"] is not None
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "progress.imported")).all()
    assert [(e.actor_id, e.entity_id, e.data["accepted"]) for e in entries] == [
        (coordinator.user_id, str(woman.participant_id), 2), (coordinator.user_id, str(woman.participant_id), 0)]


def test_her_participant_code_in_any_case_names_her_too(client, sessions, factory, woman):
    with sessions() as session:
        code = session.get_one(User, woman.user_id).participant_code
    assert code
    response = upload(client, factory.admin(), woman, progreso(code.lower(), completed()))
    assert response.status_code == 200, response.text
    assert stored(sessions, woman) == 1


def test_another_womans_file_is_refused_and_nothing_is_stored(client, sessions, factory, woman):
    other = factory.participant("PE")
    response = upload(client, factory.coordinator("PE"), woman, progreso(other.username, completed()))
    assert response.status_code == 409
    assert response.json()["error"] == "progress_of_another_person"
    assert stored(sessions, woman) == 0
    assert stored(sessions, other) == 0


def test_a_file_without_its_username_is_refused(client, sessions, factory, woman):
    body = progreso(woman.username, completed())
    del body["username"]
    response = upload(client, factory.coordinator("PE"), woman, body)
    assert response.status_code == 422
    assert response.json()["fields"][0]["field"] == "username"
    assert stored(sessions, woman) == 0


@pytest.mark.parametrize("who", ["coordinator_other", "participant_self", "anonymous"])
def test_only_staff_of_her_scope_may_upload(client, sessions, factory, woman, who):
    actor = {"coordinator_other": lambda: factory.coordinator("CL"), "participant_self": lambda: woman,
             "anonymous": lambda: None}[who]()
    response = upload(client, actor, woman, progreso(woman.username, completed()))
    assert response.status_code == {"coordinator_other": 404, "participant_self": 403, "anonymous": 401}[who]
    assert stored(sessions, woman) == 0


@pytest.mark.parametrize("username", [7, "a" * 300, "ana\u0000"])
def test_a_bad_username_is_a_bad_file(client, factory, woman, username):
    body = progreso(woman.username, completed()) | {"username": username}
    response = upload(client, factory.coordinator("PE"), woman, body)
    assert response.status_code in (400, 422)
