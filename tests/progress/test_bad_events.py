"""Events a real phone sends that the log cannot hold as they are, and events it can.

- bad bytes (NUL, lone surrogates, NaN/Infinity, deep nesting) reject that one event (``invalid_text``,
  ``invalid_number``, ``too_deep``) while the rest of the batch is accepted: a phone retrying the batch is never
  stuck, and the stored payloads never hold those values (PostgreSQL refuses NUL and NaN; neither database can
  encode a lone surrogate);
- fractional ``seconds`` (JavaScript timers) are accepted and rounded;
- an ``occurred_at`` before her enrolment (a clock reset to 1970, or year 1) is accepted and kept as sent, but
  what it completes is dated at her enrolment.
"""

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.i18n import EVENT_REASONS
from app.models import Enrolment
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, enrolled_since
from tests.progress.test_events import (
    BASE,
    at,
    completed,
    event_count,
    iso,
    lesson_of,
    module_of,
    parse,
    post_raw,
    progress,
    quiz,
    statuses,
    stored_events,
    viewed,
)

ENROLLED = BASE - timedelta(days=1)


@pytest.fixture
def learner(factory: Factory, catalogue: Catalogue, sessions: sessionmaker[Session]) -> Actor:
    actor = factory.participant("PE")
    enrolled_since(sessions, actor.participant_id, ENROLLED)
    return actor


def post_batch(client: TestClient, actor: Actor, raw_events: list[str], path: str = "events") -> list[dict[str, Any]]:
    """Posts events written as raw JSON text (``json.dumps`` cannot write ``NaN`` or ``"\\ud800"`` the way a
    phone's JavaScript or a hand-edited file can)."""
    response = post_raw(client, actor, '{"device_id": "tel-1", "events": [' + ", ".join(raw_events) + "]}", path)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    assert len(results) == len(raw_events)
    return results


def with_raw_payload(body: dict[str, Any], raw_payload: str) -> str:
    """The event as JSON text, its payload replaced by ``raw_payload``."""
    return json.dumps(body | {"payload": "@@"}).replace('"@@"', raw_payload)


BAD_PAYLOADS = [
    ("invalid_text", '{"seconds": 60, "note": "a\\u0000b"}'),
    ("invalid_text", '{"seconds": 60, "note": "\\ud800"}'),
    ("invalid_text", '{"seconds": 60, "\\udc00": 1}'),  # in a key
    ("invalid_number", '{"seconds": NaN}'),
    ("invalid_number", '{"seconds": 60, "speed": Infinity}'),
    ("invalid_number", '{"seconds": 60, "speed": -Infinity}'),
    ("invalid_number", '{"seconds": 60, "speed": 1e400}'),  # parses as infinity
    ("invalid_number", '{"seconds": 60, "n": ' + "9" * 5000 + "}"),  # past Python's integer digit limit
    ("too_deep", '{"seconds": 60, "x": ' + "[" * 40 + "]" * 40 + "}"),
]


@pytest.mark.parametrize("path", ["events", "import"])
@pytest.mark.parametrize(("reason", "raw_payload"), BAD_PAYLOADS)
def test_a_bad_payload_rejects_only_its_event(client: TestClient, sessions: sessionmaker[Session], learner: Actor,
                                              path: str, reason: str, raw_payload: str) -> None:
    good_before, good_after = viewed("saberes", "valor", 30, minute=1), completed("saberes", "valor", minute=2)
    bad = viewed("saberes", "valor", 0, minute=3)
    results = post_batch(client, learner, [json.dumps(good_before), with_raw_payload(bad, raw_payload),
                                           json.dumps(good_after)], path)
    assert statuses(results) == ["accepted", "rejected", "accepted"]
    assert (results[1]["event_id"], results[1]["reason"]) == (bad["event_id"], reason)
    stored = stored_events(sessions, learner.participant_id)
    assert [row.event_id for row in stored] == [good_before["event_id"], good_after["event_id"]]
    row = lesson_of(progress(client, learner), "saberes", "valor")
    assert (row["seconds"], parse(row["completed_at"])) == (30, at(2))
    # the phone retries the whole batch: nothing is stuck, nothing doubled
    again = post_batch(client, learner, [json.dumps(good_before), with_raw_payload(bad, raw_payload),
                                         json.dumps(good_after)], path)
    assert statuses(again) == ["duplicate", "rejected", "duplicate"]


@pytest.mark.parametrize(("field", "raw_value"), [
    ("module", '"saberes\\u0000"'),
    ("lesson", '"\\ud83e"'),  # half an emoji
    ("occurred_at", '"2026-01-10T10:00:00\\u0000Z"'),
    ("module_version", '"v\\u0000"'),
    ("extra", '"\\u0000"'),  # a field the API does not know is still refused, not stored
])
def test_bad_text_in_any_field_rejects_only_its_event(client: TestClient, sessions: sessionmaker[Session],
                                                       learner: Actor, field: str, raw_value: str) -> None:
    bad = json.dumps(completed("saberes", "valor", minute=1) | {field: "@@"}).replace('"@@"', raw_value)
    good = completed("precio", "cuentas", minute=2)
    results = post_batch(client, learner, [bad, json.dumps(good)])
    assert statuses(results) == ["rejected", "accepted"]
    assert results[0]["reason"] == "invalid_text"
    assert [row.event_id for row in stored_events(sessions, learner.participant_id)] == [good["event_id"]]


@pytest.mark.parametrize("raw_id", ['"\\u0000"', '"\\udfff"', '"6b1f8e0e-3c1a-4a55-9d7e-1b2c3d4e5f6\\u0000"'])
def test_a_bad_event_id_is_rejected_and_not_echoed(client: TestClient, learner: Actor, raw_id: str) -> None:
    bad = json.dumps(completed("saberes", "valor") | {"event_id": "@@"}).replace('"@@"', raw_id)
    results = post_batch(client, learner, [bad])
    assert results == [{"event_id": None, "status": "rejected", "reason": "invalid_text", "score": None,
                        "passed": None, "detail": EVENT_REASONS["invalid_text"]["es"]}]


@pytest.mark.parametrize("raw_device_id", ['"tel\\u0000"', '"\\ud800"'])
def test_a_bad_device_id_is_a_bad_envelope(client: TestClient, sessions: sessionmaker[Session], learner: Actor,
                                           raw_device_id: str) -> None:
    body = '{"device_id": ' + raw_device_id + ', "events": [' + json.dumps(completed("saberes", "valor")) + "]}"
    response = post_raw(client, learner, body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_device_id"
    assert event_count(sessions) == 0


@pytest.mark.parametrize("path", ["events", "import"])
def test_a_body_too_deep_to_parse_is_400_not_500(client: TestClient, sessions: sessionmaker[Session],
                                                 learner: Actor, path: str) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = post_raw(client, learner, '{"events": [' + deep + "]}", path)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_json"
    assert event_count(sessions) == 0


def test_a_quiz_with_nan_in_its_answers_is_rejected_alone(client: TestClient, learner: Actor,
                                                          catalogue: Catalogue) -> None:
    bad = with_raw_payload(quiz("saberes", "oficios", {}, minute=1), '{"answers": {"q1": [NaN]}}')
    good = quiz("saberes", "oficios", catalogue.oficios_right, minute=2)
    results = post_batch(client, learner, [bad, json.dumps(good)])
    assert statuses(results) == ["rejected", "accepted"]
    assert results[0]["reason"] == "invalid_number"
    assert results[1]["passed"] is True


# ---------------------------------------------------------------------------------------------------------------
# fractional seconds


@pytest.mark.parametrize(("sent", "counted"), [(12.4, 12), (12.5, 13), (0.2, 0), (59.999, 60), (1e9, 30 * 60),
                                               (7.0, 7)])
def test_fractional_seconds_are_accepted_and_rounded(client: TestClient, sessions: sessionmaker[Session],
                                                     learner: Actor, sent: float, counted: int) -> None:
    sent_event = viewed("saberes", "valor", sent, minute=1)
    results = post_batch(client, learner, [json.dumps(sent_event)])
    assert statuses(results) == ["accepted"]
    assert lesson_of(progress(client, learner), "saberes", "valor")["seconds"] == counted
    (row,) = stored_events(sessions, learner.participant_id)
    assert row.payload == {"seconds": sent}  # the log keeps what was sent
    assert statuses(post_batch(client, learner, [json.dumps(sent_event)])) == ["duplicate"]


@pytest.mark.parametrize("sent", [-0.5, "12.5"])
def test_negative_or_textual_seconds_are_still_rejected(client: TestClient, learner: Actor, sent: Any) -> None:
    results = post_batch(client, learner, [json.dumps(viewed("saberes", "valor", sent))])
    assert [(r["status"], r["reason"]) for r in results] == [("rejected", "invalid_seconds")]


# ---------------------------------------------------------------------------------------------------------------
# a clock before her enrolment


@pytest.mark.parametrize("occurred_at", ["1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
                                         "0001-01-01T00:00:00-05:00"])
def test_an_event_before_her_enrolment_counts_but_completes_at_her_enrolment(
        client: TestClient, sessions: sessionmaker[Session], learner: Actor, occurred_at: str) -> None:
    results = post_batch(client, learner, [json.dumps(completed("saberes", "valor", occurred_at=occurred_at)),
                                           json.dumps(viewed("saberes", "valor", 60, occurred_at=occurred_at))])
    assert statuses(results) == ["accepted", "accepted"]
    row = lesson_of(progress(client, learner), "saberes", "valor")
    assert (parse(row["completed_at"]), row["seconds"]) == (ENROLLED, 60)
    # the log keeps the time as the phone sent it
    sent = datetime.fromisoformat(occurred_at.replace("Z", "+00:00")).astimezone(UTC)
    assert {r.occurred_at for r in stored_events(sessions, learner.participant_id)} == {sent}
    assert {r.effective_at for r in stored_events(sessions, learner.participant_id)} == {ENROLLED}


def test_a_module_and_the_programme_completed_on_a_1970_clock_are_dated_at_her_enrolment(
        client: TestClient, learner: Actor, catalogue: Catalogue) -> None:
    epoch = "1970-01-01T00:00:00Z"
    events = [completed("saberes", "valor", occurred_at=epoch), completed("saberes", "oficios", occurred_at=epoch),
              quiz("saberes", "oficios", catalogue.oficios_right, occurred_at=epoch),
              completed("precio", "costos", occurred_at=epoch),
              quiz("precio", "costos", catalogue.costos_right, occurred_at=epoch),
              completed("precio", "cuentas", minute=5)]  # the clock fixed itself for the last one
    assert statuses(post_batch(client, learner, [json.dumps(e) for e in events])) == ["accepted"] * len(events)
    prog = progress(client, learner)
    assert parse(module_of(prog, "saberes")["completed_at"]) == ENROLLED
    assert parse(module_of(prog, "precio")["completed_at"]) == at(5)
    assert parse(prog["programme_completed_at"]) == at(5)


def test_an_event_after_her_enrolment_keeps_its_own_time(client: TestClient, learner: Actor) -> None:
    just_after = ENROLLED + timedelta(seconds=1)
    post_batch(client, learner, [json.dumps(completed("saberes", "valor", occurred_at=iso(just_after)))])
    assert parse(lesson_of(progress(client, learner), "saberes", "valor")["completed_at"]) == just_after


def test_the_floor_is_the_enrolment_that_gives_her_the_seat(
        client: TestClient, sessions: sessionmaker[Session], learner: Actor) -> None:
    """Enrolled from the waitlist: her seat dates from ``enrolled_at``, not from when she applied."""
    promoted = ENROLLED + timedelta(hours=6)
    with sessions() as session, session.begin():
        enrolment = session.scalars(select(Enrolment).where(Enrolment.participant_id == learner.participant_id)).one()
        enrolment.enrolled_at = promoted
    post_batch(client, learner, [json.dumps(completed("saberes", "valor", occurred_at="1970-01-01T00:00:00Z"))])
    assert parse(lesson_of(progress(client, learner), "saberes", "valor")["completed_at"]) == promoted


def test_her_enrolment_is_read_once_per_batch(client: TestClient, learner: Actor,
                                              sessions: sessionmaker[Session]) -> None:
    connection = sessions.kw["bind"]
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM enrolment" in statement:
            seen.append(statement)

    def reads_of_enrolment(n: int) -> int:
        seen.clear()
        batch = [json.dumps(viewed("saberes", "valor", 1, minute=i)) for i in range(n)]
        post_batch(client, learner, batch)
        return len(seen)

    event.listen(connection, "before_cursor_execute", count)
    try:
        assert reads_of_enrolment(1) == reads_of_enrolment(50)
    finally:
        event.remove(connection, "before_cursor_execute", count)
