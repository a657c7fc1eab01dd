"""The reports' tests use the small programme of the progress tests, and send events as the women would."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import Actor
from tests.progress.conftest import Catalogue, catalogue

__all__ = ["Catalogue", "catalogue", "days_ago", "send"]

API = "/api/v1"


def days_ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def send(client: TestClient, actor: Actor, *events: tuple[str, str, str, dict[str, Any], float]) -> None:
    """Events as (type, module, lesson, payload, days ago)."""
    body = {"events": [{"event_id": str(uuid.uuid4()), "type": kind, "module": module, "lesson": lesson,
                        "occurred_at": days_ago(ago), "payload": payload}
                       for kind, module, lesson, payload, ago in events]}
    response = client.post(f"{API}/progress/events", json=body, headers=actor.headers)
    assert response.status_code == 200, response.text
    assert all(r["status"] == "accepted" for r in response.json()["results"]), response.json()
