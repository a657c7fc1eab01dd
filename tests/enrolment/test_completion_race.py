"""A withdrawal and the sync that completes her programme, at the same moment, through a live server on both
databases: one of them wins, never both. A completion written over a committed withdrawal gave a 51st
seat-holder (her seat had already gone to the head of the waitlist)."""

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.auth import service as auth_service
from app.auth.schemas import UserCreate
from app.core.security import hash_password
from app.models import Country, Enrolment, EnrolmentStatus, Role
from tests.conftest import BACKENDS
from tests.factories import application
from tests.live import live_service, run_at_once

pytestmark = pytest.mark.xdist_group("concurrency")
API = "/api/v1"
WOMEN = 12
SEAT_HOLDERS = (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED)


def event(kind: str, module: str, lesson: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": kind, "module": module, "lesson": lesson,
            "occurred_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(), "payload": payload or {}}


ALL_BUT_THE_LAST = [
    ("lesson_completed", "saberes", "valor", None),
    ("lesson_completed", "saberes", "oficios", None),
    ("quiz_submitted", "saberes", "oficios", {"answers": {"q1": ["a"], "q2": ["a", "b"], "q3": ["v"]}}),
    ("lesson_completed", "precio", "costos", None),
    ("quiz_submitted", "precio", "costos", {"answers": {"p1": ["b"]}}),
]


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any, dict[str, str]]]:
    with live_service(request.param, tmp_path) as service:
        with service.sessions() as session, session.begin():
            admin = auth_service.create_user(session, None, UserCreate(
                email="admin@example.org", password="clave-segura-123", full_name="Admin", role=Role.ADMIN,
            ), hash_password(service.settings, "clave-segura-123"))
            token = auth_service.issue_token(session, service.settings, admin.id).access_token
        yield service.base_url, service.sessions, {"Authorization": f"Bearer {token}"}


def test_withdrawal_and_completion_racing_never_both_win(live: tuple[str, Any, dict[str, str]]) -> None:
    base, sessions, admin = live
    women = []
    with httpx.Client(base_url=base, timeout=60) as http:
        assert http.patch(f"{API}/countries/PE", json={"capacity": WOMEN}, headers=admin).status_code == 200
        for _ in range(WOMEN + 4):  # four on the waitlist, to take the seats given up
            body = application("PE")
            applied = http.post(f"{API}/applications", json=body)
            assert applied.status_code == 201, applied.text
            token = http.post(f"{API}/auth/token", data={"username": body["email"], "password": body["password"]})
            women.append((applied.json(), {"Authorization": f"Bearer {token.json()['access_token']}"}))
        racers = [(out, headers) for out, headers in women if out["status"] == "enrolled"]
        for _out, headers in racers:
            batch = [event(k, m, lesson, p) for k, m, lesson, p in ALL_BUT_THE_LAST]
            assert http.post(f"{API}/progress/events", json={"events": batch}, headers=headers).status_code == 200

    def finish(headers: dict[str, str]) -> Callable[[httpx.Client], httpx.Response]:
        final = {"events": [event("lesson_completed", "precio", "cuentas")]}
        return lambda http: http.post(f"{base}{API}/progress/events", json=final, headers=headers)

    def withdraw(enrolment_id: int) -> Callable[[httpx.Client], httpx.Response]:
        return lambda http: http.post(f"{base}{API}/enrolments/{enrolment_id}/withdraw", json={"reason": "Viajó"},
                                      headers=admin)

    calls = []
    for out, headers in racers:
        calls += [finish(headers), withdraw(out["enrolment_id"])]
    responses = run_at_once(calls)

    assert all(r.status_code in (200, 403, 409) for r in responses), [r.text for r in responses]
    with sessions() as session:
        for index, (out, _headers) in enumerate(racers):
            status = session.get_one(Enrolment, out["enrolment_id"]).status
            withdrawal = responses[2 * index + 1]
            if withdrawal.status_code == 200:
                assert status is EnrolmentStatus.WITHDRAWN, "a completion was written over her withdrawal"
            else:
                assert withdrawal.json()["error"] == "invalid_transition"
                assert status is EnrolmentStatus.COMPLETED
        country = session.get_one(Country, "PE")
        holders = session.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.country_code == "PE", Enrolment.status.in_(SEAT_HOLDERS)))
        assert holders == country.enrolled <= country.capacity
