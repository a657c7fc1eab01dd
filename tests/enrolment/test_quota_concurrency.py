"""The cap of seats per country holds under concurrent requests through the real HTTP stack, on both databases."""

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth import service as auth_service
from app.auth.schemas import UserCreate
from app.core.db import make_engine, make_sessionmaker
from app.core.security import hash_password
from app.models import Country, Enrolment, EnrolmentStatus, Role
from tests.conftest import BACKENDS, drop_database, make_test_settings, migrated_database
from tests.factories import application
from tests.live import live_server, run_at_once

pytestmark = pytest.mark.xdist_group("concurrency")


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any, str]]:
    """(base URL, sessionmaker, admin token) on a fresh database of its own."""
    url = migrated_database(request.param, tmp_path)
    settings = make_test_settings(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        admin = auth_service.create_user(
            session, None, UserCreate(email="admin@example.org", password="clave-segura-123", full_name="Admin",
                                      role=Role.ADMIN), hash_password(settings, "clave-segura-123"))
        token = auth_service.issue_token(session, settings, admin.id).access_token
    try:
        with live_server(settings) as base_url:
            yield base_url, sessions, token
    finally:
        engine.dispose()
        drop_database(url)


def apply_call(base: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Callable[
        [httpx.Client], httpx.Response]:
    return lambda http: http.post(f"{base}/api/v1/applications", json=body, headers=headers or {})


def assert_quota_invariants(session: Session, code: str) -> tuple[int, list[int]]:
    country = session.get_one(Country, code)
    enrolled = session.scalar(select(func.count()).where(
        Enrolment.country_code == code, Enrolment.status == EnrolmentStatus.ENROLLED)) or 0
    positions = sorted(session.scalars(select(Enrolment.waitlist_position).where(
        Enrolment.country_code == code, Enrolment.status == EnrolmentStatus.WAITLISTED)))
    assert enrolled == country.enrolled <= country.capacity
    assert positions == list(range(1, len(positions) + 1)), "waitlist positions must be 1..n without gaps"
    assert len(positions) == country.waitlisted
    if positions:
        assert enrolled == country.capacity, "nobody waits while a seat is free"
    return enrolled, positions


def test_120_simultaneous_applications_fill_50_seats_and_queue_70(live):
    base, sessions, _token = live
    responses = run_at_once([apply_call(base, application("PE")) for _ in range(120)])

    assert Counter(r.status_code for r in responses) == {201: 120}
    statuses = Counter(r.json()["status"] for r in responses)
    assert statuses == {"enrolled": 50, "waitlisted": 70}
    answered_positions = sorted(r.json()["waitlist_position"] for r in responses if r.json()["waitlist_position"])
    assert answered_positions == list(range(1, 71))
    with sessions() as session:
        enrolled, positions = assert_quota_invariants(session, "PE")
    assert (enrolled, len(positions)) == (50, 70)


def test_withdrawals_racing_with_applications_keep_the_cap_and_the_order(live):
    base, sessions, token = live
    admin = {"Authorization": f"Bearer {token}"}
    first = run_at_once([apply_call(base, application("CL")) for _ in range(60)])
    assert all(r.status_code == 201 for r in first)
    enrolled_ids = [r.json()["enrolment_id"] for r in first if r.json()["status"] == "enrolled"]
    waitlisted_ids = [r.json()["enrolment_id"] for r in first if r.json()["status"] == "waitlisted"]

    def withdraw(enrolment_id: int) -> Callable[[httpx.Client], httpx.Response]:
        return lambda http: http.post(f"{base}/api/v1/enrolments/{enrolment_id}/withdraw",
                                      json={"reason": "se mudó"}, headers=admin)

    calls = [withdraw(i) for i in enrolled_ids[:15] + waitlisted_ids[:4]]
    calls += [apply_call(base, application("CL")) for _ in range(30)]
    responses = run_at_once(calls)

    assert not [r for r in responses if r.status_code >= 500]
    assert all(r.status_code == 200 for r in responses[:19])
    assert all(r.status_code == 201 for r in responses[19:])
    promoted = [r.json()["promoted_enrolment_id"] for r in responses[:19] if r.json()["promoted_enrolment_id"]]
    assert len(promoted) == len(set(promoted)), "nobody is promoted twice"
    with sessions() as session:
        enrolled, positions = assert_quota_invariants(session, "CL")
    # 60 + 30 applications, 19 withdrawn: 71 active women for 50 seats
    assert (enrolled, len(positions)) == (50, 21)


def test_the_same_withdrawal_sent_five_times_at_once_happens_once(live):
    base, sessions, token = live
    admin = {"Authorization": f"Bearer {token}"}
    with sessions() as session, session.begin():
        session.get_one(Country, "CO").capacity = 2  # two seats, one woman waiting
    created = run_at_once([apply_call(base, application("CO")) for _ in range(3)])
    target = next(r.json()["enrolment_id"] for r in created if r.json()["status"] == "enrolled")
    responses = run_at_once([
        lambda http: http.post(f"{base}/api/v1/enrolments/{target}/withdraw", json={"reason": "x"}, headers=admin)
        for _ in range(5)
    ])
    assert sorted(r.status_code for r in responses) == [200, 409, 409, 409, 409]
    assert [r.json()["promoted_enrolment_id"] for r in responses if r.status_code == 200] != [None]
    with sessions() as session:
        assert assert_quota_invariants(session, "CO") == (2, [])


def test_a_retried_application_with_one_idempotency_key_is_stored_once(live):
    base, sessions, _token = live
    body = application("MX")
    responses = run_at_once([apply_call(base, body, {"Idempotency-Key": "phone-retry-1"}) for _ in range(8)])
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["enrolment_id"] for r in responses}) == 1
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrolment)) == 1


def test_the_same_woman_applying_twice_at_once_gets_one_enrolment(live):
    base, sessions, _token = live
    body = application("PE")
    twin = {**body, "email": "otra@example.org"}  # same document, another email
    responses = run_at_once([apply_call(base, body), apply_call(base, twin)] * 3)
    codes = Counter(r.status_code for r in responses)
    assert codes == {201: 1, 409: 5}
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrolment)) == 1
