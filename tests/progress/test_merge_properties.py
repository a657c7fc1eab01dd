"""The summaries are a function of the set of events, not of their order: any permutation of an event stream,
with any events repeated and split into any batches, gives the same progress as the stream sent in order.

Two participants of the same test: A receives the stream in order, one event per request; B the shuffled,
repeated, re-batched stream. Their progress (without the participant id) must be equal. Each example runs in a
SAVEPOINT that is rolled back, so the next example starts from nothing.

The content has two versions of ``saberes`` (the second changes a quiz's right answer and adds a required
lesson); events name the old version, the current one, or none.
"""

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from app.content.spec import ModuleSpec, QuizSpec
from app.progress.service import progress_of, record_events
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, enrolled_since, lesson, programme

BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=30)  # every event is in the past


def saberes_v2(v1: ModuleSpec) -> ModuleSpec:
    valor, oficios, extra = v1.lessons
    assert oficios.quiz is not None
    q1, *others = oficios.quiz.questions
    new_q1 = replace(q1, options=tuple(replace(o, correct=o.id == "b") for o in q1.options))
    new_oficios = replace(oficios, quiz=replace(oficios.quiz, questions=(new_q1, *others)))
    return replace(v1, lessons=(valor, new_oficios, extra, lesson("nuevo", 4)))


V1 = {spec.slug: spec for spec in programme()}
V2 = saberes_v2(V1["saberes"])


@dataclass(frozen=True)
class Target:
    module: str
    version: str | None  # None: omitted, the current one
    lesson: str
    quiz: QuizSpec | None


def targets() -> list[Target]:
    found = []
    versions: list[tuple[ModuleSpec, list[str | None]]] = [
        (V1["saberes"], [V1["saberes"].content_hash()]),
        (V2, [V2.content_hash(), None]),
        (V1["precio"], [V1["precio"].content_hash(), None]),
        (V1["ferias"], [None]),
    ]
    for spec, names in versions:
        for name in names:
            for item in spec.lessons:
                found.append(Target(spec.slug, name, item.slug, item.quiz))
    return found


TARGETS = targets()


@st.composite
def answers(draw: st.DrawFn, quiz: QuizSpec) -> dict[str, list[str]]:
    sheet = {}
    for question in quiz.questions:
        if draw(st.booleans()):
            ids = [o.id for o in question.options] + ["zz"]  # an unknown option counts as wrong
            sheet[question.id] = draw(st.lists(st.sampled_from(ids), max_size=4))
    return sheet


@st.composite
def an_event(draw: st.DrawFn) -> dict[str, Any]:
    target = draw(st.sampled_from(TARGETS))
    kinds = ["lesson_viewed", "lesson_completed"] + (["quiz_submitted"] if target.quiz else [])
    kind = draw(st.sampled_from(kinds))
    payload: dict[str, Any] = {}
    if kind == "lesson_viewed":
        payload = {"seconds": draw(st.integers(0, 4000))}
    elif kind == "quiz_submitted":
        assert target.quiz is not None
        payload = {"answers": draw(answers(target.quiz))}
    occurred = BASE + timedelta(minutes=draw(st.integers(0, 300)), seconds=draw(st.sampled_from([0, 0, 17])))
    body = {"type": kind, "module": target.module, "lesson": target.lesson,
            "occurred_at": occurred.isoformat().replace("+00:00", "Z"), "payload": payload}
    if target.version is not None:
        body["module_version"] = target.version
    return body


RIGHT = {"oficios": {"q1": ["b"], "q2": ["a", "b"], "q3": ["v"]},  # right in V2 (q1 is wrong in V1)
         "costos": {"p1": ["b"]}}


@st.composite
def completions(draw: st.DrawFn) -> list[dict[str, Any]]:
    """What completes every required lesson of the current versions, at random times: random streams alone
    rarely pass both quizzes, and the module and programme rules deserve exercise."""
    events = []
    for module, lesson_slug in [("saberes", "valor"), ("saberes", "oficios"), ("saberes", "nuevo"),
                                ("precio", "costos"), ("precio", "cuentas")]:
        kinds = ["lesson_completed"] + (["quiz_submitted"] if lesson_slug in RIGHT else [])
        for kind in kinds:
            occurred = BASE + timedelta(minutes=draw(st.integers(0, 300)))
            payload = {"answers": RIGHT[lesson_slug]} if kind == "quiz_submitted" else {}
            events.append({"type": kind, "module": module, "lesson": lesson_slug, "payload": payload,
                           "occurred_at": occurred.isoformat().replace("+00:00", "Z")})
    return events


@st.composite
def streams(draw: st.DrawFn) -> list[dict[str, Any]]:
    events = draw(st.lists(an_event(), min_size=1, max_size=25))
    if draw(st.booleans()):
        kit = draw(completions())
        positions = draw(st.lists(st.integers(0, len(events)), min_size=len(kit), max_size=len(kit)))
        for event, position in zip(kit, positions, strict=True):
            events.insert(position, event)
    return [event | {"event_id": str(uuid.UUID(int=index + 1))} for index, event in enumerate(events)]


@pytest.fixture
def learners(factory: Factory, catalogue: Catalogue, sessions: sessionmaker[Session]) -> tuple[Actor, Actor]:
    catalogue.load(V2)
    a, b = factory.participant("PE"), factory.participant("PE")
    for learner in (a, b):  # enrolled before every event of the streams
        enrolled_since(sessions, learner.participant_id, BASE - timedelta(days=1))
    return a, b


def summaries(sessions: sessionmaker[Session], participant_id: int | None) -> dict[str, Any]:
    assert participant_id is not None
    with sessions() as session:
        return progress_of(session, participant_id).model_dump(exclude={"participant_id"})


def send(sessions: sessionmaker[Session], participant_id: int | None, batch: list[dict[str, Any]]) -> list[str]:
    assert participant_id is not None
    with sessions() as session, session.begin():
        return [r.status for r in record_events(session, participant_id, batch, None)]


@settings(max_examples=35, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=streams(), data=st.data())
def test_any_order_with_repeats_gives_the_same_summaries(
        sessions: sessionmaker[Session], learners: tuple[Actor, Actor], stream: list[dict[str, Any]],
        data: st.DataObject) -> None:
    a, b = learners
    repeats = data.draw(st.lists(st.integers(0, len(stream) - 1), max_size=len(stream)), label="repeats")
    order = data.draw(st.permutations(list(range(len(stream))) + repeats), label="order")
    sizes = data.draw(st.lists(st.integers(1, 8), min_size=len(order), max_size=len(order)), label="batch sizes")

    connection = sessions.kw["bind"]
    assert isinstance(connection, Connection)
    example = connection.begin_nested()
    try:
        # A: the stream in order, one event per request
        for event in stream:
            assert send(sessions, a.participant_id, [event]) == ["accepted"]
        # B: shuffled, with repeats, in batches of random sizes
        shuffled = [stream[i] for i in order]
        seen: set[str] = set()
        start = 0
        for size in sizes:
            batch = shuffled[start:start + size]
            if not batch:
                break
            expected = []
            for event in batch:
                expected.append("duplicate" if event["event_id"] in seen else "accepted")
                seen.add(event["event_id"])
            assert send(sessions, b.participant_id, batch) == expected
            start += size
        assert seen == {e["event_id"] for e in stream}

        in_order, shuffled_summary = summaries(sessions, a.participant_id), summaries(sessions, b.participant_id)
        assert shuffled_summary == in_order
    finally:
        example.rollback()


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(stream=streams(), data=st.data())
def test_replaying_everything_changes_nothing(
        sessions: sessionmaker[Session], learners: tuple[Actor, Actor], stream: list[dict[str, Any]],
        data: st.DataObject) -> None:
    a, _b = learners
    order = data.draw(st.permutations(stream), label="replay order")
    connection = sessions.kw["bind"]
    assert isinstance(connection, Connection)
    example = connection.begin_nested()
    try:
        assert send(sessions, a.participant_id, stream) == ["accepted"] * len(stream)
        before = summaries(sessions, a.participant_id)
        assert send(sessions, a.participant_id, order) == ["duplicate"] * len(stream)
        assert summaries(sessions, a.participant_id) == before
    finally:
        example.rollback()
