"""Progress as a learner's devices send it, through HTTP: one result per event (accepted, duplicate, conflict,
rejected with a reason), the summaries derived from the log (seconds, completions, quiz scores, modules, the
programme), new content versions, the envelope's limits, and who may record and read progress.

The programme is the ``catalogue`` fixture's (tests/progress/conftest.py), built in code.
"""

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.models import ProgressEvent
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, enrolled_since, lesson

API = "/api/v1"
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)  # well in the past


# ---------------------------------------------------------------------------------------------------------------
# helpers


def at(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def event(kind: str, module: str, lesson_slug: str, payload: dict[str, Any] | None = None, *, minute: int = 0,
          occurred_at: str | None = None, event_id: str | None = None, version: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": event_id or str(uuid.uuid4()), "type": kind, "module": module, "lesson": lesson_slug,
        "occurred_at": occurred_at or iso(at(minute)), "payload": {} if payload is None else payload,
    }
    if version is not None:
        body["module_version"] = version
    return body


def viewed(module: str, lesson_slug: str, seconds: Any, **kw: Any) -> dict[str, Any]:
    return event("lesson_viewed", module, lesson_slug, {"seconds": seconds}, **kw)


def completed(module: str, lesson_slug: str, **kw: Any) -> dict[str, Any]:
    return event("lesson_completed", module, lesson_slug, **kw)


def quiz(module: str, lesson_slug: str, answers: Any, **kw: Any) -> dict[str, Any]:
    return event("quiz_submitted", module, lesson_slug, {"answers": answers}, **kw)


def send(client: TestClient, actor: Actor, *events: Any, path: str = "events") -> list[dict[str, Any]]:
    response = client.post(f"{API}/progress/{path}", json={"events": list(events)}, headers=actor.headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert len(results) == len(events)
    return results


def statuses(results: list[dict[str, Any]]) -> list[str]:
    return [r["status"] for r in results]


def progress(client: TestClient, actor: Actor) -> dict[str, Any]:
    response = client.get(f"{API}/me/progress", headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def module_of(prog: dict[str, Any], slug: str) -> dict[str, Any]:
    (found,) = [m for m in prog["modules"] if m["slug"] == slug]
    return found


def lesson_of(prog: dict[str, Any], module: str, slug: str) -> dict[str, Any]:
    (found,) = [row for row in module_of(prog, module)["lessons"] if row["slug"] == slug]
    return found


def stored_events(sessions: sessionmaker[Session], participant_id: int | None) -> list[ProgressEvent]:
    with sessions() as session:
        return list(session.scalars(select(ProgressEvent).where(ProgressEvent.participant_id == participant_id)
                                    .order_by(ProgressEvent.id)))


def event_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(ProgressEvent)) or 0


def me(client: TestClient, actor: Actor) -> dict[str, Any]:
    response = client.get(f"{API}/me", headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def complete_lesson(client: TestClient, actor: Actor, cat: Catalogue, module: str, slug: str, minute: int) -> None:
    """Completes one lesson at ``minute`` (and passes its quiz at the same minute)."""
    events = [completed(module, slug, minute=minute)]
    if (module, slug) == ("saberes", "oficios"):
        events.append(quiz(module, slug, cat.oficios_right, minute=minute))
    if (module, slug) == ("precio", "costos"):
        events.append(quiz(module, slug, cat.costos_right, minute=minute))
    assert statuses(send(client, actor, *events)) == ["accepted"] * len(events)


def complete_programme(client: TestClient, actor: Actor, cat: Catalogue) -> None:
    complete_lesson(client, actor, cat, "saberes", "valor", 1)
    complete_lesson(client, actor, cat, "saberes", "oficios", 2)
    complete_lesson(client, actor, cat, "precio", "costos", 3)
    complete_lesson(client, actor, cat, "precio", "cuentas", 4)


def walk_keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from walk_keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk_keys(item)


@pytest.fixture
def learner(factory: Factory, catalogue: Catalogue, sessions: sessionmaker[Session]) -> Actor:
    """Enrolled a day before the events of these tests (``BASE``) happen."""
    actor = factory.participant("PE")
    enrolled_since(sessions, actor.participant_id, BASE - timedelta(days=1))
    return actor


# ---------------------------------------------------------------------------------------------------------------
# one result per event


def test_each_event_type_is_accepted(client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    results = send(
        client, learner,
        viewed("saberes", "valor", 120),
        completed("saberes", "valor"),
        quiz("saberes", "oficios", catalogue.oficios_right),
    )
    assert statuses(results) == ["accepted"] * 3
    assert "reason" not in results[0] or results[0]["reason"] is None
    assert results[2]["score"] == 1.0
    assert results[2]["passed"] is True


def test_results_come_in_the_order_of_the_events(client: TestClient, learner: Actor) -> None:
    events = [viewed("saberes", "valor", 10, minute=i) for i in range(5)]
    results = send(client, learner, *events)
    assert [r["event_id"] for r in results] == [e["event_id"] for e in events]


def test_import_follows_the_same_rules(client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    first = completed("saberes", "valor")
    results = send(client, learner, first, quiz("saberes", "oficios", catalogue.oficios_wrong),
                   viewed("saberes", "nada", 5), path="import")
    assert statuses(results) == ["accepted", "accepted", "rejected"]
    assert results[1]["score"] == 0
    assert results[2]["reason"] == "unknown_lesson"
    # the offline export and the online path share one log
    assert statuses(send(client, learner, first)) == ["duplicate"]
    assert statuses(send(client, learner, first | {"occurred_at": iso(at(1))}, path="import")) == ["conflict"]
    assert lesson_of(progress(client, learner), "saberes", "valor")["completed_at"] is not None


def _without(key: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda e: {k: v for k, v in e.items() if k != key}


def _with(**changes: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda e: e | changes


def _payload(payload: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda e: e | {"payload": payload}


REJECTIONS: list[tuple[str, str, Callable[[dict[str, Any]], dict[str, Any]]]] = [
    # (reason, event type to start from, change)
    ("unknown_module", "lesson_viewed", _with(module="no-existe")),
    ("unknown_module", "lesson_viewed", _with(module="")),
    ("unknown_module", "lesson_viewed", _with(module=7)),
    ("unknown_module", "lesson_viewed", _without("module")),
    ("unknown_lesson", "lesson_viewed", _with(lesson="no-existe")),
    ("unknown_lesson", "lesson_viewed", _with(lesson="costos")),  # a lesson of another module
    ("unknown_lesson", "lesson_completed", _without("lesson")),
    ("unknown_version", "lesson_viewed", _with(module_version="0" * 64)),
    ("unknown_version", "lesson_viewed", _with(module_version="v1")),
    ("unknown_version", "lesson_viewed", _with(module_version=3)),
    ("unknown_type", "lesson_viewed", _with(type="lesson_started")),
    ("unknown_type", "lesson_viewed", _with(type=None)),
    ("unknown_type", "lesson_viewed", _without("type")),
    ("invalid_event_id", "lesson_viewed", _with(event_id="no-es-un-uuid")),
    ("invalid_event_id", "lesson_viewed", _with(event_id="")),
    ("invalid_event_id", "lesson_viewed", _with(event_id=12345)),
    ("invalid_event_id", "lesson_viewed", _with(event_id="x" * 200)),
    ("invalid_event_id", "lesson_viewed", _without("event_id")),
    ("invalid_occurred_at", "lesson_completed", _with(occurred_at="2026-01-10T10:00:00")),  # naive
    ("invalid_occurred_at", "lesson_completed", _with(occurred_at="ayer")),
    ("invalid_occurred_at", "lesson_completed", _with(occurred_at=1767000000)),
    ("invalid_occurred_at", "lesson_completed", _without("occurred_at")),
    # valid RFC 3339, but outside what UTC can represent: bad input, never a 500
    ("invalid_occurred_at", "lesson_completed", _with(occurred_at="9999-12-31T23:00:00-05:00")),
    ("invalid_occurred_at", "lesson_completed", _with(occurred_at="0001-01-01T00:00:00+05:00")),
    ("invalid_payload", "lesson_viewed", _payload([60])),
    ("invalid_payload", "lesson_completed", _payload("hecho")),
    ("invalid_seconds", "lesson_viewed", _payload({"seconds": -1})),
    ("invalid_seconds", "lesson_viewed", _payload({"seconds": "60"})),
    ("invalid_seconds", "lesson_viewed", _payload({"seconds": True})),
    ("invalid_seconds", "lesson_viewed", _payload({"seconds": None})),
    ("invalid_seconds", "lesson_viewed", _payload({})),
    ("lesson_has_no_quiz", "quiz_submitted", _with(lesson="valor")),
    ("invalid_answers", "quiz_submitted", _payload({"answers": {"nope": ["a"]}})),
    ("invalid_answers", "quiz_submitted", _payload({"answers": [["a"]]})),
    ("invalid_answers", "quiz_submitted", _payload({"answers": {"q1": "a"}})),
    ("invalid_answers", "quiz_submitted", _payload({"answers": {"q1": [1]}})),
    ("invalid_answers", "quiz_submitted", _payload({})),
]


def base_event(kind: str, cat: Catalogue) -> dict[str, Any]:
    match kind:
        case "lesson_viewed":
            return viewed("saberes", "valor", 60, minute=5)
        case "lesson_completed":
            return completed("saberes", "valor", minute=5)
        case _:
            return quiz("saberes", "oficios", cat.oficios_right, minute=5)


@pytest.mark.parametrize(("reason", "kind", "change"), REJECTIONS,
                         ids=[f"{reason}-{i}" for i, (reason, _k, _c) in enumerate(REJECTIONS)])
def test_a_bad_event_is_rejected_with_its_reason_and_the_others_still_count(
        client: TestClient, sessions: sessionmaker[Session], learner: Actor, catalogue: Catalogue, reason: str,
        kind: str, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    good = base_event(kind, catalogue)
    bad = change(good)
    results = send(client, learner, viewed("saberes", "extra", 30), bad, viewed("saberes", "extra", 40))
    assert statuses(results) == ["accepted", "rejected", "accepted"]
    assert results[1]["reason"] == reason
    expected_id = bad.get("event_id")
    assert results[1]["event_id"] == (expected_id if isinstance(expected_id, str) else None)
    assert results[1].get("score") is None
    assert len(stored_events(sessions, learner.participant_id)) == 2
    prog = progress(client, learner)
    assert lesson_of(prog, "saberes", "extra")["seconds"] == 70
    assert lesson_of(prog, "saberes", "valor") == {**lesson_of(prog, "saberes", "valor"), "seconds": 0,
                                                    "completed_at": None}
    assert lesson_of(prog, "saberes", "oficios")["quiz_best_score"] is None
    # the valid form of the same event is accepted afterwards: a rejection stored nothing under its id
    assert statuses(send(client, learner, good)) == ["accepted"]


@pytest.mark.parametrize("bad", ["evento", 42, None, [], [{"type": "lesson_viewed"}], True])
def test_an_event_that_is_not_an_object_is_malformed(client: TestClient, learner: Actor, bad: Any) -> None:
    results = send(client, learner, viewed("saberes", "valor", 10), bad, completed("saberes", "valor"))
    assert statuses(results) == ["accepted", "rejected", "accepted"]
    assert results[1]["reason"] == "malformed"
    assert results[1]["event_id"] is None


def test_many_bad_events_in_one_batch_never_fail_the_good_ones(
        client: TestClient, sessions: sessionmaker[Session], learner: Actor, catalogue: Catalogue) -> None:
    bads = [change(base_event(kind, catalogue)) for _reason, kind, change in REJECTIONS]
    goods = [viewed("saberes", "valor", 10, minute=i) for i in range(len(bads))]
    batch = [item for pair in zip(goods, bads, strict=True) for item in pair]
    results = send(client, learner, *batch)
    assert statuses(results) == ["accepted", "rejected"] * len(bads)
    assert [r["reason"] for r in results[1::2]] == [reason for reason, _k, _c in REJECTIONS]
    assert len(stored_events(sessions, learner.participant_id)) == len(goods)
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == 10 * len(goods)


def test_an_offset_timestamp_is_accepted_and_kept_in_utc(
        client: TestClient, sessions: sessionmaker[Session], learner: Actor) -> None:
    local = at(90).astimezone(timezone(timedelta(hours=-5)))  # e.g. 07:30 in Lima is 12:30 UTC
    sent = completed("saberes", "valor", occurred_at=local.isoformat())
    assert sent["occurred_at"].endswith("-05:00")
    assert statuses(send(client, learner, sent)) == ["accepted"]
    (row,) = stored_events(sessions, learner.participant_id)
    assert row.occurred_at == at(90)
    assert row.occurred_at.tzinfo == UTC
    assert parse(lesson_of(progress(client, learner), "saberes", "valor")["completed_at"]) == row.occurred_at
    # the same instant written another way is the same content
    assert statuses(send(client, learner, sent | {"occurred_at": iso(at(90))})) == ["duplicate"]


# ---------------------------------------------------------------------------------------------------------------
# duplicates and conflicts


def test_a_duplicate_changes_nothing(client: TestClient, sessions: sessionmaker[Session], learner: Actor,
                                     catalogue: Catalogue) -> None:
    batch = [viewed("saberes", "valor", 300), completed("saberes", "valor", minute=3),
             quiz("saberes", "oficios", catalogue.oficios_wrong, minute=4),
             quiz("saberes", "oficios", catalogue.oficios_right, minute=5)]
    first = send(client, learner, *batch)
    assert statuses(first) == ["accepted"] * 4
    before, rows_before = progress(client, learner), event_count(sessions)

    again = send(client, learner, *batch)
    assert statuses(again) == ["duplicate"] * 4
    assert [r["event_id"] for r in again] == [e["event_id"] for e in batch]
    # a repeated quiz answers with the stored score
    assert [(r["score"], r["passed"]) for r in again[2:]] == [(0.0, False), (1.0, True)]
    assert progress(client, learner) == before
    assert event_count(sessions) == rows_before
    assert lesson_of(before, "saberes", "oficios")["quiz_attempts"] == 2


def test_a_repeat_inside_one_batch_is_a_duplicate(client: TestClient, sessions: sessionmaker[Session],
                                                  learner: Actor) -> None:
    one = viewed("saberes", "valor", 100)
    results = send(client, learner, one, one, dict(one))
    assert statuses(results) == ["accepted", "duplicate", "duplicate"]
    assert len(stored_events(sessions, learner.participant_id)) == 1
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == 100


def test_the_event_id_is_case_insensitive(client: TestClient, learner: Actor) -> None:
    one = viewed("saberes", "valor", 100)
    assert statuses(send(client, learner, one)) == ["accepted"]
    assert statuses(send(client, learner, one | {"event_id": one["event_id"].upper()})) == ["duplicate"]
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == 100


CONFLICTS: list[Callable[[dict[str, Any]], dict[str, Any]]] = [
    _with(payload={"seconds": 999}),
    _with(payload={"seconds": 100, "extra": 1}),
    _with(occurred_at=iso(at(60))),
    _with(lesson="extra"),
    _with(module="precio", lesson="cuentas"),
    _with(type="lesson_completed", payload={}),
]


@pytest.mark.parametrize("change", CONFLICTS)
def test_a_conflict_changes_nothing(client: TestClient, sessions: sessionmaker[Session], learner: Actor,
                                    catalogue: Catalogue, change: Callable[[dict[str, Any]], dict[str, Any]]) -> None:
    original = viewed("saberes", "valor", 100, minute=1)
    assert statuses(send(client, learner, original)) == ["accepted"]
    before, rows_before = progress(client, learner), event_count(sessions)

    results = send(client, learner, change(original))
    assert statuses(results) == ["conflict"]
    assert results[0]["event_id"] == original["event_id"]
    assert results[0]["reason"]
    assert progress(client, learner) == before
    assert event_count(sessions) == rows_before
    (row,) = stored_events(sessions, learner.participant_id)
    assert (row.type, row.module, row.lesson, row.payload) == ("lesson_viewed", "saberes", "valor", {"seconds": 100})
    # and the original, sent again, is still a duplicate
    assert statuses(send(client, learner, original)) == ["duplicate"]


def test_a_conflicting_quiz_keeps_the_first_score(client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    wrong = quiz("saberes", "oficios", catalogue.oficios_wrong)
    assert send(client, learner, wrong)[0]["score"] == 0
    results = send(client, learner, wrong | {"payload": {"answers": catalogue.oficios_right}})
    assert statuses(results) == ["conflict"]
    assert results[0].get("score") is None
    row = lesson_of(progress(client, learner), "saberes", "oficios")
    assert (row["quiz_best_score"], row["quiz_passed"], row["quiz_attempts"]) == (0, False, 1)


def test_a_conflict_inside_one_batch(client: TestClient, sessions: sessionmaker[Session], learner: Actor) -> None:
    one = viewed("saberes", "valor", 100)
    results = send(client, learner, one, one | {"payload": {"seconds": 5}})
    assert statuses(results) == ["accepted", "conflict"]
    assert len(stored_events(sessions, learner.participant_id)) == 1
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == 100


def test_event_ids_are_per_participant(client: TestClient, factory: Factory, learner: Actor) -> None:
    other = factory.participant("CL")
    shared_id = str(uuid.uuid4())
    assert statuses(send(client, learner, viewed("saberes", "valor", 100, event_id=shared_id))) == ["accepted"]
    # the same id from another woman is her own event, even with other content
    assert statuses(send(client, other, viewed("saberes", "valor", 50, event_id=shared_id))) == ["accepted"]
    assert statuses(send(client, other, completed("saberes", "valor", event_id=shared_id))) == ["conflict"]
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == 100
    assert lesson_of(progress(client, other), "saberes", "valor")["seconds"] == 50


# ---------------------------------------------------------------------------------------------------------------
# time


def test_a_future_timestamp_is_accepted_but_a_completion_is_dated_by_its_arrival(
        client: TestClient, sessions: sessionmaker[Session], learner: Actor) -> None:
    future = datetime.now(UTC) + timedelta(days=3)
    before = datetime.now(UTC)
    results = send(client, learner, completed("saberes", "valor", occurred_at=iso(future)),
                   viewed("saberes", "valor", 60, occurred_at=iso(future)))
    after = datetime.now(UTC)
    assert statuses(results) == ["accepted", "accepted"]
    row = lesson_of(progress(client, learner), "saberes", "valor")
    completed_at = parse(row["completed_at"])
    assert completed_at is not None
    assert before - timedelta(seconds=1) <= completed_at <= after
    assert row["seconds"] == 60
    # the device's own time is kept in the log, next to the server's
    stored = stored_events(sessions, learner.participant_id)[0]
    assert stored.occurred_at == future
    assert stored.received_at <= after


def test_a_completion_is_dated_by_the_earliest_event(client: TestClient, learner: Actor) -> None:
    send(client, learner, completed("saberes", "valor", minute=50))
    assert parse(lesson_of(progress(client, learner), "saberes", "valor")["completed_at"]) == at(50)
    # an earlier completion arriving later (an offline phone) moves it earlier; a later one does not
    send(client, learner, completed("saberes", "valor", minute=20), completed("saberes", "valor", minute=70))
    assert parse(lesson_of(progress(client, learner), "saberes", "valor")["completed_at"]) == at(20)


# ---------------------------------------------------------------------------------------------------------------
# viewed time and quizzes


def test_viewed_seconds_add_up_per_event_each_capped_at_30_minutes(client: TestClient, learner: Actor) -> None:
    results = send(client, learner, *(viewed("saberes", "valor", s, minute=i)
                                      for i, s in enumerate([100, 1800, 1801, 5000, 0])))
    assert statuses(results) == ["accepted"] * 5
    row = lesson_of(progress(client, learner), "saberes", "valor")
    assert row["seconds"] == 100 + 1800 + 1800 + 1800 + 0
    assert row["completed_at"] is None  # viewing is not completing
    send(client, learner, viewed("saberes", "valor", 20))
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == 5520


def test_a_tab_left_open_for_days_counts_30_minutes(client: TestClient, learner: Actor) -> None:
    results = send(client, learner, viewed("saberes", "valor", 3 * 24 * 3600), viewed("saberes", "valor", 86401))
    assert statuses(results) == ["accepted", "accepted"]
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == 2 * 1800


def test_the_score_is_the_servers_own(client: TestClient, sessions: sessionmaker[Session], learner: Actor,
                                      catalogue: Catalogue) -> None:
    cheat = quiz("saberes", "oficios", catalogue.oficios_wrong)
    cheat["payload"] |= {"score": 1.0, "passed": True}
    cheat["score"], cheat["passed"] = 1.0, True
    results = send(client, learner, cheat)
    assert statuses(results) == ["accepted"]
    assert (results[0]["score"], results[0]["passed"]) == (0, False)
    row = lesson_of(progress(client, learner), "saberes", "oficios")
    assert (row["quiz_best_score"], row["quiz_passed"]) == (0, False)
    (stored,) = stored_events(sessions, learner.participant_id)
    assert (stored.score, stored.passed) == (0, False)


def test_partial_answers_are_scored(client: TestClient, learner: Actor) -> None:
    # q1 right, q2 half (one of two right), q3 unanswered: 1.5 / 3
    results = send(client, learner, quiz("saberes", "oficios", {"q1": ["a"], "q2": ["a"]}))
    assert results[0]["score"] == pytest.approx(0.5)
    assert results[0]["passed"] is False
    # an empty answer sheet is a valid attempt that scores zero
    results = send(client, learner, quiz("saberes", "oficios", {}))
    assert (results[0]["status"], results[0]["score"]) == ("accepted", 0)


def test_best_score_is_the_maximum_and_every_attempt_is_kept(
        client: TestClient, sessions: sessionmaker[Session], learner: Actor, catalogue: Catalogue) -> None:
    attempts = [
        quiz("saberes", "oficios", catalogue.oficios_wrong, minute=1),
        quiz("saberes", "oficios", {"q1": ["a"], "q2": ["a", "b"], "q3": ["f"]}, minute=2),  # 2/3
        quiz("saberes", "oficios", catalogue.oficios_right, minute=3),
        quiz("saberes", "oficios", {"q1": ["a"]}, minute=4),  # 1/3: a worse attempt after the best
    ]
    results = send(client, learner, *attempts)
    scores = [r["score"] for r in results]
    assert scores == pytest.approx([0, 2 / 3, 1, 1 / 3], abs=1e-4)
    assert [r["passed"] for r in results] == [False, True, True, False]
    row = lesson_of(progress(client, learner), "saberes", "oficios")
    assert row["quiz_best_score"] == 1.0
    assert row["quiz_passed"] is True
    assert row["quiz_attempts"] == 4
    stored = stored_events(sessions, learner.participant_id)
    assert [(e.type, e.payload["answers"]) for e in stored] == [("quiz_submitted", a["payload"]["answers"])
                                                                  for a in attempts]
    assert [e.score for e in stored] == pytest.approx([0, 2 / 3, 1, 1 / 3], abs=1e-4)


# ---------------------------------------------------------------------------------------------------------------
# completion: lessons, modules, the programme


def test_a_lesson_with_a_quiz_needs_its_completion_and_a_passed_quiz_completion_first(
        client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    send(client, learner, completed("saberes", "oficios", minute=10))
    assert lesson_of(progress(client, learner), "saberes", "oficios")["completed_at"] is None
    send(client, learner, quiz("saberes", "oficios", catalogue.oficios_wrong, minute=20))
    row = lesson_of(progress(client, learner), "saberes", "oficios")
    assert (row["completed_at"], row["quiz_passed"]) == (None, False)
    send(client, learner, quiz("saberes", "oficios", catalogue.oficios_right, minute=30))
    row = lesson_of(progress(client, learner), "saberes", "oficios")
    assert row["quiz_passed"] is True
    assert parse(row["completed_at"]) == at(30)  # complete when both are: at the later of the two


def test_a_lesson_with_a_quiz_needs_its_completion_and_a_passed_quiz_quiz_first(
        client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    send(client, learner, quiz("saberes", "oficios", catalogue.oficios_right, minute=10))
    row = lesson_of(progress(client, learner), "saberes", "oficios")
    assert (row["completed_at"], row["quiz_passed"]) == (None, True)
    send(client, learner, completed("saberes", "oficios", minute=40))
    assert parse(lesson_of(progress(client, learner), "saberes", "oficios")["completed_at"]) == at(40)


def test_a_lesson_without_a_quiz_is_complete_on_completion(client: TestClient, learner: Actor) -> None:
    send(client, learner, completed("saberes", "valor", minute=7))
    row = lesson_of(progress(client, learner), "saberes", "valor")
    assert parse(row["completed_at"]) == at(7)
    assert row["quiz_passed"] is None
    assert row["quiz_best_score"] is None


def test_a_module_completes_with_its_required_lessons(client: TestClient, learner: Actor,
                                                     catalogue: Catalogue) -> None:
    prog = progress(client, learner)
    saberes = module_of(prog, "saberes")
    assert (saberes["completed_lessons"], saberes["total_lessons"], saberes["percent"]) == (0, 3, 0)
    assert saberes["completed_at"] is None

    send(client, learner, completed("saberes", "valor", minute=30))
    saberes = module_of(progress(client, learner), "saberes")
    # one of the two required lessons: half way, whatever the optional lesson
    assert (saberes["completed_lessons"], saberes["percent"], saberes["completed_at"]) == (1, 50, None)

    send(client, learner, quiz("saberes", "oficios", catalogue.oficios_right, minute=10),
         completed("saberes", "oficios", minute=20))
    saberes = module_of(progress(client, learner), "saberes")
    # the optional lesson "extra" does not block; completed when the last required lesson was
    assert (saberes["completed_lessons"], saberes["percent"]) == (2, 100)
    assert parse(saberes["completed_at"]) == at(30)
    assert lesson_of(progress(client, learner), "saberes", "extra")["completed_at"] is None

    send(client, learner, completed("saberes", "extra", minute=90))
    saberes = module_of(progress(client, learner), "saberes")
    assert (saberes["completed_lessons"], saberes["percent"]) == (3, 100)
    assert parse(saberes["completed_at"]) == at(30)  # an optional lesson does not move it
    assert module_of(progress(client, learner), "precio")["completed_at"] is None


def test_an_optional_lesson_alone_does_not_complete_a_module(client: TestClient, learner: Actor) -> None:
    send(client, learner, completed("saberes", "extra"))
    assert module_of(progress(client, learner), "saberes")["completed_at"] is None


def test_the_programme_completes_with_its_required_modules(client: TestClient, sessions: sessionmaker[Session],
                                                          learner: Actor, catalogue: Catalogue) -> None:
    assert me(client, learner)["enrolment"]["status"] == "enrolled"
    complete_lesson(client, learner, catalogue, "saberes", "valor", 5)
    complete_lesson(client, learner, catalogue, "saberes", "oficios", 15)
    complete_lesson(client, learner, catalogue, "precio", "cuentas", 25)
    prog = progress(client, learner)
    assert prog["programme_completed"] is False
    assert prog.get("programme_completed_at") is None
    assert me(client, learner)["enrolment"]["status"] == "enrolled"

    complete_lesson(client, learner, catalogue, "precio", "costos", 10)  # the last to arrive, not the latest
    prog = progress(client, learner)
    assert parse(module_of(prog, "saberes")["completed_at"]) == at(15)
    assert parse(module_of(prog, "precio")["completed_at"]) == at(25)
    assert module_of(prog, "ferias")["completed_at"] is None  # optional module
    assert prog["programme_completed"] is True
    assert parse(prog["programme_completed_at"]) == at(25)
    assert me(client, learner)["enrolment"]["status"] == "completed"

    # she keeps her seat and goes on studying
    assert client.get(f"{API}/modules/ferias", headers=learner.headers).status_code == 200
    results = send(client, learner, completed("ferias", "mercados", minute=40), viewed("saberes", "extra", 30))
    assert statuses(results) == ["accepted", "accepted"]
    prog = progress(client, learner)
    assert parse(module_of(prog, "ferias")["completed_at"]) == at(40)
    assert parse(prog["programme_completed_at"]) == at(25)
    # an earlier completion arriving late moves the programme's date earlier, never later
    complete_lesson(client, learner, catalogue, "precio", "cuentas", 12)
    prog = progress(client, learner)
    assert parse(module_of(prog, "precio")["completed_at"]) == at(12)
    assert parse(prog["programme_completed_at"]) == at(15)
    assert me(client, learner)["enrolment"]["status"] == "completed"


def test_she_and_her_staff_read_the_same_progress(
        client: TestClient, factory: Factory, learner: Actor, catalogue: Catalogue) -> None:
    complete_programme(client, learner, catalogue)
    own = progress(client, learner)
    for reader in (learner, factory.coordinator("PE"), factory.admin()):
        response = client.get(f"{API}/participants/{learner.participant_id}/progress", headers=reader.headers)
        assert response.status_code == 200, response.text
        assert response.json() == own


# ---------------------------------------------------------------------------------------------------------------
# new content versions


def test_a_new_version_never_takes_a_completion_away(client: TestClient, sessions: sessionmaker[Session],
                                                     learner: Actor, catalogue: Catalogue) -> None:
    old = catalogue.versions["saberes"]
    complete_programme(client, learner, catalogue)
    send(client, learner, completed("saberes", "extra", minute=6))
    before = progress(client, learner)
    assert before["programme_completed"] is True

    # a lesson's text changes, a required lesson is added, the optional one removed, and q1's right answer changes
    spec = catalogue.specs["saberes"]
    valor, oficios, _extra = spec.lessons
    assert oficios.quiz is not None
    q1, *others = oficios.quiz.questions
    new_q1 = replace(q1, options=tuple(replace(o, correct=o.id == "b") for o in q1.options))
    new_oficios = replace(oficios, quiz=replace(oficios.quiz, questions=(new_q1, *others)))
    new_valor = replace(valor, html="<p>Texto nuevo.</p>")
    new = catalogue.load(catalogue.changed("saberes", lessons=(new_valor, new_oficios, lesson("nuevo", 4))))
    assert new["saberes"] != old

    detail = client.get(f"{API}/modules/saberes", headers=learner.headers).json()
    assert detail["version"] == new["saberes"]
    assert [row["slug"] for row in detail["lessons"]] == ["valor", "oficios", "nuevo"]

    after = progress(client, learner)
    saberes_before, saberes_after = module_of(before, "saberes"), module_of(after, "saberes")
    assert saberes_after["completed_at"] == saberes_before["completed_at"]
    assert lesson_of(after, "saberes", "valor") == lesson_of(before, "saberes", "valor")
    assert lesson_of(after, "saberes", "oficios") == lesson_of(before, "saberes", "oficios")
    assert lesson_of(after, "saberes", "nuevo")["completed_at"] is None
    assert (saberes_after["completed_lessons"], saberes_after["total_lessons"]) == (2, 3)
    assert after["programme_completed"] is True
    assert after["programme_completed_at"] == before["programme_completed_at"]
    assert me(client, learner)["enrolment"]["status"] == "completed"

    # events naming the old version still count, and their quiz is scored against it
    results = send(
        client, learner,
        quiz("saberes", "oficios", catalogue.oficios_right, version=old),  # right in the old version
        quiz("saberes", "oficios", catalogue.oficios_right),  # q1 is now wrong: 2/3
        quiz("saberes", "oficios", {"q1": ["b"]}, version=old),
        quiz("saberes", "oficios", {"q1": ["b"]}, version=new["saberes"]),
        viewed("saberes", "extra", 60, version=old),  # a lesson only the old version has
        viewed("saberes", "extra", 60),
        completed("saberes", "nuevo", version=old),  # a lesson only the new version has
        viewed("saberes", "valor", 45),
    )
    assert statuses(results) == ["accepted"] * 4 + ["accepted", "rejected", "rejected", "accepted"]
    assert [r["score"] for r in results[:4]] == pytest.approx([1, 2 / 3, 0, 1 / 3], abs=1e-4)
    assert (results[5]["reason"], results[6]["reason"]) == ("unknown_lesson", "unknown_lesson")
    stored = {e.event_id: e for e in stored_events(sessions, learner.participant_id)}
    assert stored[results[0]["event_id"]].module_version == old
    assert stored[results[1]["event_id"]].module_version == new["saberes"]  # omitted: the current one
    assert stored[results[7]["event_id"]].module_version == new["saberes"]
    row = lesson_of(progress(client, learner), "saberes", "valor")
    assert row["seconds"] == lesson_of(before, "saberes", "valor")["seconds"] + 45
    assert lesson_of(progress(client, learner), "saberes", "oficios")["quiz_attempts"] == 5

    # the added lesson completes the module's new version; the module keeps its first completion
    send(client, learner, completed("saberes", "nuevo", minute=100, version=new["saberes"]))
    after = progress(client, learner)
    assert module_of(after, "saberes")["completed_lessons"] == 3
    assert module_of(after, "saberes")["completed_at"] == saberes_before["completed_at"]


def test_a_lesson_without_a_quiz_in_the_old_version_is_done_when_its_old_completion_arrived(
        client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    """A new version that adds a quiz to a completed lesson does not undo that lesson's completion."""
    send(client, learner, completed("precio", "cuentas", minute=3))
    spec = catalogue.specs["precio"]
    costos, cuentas = spec.lessons
    assert costos.quiz is not None
    new_cuentas = replace(cuentas, quiz=costos.quiz)
    catalogue.load(catalogue.changed("precio", lessons=(costos, new_cuentas)))
    row = lesson_of(progress(client, learner), "precio", "cuentas")
    assert parse(row["completed_at"]) == at(3)
    # and further events on it keep it complete, though the quiz is not passed
    send(client, learner, quiz("precio", "cuentas", catalogue.costos_wrong, minute=4))
    row = lesson_of(progress(client, learner), "precio", "cuentas")
    assert parse(row["completed_at"]) == at(3)
    assert row["quiz_passed"] is False


def test_a_lesson_made_optional_by_a_new_version_no_longer_blocks_its_module(
        client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    send(client, learner, completed("saberes", "valor", minute=5))
    valor, oficios, extra = catalogue.specs["saberes"].lessons
    catalogue.load(catalogue.changed("saberes", lessons=(valor, replace(oficios, required=False), extra)))
    # her next event in the module finds every required lesson complete
    send(client, learner, viewed("saberes", "valor", 30, minute=9))
    saberes = module_of(progress(client, learner), "saberes")
    assert parse(saberes["completed_at"]) == at(5)


def test_a_module_made_optional_by_a_new_version_no_longer_blocks_the_programme(
        client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    complete_lesson(client, learner, catalogue, "saberes", "valor", 5)
    complete_lesson(client, learner, catalogue, "saberes", "oficios", 6)
    assert progress(client, learner)["programme_completed"] is False  # "precio" is still required
    catalogue.load(catalogue.changed("precio", required=False))
    send(client, learner, viewed("saberes", "extra", 30, minute=9))
    prog = progress(client, learner)
    assert prog["programme_completed"] is True
    assert parse(prog["programme_completed_at"]) == at(6)
    assert me(client, learner)["enrolment"]["status"] == "completed"


def test_a_retry_across_a_new_version_is_still_a_duplicate(
        client: TestClient, sessions: sessionmaker[Session], learner: Actor, catalogue: Catalogue) -> None:
    """A phone retries an event (without ``module_version``) after new content was loaded: the same event."""
    old = catalogue.versions["saberes"]
    sent = quiz("saberes", "oficios", catalogue.oficios_right)
    assert send(client, learner, sent)[0]["score"] == 1.0
    valor, oficios, extra = catalogue.specs["saberes"].lessons
    catalogue.load(catalogue.changed("saberes", lessons=(replace(valor, html="<p>Otro.</p>"), oficios, extra)))
    assert catalogue.versions["saberes"] != old
    results = send(client, learner, sent)
    assert (results[0]["status"], results[0]["score"]) == ("duplicate", 1.0)
    (row,) = stored_events(sessions, learner.participant_id)
    assert row.module_version == old


def test_reloading_unchanged_content_changes_no_version(client: TestClient, learner: Actor,
                                                        catalogue: Catalogue) -> None:
    old = dict(catalogue.versions)
    assert catalogue.load(*catalogue.specs.values()) == old
    assert statuses(send(client, learner, completed("saberes", "valor", version=old["saberes"]))) == ["accepted"]


# ---------------------------------------------------------------------------------------------------------------
# the envelope


def post_raw(client: TestClient, actor: Actor, content: Any, path: str = "events",
             **headers: str) -> Any:
    return client.post(f"{API}/progress/{path}", content=content,
                       headers={**actor.headers, "Content-Type": "application/json", **headers})


@pytest.mark.parametrize("path", ["events", "import"])
@pytest.mark.parametrize(
    "body",
    [b"", b"{", b"no es json", b"\xff\xfe", b"null", b"[]", b"{}", b'{"events": {}}', b'{"events": "x"}',
     b'{"events": null}', b'{"eventos": []}', b'[{"events": []}]', b'"events"', b'{"events": [], "device_id": 5}'],
)
def test_a_bad_envelope_is_400(client: TestClient, sessions: sessionmaker[Session], learner: Actor, path: str,
                               body: bytes) -> None:
    response = post_raw(client, learner, body, path)
    assert response.status_code == 400, response.text
    assert set(response.json()) >= {"error", "detail"}
    assert event_count(sessions) == 0


def test_an_empty_list_is_fine(client: TestClient, learner: Actor) -> None:
    response = client.post(f"{API}/progress/events", json={"events": [], "device_id": "tel-1"},
                           headers=learner.headers)
    assert response.status_code == 200
    assert response.json() == {"results": []}


@pytest.mark.parametrize("path", ["events", "import"])
def test_more_than_500_events_is_413(client: TestClient, sessions: sessionmaker[Session], learner: Actor,
                                     path: str) -> None:
    events = [viewed("saberes", "valor", 1, minute=i) for i in range(501)]
    response = client.post(f"{API}/progress/{path}", json={"events": events}, headers=learner.headers)
    assert response.status_code == 413, response.text
    assert set(response.json()) >= {"error", "detail"}
    assert event_count(sessions) == 0

    results = send(client, learner, *events[:500], path=path)
    assert statuses(results) == ["accepted"] * 500
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == 500


def test_a_body_over_1_mb_is_413(client: TestClient, sessions: sessionmaker[Session], learner: Actor) -> None:
    padding = "x" * 1_000_100
    big = json.dumps({"events": [viewed("saberes", "valor", 10)], "device_id": None, "pad": padding}).encode()
    response = post_raw(client, learner, big)
    assert response.status_code == 413, response.text
    assert set(response.json()) >= {"error", "detail"}

    # also when the length is not declared up front (chunked)
    def chunks() -> Iterator[bytes]:
        for start in range(0, len(big), 64 * 1024):
            yield big[start:start + 64 * 1024]

    response = post_raw(client, learner, chunks())
    assert response.status_code == 413, response.text

    # a big event inside the limit is fine
    event_in_limit = viewed("saberes", "valor", 10)
    event_in_limit["payload"]["nota"] = "x" * 900_000
    assert statuses(send(client, learner, event_in_limit)) == ["accepted"]
    assert event_count(sessions) == 1


# ---------------------------------------------------------------------------------------------------------------
# who may record and read


def waitlisted(client: TestClient, factory: Factory) -> Actor:
    admin = factory.admin()
    countries = client.get(f"{API}/countries").json()
    (peru,) = [c for c in countries if c["code"] == "PE"]
    response = client.patch(f"{API}/countries/PE", json={"capacity": peru["enrolled"]}, headers=admin.headers)
    assert response.status_code == 200, response.text
    actor = factory.participant("PE")
    assert me(client, actor)["enrolment"]["status"] == "waitlisted"
    return actor


def withdrawn(client: TestClient, factory: Factory) -> Actor:
    actor = factory.participant("PE")
    response = client.post(f"{API}/enrolments/{actor.enrolment_id}/withdraw", json={"reason": "Cambio de planes"},
                           headers=actor.headers)
    assert response.status_code == 200, response.text
    assert me(client, actor)["enrolment"]["status"] == "withdrawn"
    return actor


@pytest.mark.parametrize("make", [waitlisted, withdrawn])
def test_a_participant_without_a_seat_may_not_study(client: TestClient, factory: Factory, catalogue: Catalogue,
                                                    sessions: sessionmaker[Session],
                                                    make: Callable[[TestClient, Factory], Actor]) -> None:
    actor = make(client, factory)
    for path in ("events", "import"):
        response = client.post(f"{API}/progress/{path}", json={"events": [viewed("saberes", "valor", 10)]},
                               headers=actor.headers)
        assert response.status_code == 403, response.text
        assert response.json()["error"] == "forbidden"
    assert client.get(f"{API}/me/progress", headers=actor.headers).status_code == 403
    assert client.get(f"{API}/modules/saberes", headers=actor.headers).status_code == 403
    assert client.get(f"{API}/modules/saberes/lessons/valor", headers=actor.headers).status_code == 403
    assert event_count(sessions) == 0
    # the public curriculum stays open to her
    assert client.get(f"{API}/modules", headers=actor.headers).status_code == 200


def test_staff_read_content_but_record_no_progress(client: TestClient, factory: Factory,
                                                   catalogue: Catalogue) -> None:
    for actor in (factory.coordinator("PE"), factory.coordinator("MX"), factory.admin()):
        for path in ("events", "import"):
            response = client.post(f"{API}/progress/{path}", json={"events": [viewed("saberes", "valor", 10)]},
                                   headers=actor.headers)
            assert response.status_code == 403, response.text
        assert client.get(f"{API}/me/progress", headers=actor.headers).status_code == 403
        assert client.get(f"{API}/modules/saberes", headers=actor.headers).status_code == 200
        response = client.get(f"{API}/modules/saberes/lessons/oficios", headers=actor.headers)
        assert response.status_code == 200
        assert response.json()["quiz"]["pass_mark"] == 0.6


def test_anonymous_callers_are_401(client: TestClient, learner: Actor) -> None:
    assert client.post(f"{API}/progress/events", json={"events": []}).status_code == 401
    assert client.post(f"{API}/progress/import", json={"events": []}).status_code == 401
    assert client.get(f"{API}/me/progress").status_code == 401
    assert client.get(f"{API}/participants/{learner.participant_id}/progress").status_code == 401
    assert client.get(f"{API}/modules/saberes").status_code == 401
    assert client.get(f"{API}/modules/saberes/lessons/valor").status_code == 401


def test_progress_reads_are_scoped(client: TestClient, factory: Factory, learner: Actor) -> None:
    send(client, learner, viewed("saberes", "valor", 10))
    other = factory.participant("PE")
    url = f"{API}/participants/{learner.participant_id}/progress"
    expected = {
        "self": (learner, 200),
        "other participant": (other, 404),
        "coordinator same country": (factory.coordinator("PE"), 200),
        "coordinator other country": (factory.coordinator("CL"), 404),
        "admin": (factory.admin(), 200),
    }
    for who, (actor, status) in expected.items():
        response = client.get(url, headers=actor.headers)
        assert response.status_code == status, (who, response.text)
        if status == 200:
            assert lesson_of(response.json(), "saberes", "valor")["seconds"] == 10, who
        else:
            assert response.json()["error"] == "not_found"
    # an id that does not exist looks the same as one outside the scope
    missing = client.get(f"{API}/participants/999999/progress", headers=factory.coordinator("PE").headers)
    assert missing.status_code == 404


def test_a_participant_sees_her_own_progress_only(client: TestClient, factory: Factory, learner: Actor) -> None:
    other = factory.participant("PE")
    send(client, learner, viewed("saberes", "valor", 10))
    assert lesson_of(progress(client, other), "saberes", "valor")["seconds"] == 0
    mine = client.get(f"{API}/participants/{learner.participant_id}/progress", headers=learner.headers)
    assert mine.json() == progress(client, learner)


def test_lessons_never_show_the_answers(client: TestClient, factory: Factory, learner: Actor,
                                        catalogue: Catalogue) -> None:
    for actor in (learner, factory.coordinator("PE"), factory.admin()):
        for slug, spec in catalogue.specs.items():
            detail = client.get(f"{API}/modules/{slug}", headers=actor.headers)
            assert detail.status_code == 200
            assert "correct" not in set(walk_keys(detail.json()))
            for item in spec.lessons:
                response = client.get(f"{API}/modules/{slug}/lessons/{item.slug}", headers=actor.headers)
                assert response.status_code == 200, response.text
                body = response.json()
                assert "correct" not in set(walk_keys(body))
                assert '"correct"' not in response.text
                if item.quiz is not None:
                    assert [q["id"] for q in body["quiz"]["questions"]] == [q.id for q in item.quiz.questions]
                    assert body["quiz"]["questions"][0]["options"][0].keys() == {"id", "text"}
                else:
                    assert body.get("quiz") is None
    assert "correct" not in set(walk_keys(client.get(f"{API}/modules").json()))


def test_unknown_content_is_404(client: TestClient, learner: Actor) -> None:
    assert client.get(f"{API}/modules/no-existe", headers=learner.headers).status_code == 404
    assert client.get(f"{API}/modules/saberes/lessons/no-existe", headers=learner.headers).status_code == 404
    assert client.get(f"{API}/modules/saberes/lessons/costos", headers=learner.headers).status_code == 404
