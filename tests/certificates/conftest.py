from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, catalogue  # noqa: F401  (the small programme, a fixture)

API = "/api/v1"


def events_completing_the_programme(cat: Catalogue, occurred_at: datetime) -> list[dict[str, object]]:
    import uuid

    when = occurred_at.isoformat().replace("+00:00", "Z")

    def event(kind: str, module: str, lesson: str, payload: dict[str, object] | None = None) -> dict[str, object]:
        return {"event_id": str(uuid.uuid4()), "type": kind, "module": module, "lesson": lesson,
                "occurred_at": when, "payload": payload or {}}

    return [
        event("lesson_completed", "saberes", "valor"),
        event("lesson_completed", "saberes", "oficios"),
        event("quiz_submitted", "saberes", "oficios", {"answers": cat.oficios_right}),
        event("lesson_completed", "precio", "costos"),
        event("quiz_submitted", "precio", "costos", {"answers": cat.costos_right}),
        event("lesson_completed", "precio", "cuentas"),
    ]


def complete_programme(client: TestClient, actor: Actor, cat: Catalogue,
                       occurred_at: datetime | None = None) -> None:
    events = events_completing_the_programme(cat, occurred_at or datetime.now(UTC) - timedelta(minutes=5))
    response = client.post(f"{API}/progress/events", json={"events": events}, headers=actor.headers)
    assert response.status_code == 200, response.text
    assert {r["status"] for r in response.json()["results"]} == {"accepted"}


@pytest.fixture
def admin(factory: Factory) -> Actor:
    return factory.admin()


@pytest.fixture
def graduate(client: TestClient, factory: Factory, catalogue: Catalogue) -> Actor:  # noqa: F811
    """A Peruvian participant who completed the programme."""
    actor = factory.participant("PE", first_name="María de los Ángeles", last_name="Huamán Quispe de la Cruz")
    complete_programme(client, actor, catalogue)
    return actor
