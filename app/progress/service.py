"""The one write path for progress, online and offline, and the summaries derived from it.

Events are stored once, keyed by (participant, event_id), in an append-only log. Each newly stored event is
folded into the summaries with order-independent rules (seconds add up, completion is the earliest, best score
is the maximum), so any order of arrival and any repetition gives the same result. Completion is decided as events
arrive, and is never taken away by later content versions.
"""

import hashlib
import json
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Select, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.auth import scope
from app.auth.principal import Principal
from app.content import service as content_service
from app.content.scoring import InvalidAnswers, score_quiz
from app.content.service import CurrentModule, ModuleShape
from app.core.bad_input import find_bad_value, is_bad_text
from app.core.base import utcnow
from app.core.errors import Conflict, Forbidden, InvalidInput
from app.enrolment import repository as enrolment_repository
from app.enrolment import service as enrolment_service
from app.models import ContentModule, LessonProgress, ModuleCompletion, Participant, ProgressEvent, User
from app.progress.schemas import EventResult, LessonProgressOut, ModuleProgressOut, ProgressOut

MAX_EVENTS = 500
MAX_BODY_BYTES = 1_000_000
MAX_SECONDS_PER_EVENT = 30 * 60  # an open tab does not inflate viewed time
EVENT_TYPES = ("lesson_viewed", "lesson_completed", "quiz_submitted")


class Rejected(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Catalogue:
    """The modules as of this batch (read once, or given by her standing); version shapes come from a
    per-process cache."""

    session: Session
    _current: dict[str, CurrentModule] | None = None

    @property
    def current(self) -> dict[str, CurrentModule]:
        if self._current is None:
            self._current = {m.slug: m for m in content_service.current_modules(self.session)}
        return self._current

    def version(self, slug: str, version: str | None) -> ModuleShape | None:
        module = self.current.get(slug)
        if module is None:
            return None
        return content_service.module_shape(self.session, module.id, slug, version or module.version)


def _text(raw: dict[str, Any], name: str, max_length: int, reason: str) -> str:
    value = raw.get(name)
    if not isinstance(value, str) or not value or len(value) > max_length:
        raise Rejected(reason)
    return value


def _occurred_at(raw: dict[str, Any]) -> datetime:
    value = raw.get("occurred_at")
    if not isinstance(value, str) or len(value) > 40:
        raise Rejected("invalid_occurred_at")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError as exc:
        raise Rejected("invalid_occurred_at") from exc
    if parsed.tzinfo is None:
        raise Rejected("invalid_occurred_at")  # RFC 3339 requires an offset; a guess could misdate a completion
    try:
        return parsed.astimezone(UTC)
    except OverflowError as exc:  # e.g. 9999-12-31T23:00:00-05:00 is past year 9999 in UTC
        raise Rejected("invalid_occurred_at") from exc


def content_hash(event_type: str, module: str, version: str | None, lesson: str, occurred_at: datetime,
                 payload: Any) -> str:
    canonical = json.dumps(
        [event_type, module, version, lesson, occurred_at.isoformat(), payload],
        sort_keys=True, ensure_ascii=False, separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def validate_event(raw: Any, catalogue: Catalogue, participant_id: int, device_id: str | None,
                   now: datetime, not_before: datetime | None = None) -> dict[str, Any]:
    """One event → a row for the log, or ``Rejected`` with the reason.

    ``not_before`` is when she got her seat: an event dated earlier (a phone whose clock was reset to 1970) is
    kept as sent in the log, but what it completes is dated then, never before she was enrolled.
    """
    if not isinstance(raw, dict):
        raise Rejected("malformed")
    # NUL, lone surrogates, NaN/Infinity or deep nesting anywhere in it: neither database can store it
    bad = find_bad_value(raw)
    if bad is not None:
        raise Rejected(bad[1])
    try:
        event_id = str(uuid.UUID(_text(raw, "event_id", 40, "invalid_event_id")))
    except ValueError as exc:
        raise Rejected("invalid_event_id") from exc
    event_type = raw.get("type")
    if event_type not in EVENT_TYPES:
        raise Rejected("unknown_type")
    slug = _text(raw, "module", 80, "unknown_module")
    lesson_slug = _text(raw, "lesson", 80, "unknown_lesson")
    requested_version = raw.get("module_version")
    if requested_version is not None and (not isinstance(requested_version, str) or len(requested_version) > 64):
        raise Rejected("unknown_version")
    occurred_at = _occurred_at(raw)
    payload = raw.get("payload", {})
    if not isinstance(payload, dict):
        raise Rejected("invalid_payload")
    if slug not in catalogue.current:
        raise Rejected("unknown_module")
    version = catalogue.version(slug, requested_version)
    if version is None:
        raise Rejected("unknown_version")
    lesson = version.lesson(lesson_slug)
    if lesson is None:
        raise Rejected("unknown_lesson")

    seconds, score, passed = 0, None, None
    if event_type == "lesson_viewed":
        reported = payload.get("seconds")
        if isinstance(reported, bool) or not isinstance(reported, int | float) or reported < 0:
            raise Rejected("invalid_seconds")
        # a tab left open for days counts 30 minutes, not nothing; JavaScript timers give fractions (rounded)
        seconds = math.floor(min(reported, MAX_SECONDS_PER_EVENT) + 0.5)
    elif event_type == "quiz_submitted":
        if lesson.quiz is None:
            raise Rejected("lesson_has_no_quiz")
        try:
            result = score_quiz(lesson.quiz, payload.get("answers"))
        except InvalidAnswers as exc:
            raise Rejected("invalid_answers") from exc
        score, passed = result.score, result.passed
    return {
        "participant_id": participant_id, "event_id": event_id,
        "content_hash": content_hash(event_type, slug, requested_version, lesson_slug, occurred_at, payload),
        "type": event_type, "module": slug, "module_version": version.version, "lesson": lesson_slug,
        "occurred_at": occurred_at, "received_at": now, "effective_at": _effective_at(occurred_at, now, not_before),
        "seconds": seconds, "score": score, "passed": passed, "payload": payload, "device_id": device_id,
    }


def _effective_at(occurred_at: datetime, now: datetime, not_before: datetime | None) -> datetime:
    """The time a completion is dated by: the event's, but never later than its arrival, nor earlier than her
    enrolment."""
    moment = min(occurred_at, now)
    return min(max(moment, not_before), now) if not_before is not None else moment


def _seat_since(session: Session, participant_id: int) -> datetime | None:
    """When the enrolment that gives her the seat began (enrolled, or applied when enrolled at once)."""
    enrolment = enrolment_repository.active_enrolment(session, participant_id)
    if enrolment is None:
        return None
    return enrolment.enrolled_at or enrolment.applied_at


def _insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING, as one cached executemany; returns the ids inserted."""
    if not rows:
        return set()
    return set(session.connection().execute(_upserts(session).new_events, rows).scalars())


@dataclass(frozen=True)
class _Upserts:
    new_events: Any  # INSERT ... ON CONFLICT DO NOTHING RETURNING event_id
    viewed_seconds: Any  # INSERT ... ON CONFLICT DO UPDATE SET seconds = seconds + excluded.seconds
    new_summaries: Any  # the same, for a merge's new rows: a sync of views may have made the row meanwhile


_UPSERTS: dict[str, _Upserts] = {}


def _upserts(session: Session) -> _Upserts:
    """The two upserts of a sync in the session's dialect, built once each."""
    name = session.get_bind().dialect.name
    found = _UPSERTS.get(name)
    if found is None:
        dialect_insert = postgresql.insert if name == "postgresql" else sqlite.insert
        events = cast(Table, ProgressEvent.__table__)
        viewed = dialect_insert(_SUMMARY)
        found = _UPSERTS[name] = _Upserts(
            new_events=dialect_insert(events).on_conflict_do_nothing(index_elements=["participant_id", "event_id"])
            .returning(events.c.event_id),
            viewed_seconds=viewed.on_conflict_do_update(
                index_elements=["participant_id", "module", "lesson"],
                set_={"seconds": _SUMMARY.c.seconds + viewed.excluded.seconds}),
            # such a row holds only seconds (views complete nothing): those add up, the rest is the merge's
            new_summaries=viewed.on_conflict_do_update(
                index_elements=["participant_id", "module", "lesson"],
                set_={name: _SUMMARY.c[name] + viewed.excluded[name] if name in _ADDED else viewed.excluded[name]
                      for name in _MERGED}),
        )
    return found


@dataclass
class Batch:
    """A sync's events, checked: the rows to store, in order, and the results decided already (rejections)."""

    participant_id: int
    catalogue: Catalogue
    results: list[EventResult | None]
    first_by_id: dict[str, dict[str, Any]]  # each event id's first valid row, with its "_index" in the batch
    repeats: list[tuple[int, dict[str, Any]]]  # later rows with an id seen before in the batch
    views_only: bool = False  # views that, as her summaries were read, cannot complete anything


def record_events(session: Session, participant_id: int, events: list[Any], device_id: str | None, *,
                  seat_since: datetime | None = None) -> list[EventResult]:
    """``seat_since``: when her seat began, if the caller knows it already (her own sync reads it with her token)."""
    return store_events(session, prepare_events(session, participant_id, events, device_id, seat_since=seat_since))


def prepare_events(session: Session, participant_id: int, events: list[Any], device_id: str | None, *,
                   seat_since: datetime | None = None) -> Batch:
    """Check each event against the catalogue. Reads only: on SQLite her sync runs this in a read transaction of
    its own, so that the writer lock is held only for the statements that must see the latest summaries."""
    now = utcnow()
    # the modules the events name (text either database can take; the events are checked one by one below)
    named = {raw["module"] for raw in events if isinstance(raw, dict) and isinstance(raw.get("module"), str)
             and len(raw["module"]) <= 80 and not is_bad_text(raw["module"])}
    standing = her_standing(session, participant_id, named)
    catalogue = standing.catalogue
    not_before = seat_since if seat_since is not None else _seat_since(session, participant_id)  # once per batch
    batch = Batch(participant_id, catalogue, [None] * len(events), {}, [])
    for index, raw in enumerate(events):
        try:
            row = validate_event(raw, catalogue, participant_id, device_id, now, not_before)
        except Rejected as rejected:
            raw_id = raw.get("event_id") if isinstance(raw, dict) else None
            echoed = raw_id if isinstance(raw_id, str) and not is_bad_text(raw_id) else None
            batch.results[index] = EventResult(event_id=echoed, status="rejected", reason=rejected.reason)
            continue
        if row["event_id"] in batch.first_by_id:
            batch.repeats.append((index, row))
        else:
            batch.first_by_id[row["event_id"]] = row | {"_index": index}
    rows = batch.first_by_id.values()
    if rows and all(row["type"] == "lesson_viewed" for row in rows):
        lessons = {key: row.completed_at for key, row in standing.lessons.items()}
        batch.views_only = not any(_may_complete(m, lessons, set(standing.completions), catalogue)
                                   for m in {row["module"] for row in rows})
    return batch


def store_events(session: Session, batch: Batch) -> list[EventResult]:
    """Store the new events of a checked batch and fold them into her summaries; one result per event."""
    participant_id, results, first_by_id = batch.participant_id, batch.results, batch.first_by_id
    batch.catalogue.session = session  # a version not cached yet is read where the batch is written
    if session.get_bind().dialect.name == "postgresql" and not batch.views_only:
        # one merge at a time per participant (two phones, or a retry racing its original); NO KEY UPDATE does
        # not block the foreign-key checks of other inserts. A sync of views only adds seconds, as increments
        # that commute with a merge's, so it needs no lock. (SQLite: one writer at a time.)
        session.execute(select(Participant.id).where(Participant.id == participant_id)
                        .with_for_update(key_share=True))
    rows = [{k: v for k, v in row.items() if k != "_index"} for row in first_by_id.values()]
    inserted = _insert_new(session, rows)
    stored = _stored(session, participant_id, set(first_by_id) - inserted)
    for event_id, row in first_by_id.items():
        index = row["_index"]
        if event_id in inserted:
            results[index] = EventResult(event_id=event_id, status="accepted", score=row["score"],
                                         passed=row["passed"])
            stored[event_id] = (row["content_hash"], row["score"], row["passed"])
        else:
            results[index] = _compare(event_id, row, stored[event_id])
    for index, row in batch.repeats:
        results[index] = _compare(row["event_id"], row, stored[row["event_id"]])

    new_rows = [row for row in rows if row["event_id"] in inserted]
    if new_rows and batch.views_only:
        # A view only adds seconds, and (checked before) no module of hers can complete: one upsert, no read.
        # Read outside the writer lock on SQLite: if a sync since then completed a lesson, that sync checked
        # completions itself, with what it wrote.
        _add_viewed_seconds(session, participant_id, new_rows)
    elif new_rows:
        merge_into_summaries(session, participant_id, new_rows, batch.catalogue)
    return [r for r in results if r is not None]


def _add_viewed_seconds(session: Session, participant_id: int, rows: list[dict[str, Any]]) -> None:
    seconds: dict[tuple[str, str], int] = {}
    for row in rows:
        key = (row["module"], row["lesson"])
        seconds[key] = seconds.get(key, 0) + row["seconds"]
    session.connection().execute(_upserts(session).viewed_seconds, [
        {"participant_id": participant_id, "module": module, "lesson": lesson, "seconds": total, "quiz_attempts": 0}
        for (module, lesson), total in seconds.items()
    ])


def _stored(session: Session, participant_id: int, event_ids: set[str]) -> dict[
        str, tuple[str, float | None, bool | None]]:
    if not event_ids:
        return {}
    rows = session.execute(
        select(ProgressEvent.event_id, ProgressEvent.content_hash, ProgressEvent.score, ProgressEvent.passed)
        .where(ProgressEvent.participant_id == participant_id, ProgressEvent.event_id.in_(event_ids))
    ).all()
    return {r.event_id: (r.content_hash, r.score, r.passed) for r in rows}


def _compare(event_id: str, row: dict[str, Any], stored: tuple[str, float | None, bool | None]) -> EventResult:
    content, score, passed = stored
    if content == row["content_hash"]:
        return EventResult(event_id=event_id, status="duplicate", score=score, passed=passed)
    return EventResult(event_id=event_id, status="conflict", reason="different_content")


_SUMMARY = cast(Table, LessonProgress.__table__)
_MERGED = ("seconds", "quiz_attempts", "viewed_completed_at", "quiz_passed_at", "quiz_best_score", "completed_at")
# written as increments, so that they commute with a sync of views that runs beside a merge (it adds seconds
# without the participant's lock)
_ADDED = ("seconds", "quiz_attempts")


def merge_into_summaries(session: Session, participant_id: int, rows: list[dict[str, Any]],
                         catalogue: Catalogue) -> None:
    """Fold newly stored events into the summaries. Every rule is commutative and each event arrives here
    exactly once (the log's unique key sees to it), so any order of arrival gives the same summaries: seconds
    add up, completion and pass times are the earliest, the best score is the maximum.
    (Core statements, one executemany each: this runs on every sync.)"""
    by_lesson: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        by_lesson.setdefault((row["module"], row["lesson"]), []).append(row)
    modules = {module for module, _lesson in by_lesson}
    existing, complete_modules = _summaries_of(session, participant_id, modules)
    lessons = {key: row["completed_at"] for key, row in existing.items()}
    updates: list[dict[str, Any]] = []
    inserts: list[dict[str, Any]] = []
    for (module, lesson_slug), events in by_lesson.items():
        known = existing.get((module, lesson_slug))
        summary: dict[str, Any] = dict(known) if known else {
            "participant_id": participant_id, "module": module, "lesson": lesson_slug, "seconds": 0,
            "quiz_attempts": 0, "viewed_completed_at": None, "quiz_passed_at": None, "quiz_best_score": None,
            "completed_at": None,
        }
        quizzes = [e for e in events if e["type"] == "quiz_submitted"]
        summary["seconds"] += sum(e["seconds"] for e in events)
        summary["quiz_attempts"] += len(quizzes)
        summary["viewed_completed_at"] = _earliest(summary["viewed_completed_at"], *(
            e["effective_at"] for e in events if e["type"] == "lesson_completed"))
        summary["quiz_passed_at"] = _earliest(summary["quiz_passed_at"], *(
            e["effective_at"] for e in quizzes if e["passed"]))
        scores = [e["score"] for e in quizzes if e["score"] is not None]
        if summary["quiz_best_score"] is not None:
            scores.append(summary["quiz_best_score"])
        summary["quiz_best_score"] = max(scores) if scores else None
        shape = catalogue.version(module, None)
        lesson = shape.lesson(lesson_slug) if shape else None
        done = summary["viewed_completed_at"]
        if done is not None and lesson is not None and lesson.quiz is not None:
            done = max(done, summary["quiz_passed_at"]) if summary["quiz_passed_at"] else None
        summary["completed_at"] = _earliest(summary["completed_at"], done)
        lessons[(module, lesson_slug)] = summary["completed_at"]
        if known:
            updates.append({"summary_id": summary["id"],
                            **{name: summary[name] for name in _MERGED if name not in _ADDED},
                            **{f"added_{name}": summary[name] - known[name] for name in _ADDED}})
        else:
            inserts.append(summary)
    if updates:
        session.execute(_UPDATE_SUMMARY, updates)
    if inserts:
        session.execute(_upserts(session).new_summaries, inserts)
    # every module touched, not only those where a lesson's completion moved: a new content version may have
    # made her remaining lessons (or a whole module) optional, and her next event must find that out
    if any(_may_complete(slug, lessons, complete_modules, catalogue) for slug in modules):
        _decide_completions(session, participant_id, modules, catalogue, lessons)


_UPDATE_SUMMARY = update(_SUMMARY).where(_SUMMARY.c.id == bindparam("summary_id")).values(
    {name: _SUMMARY.c[name] + bindparam(f"added_{name}") if name in _ADDED else bindparam(name) for name in _MERGED})


def _summaries_query() -> Select[Any]:
    c = _SUMMARY.c
    return (
        select(c.id, c.module, c.lesson, *(c[name] for name in _MERGED), ModuleCompletion.id.label("completion"))
        .outerjoin(ModuleCompletion, (ModuleCompletion.participant_id == c.participant_id)
                   & (ModuleCompletion.module == c.module))
        .where(c.participant_id == bindparam("participant_id"), c.module.in_(bindparam("modules", expanding=True)))
    )


_SUMMARIES = _summaries_query()  # built once (as the statements below): every sync runs it


def _summaries_of(session: Session, participant_id: int, modules: set[str]) -> tuple[
        dict[tuple[str, str], dict[str, Any]], set[str]]:
    """Her summaries of every lesson of these modules (the completion check needs them all), and which of the
    modules are complete already: one statement."""
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    complete_modules: set[str] = set()
    for r in session.connection().execute(_SUMMARIES, {"participant_id": participant_id, "modules": sorted(modules)}):
        row = r._asdict()
        if row.pop("completion") is not None:
            complete_modules.add(r.module)
        existing[(r.module, r.lesson)] = row
    return existing, complete_modules


def _may_complete(slug: str, lessons: dict[tuple[str, str], datetime | None], complete_modules: set[str],
                  catalogue: Catalogue) -> bool:
    """Whether checking completions after an event in this module could change anything. Not when the module is
    required by the programme, not complete yet, and one of its required lessons is not done: then neither the
    module nor the programme (which needs this module) can be complete. Most events (views, or any event
    before a module's last lesson) skip the check's statements."""
    module = catalogue.current.get(slug)
    shape = catalogue.version(slug, None)
    if module is None or shape is None or not module.required or slug in complete_modules:
        return True
    return all(lessons.get((slug, lesson.slug)) is not None for lesson in shape.lessons if lesson.required)


def _decide_completions(session: Session, participant_id: int, modules: set[str], catalogue: Catalogue,
                        lessons: dict[tuple[str, str], datetime | None]) -> None:
    """A module is complete when all its required lessons are (dated by the last of them); the programme when
    all required modules are. Decided now, as the events arrive; never undone by later content versions.
    ``lessons``: when each lesson of these modules was completed, as just merged."""
    completions = {
        c.module: c for c in session.scalars(select(ModuleCompletion).where(
            ModuleCompletion.participant_id == participant_id))
    }
    for slug in modules:
        shape = catalogue.version(slug, None)
        if shape is None:
            continue
        times = [lessons.get((slug, lesson.slug)) for lesson in shape.lessons if lesson.required]
        if not times or any(t is None for t in times):
            continue
        done_at = max(t for t in times if t is not None)
        completion = completions.get(slug)
        if completion is None:
            completions[slug] = ModuleCompletion(participant_id=participant_id, module=slug, completed_at=done_at)
            session.add(completions[slug])
        else:
            completion.completed_at = min(completion.completed_at, done_at)
    session.flush()
    required = [m.slug for m in catalogue.current.values() if m.required]
    if required and all(slug in completions for slug in required):
        enrolment_service.mark_programme_completed(
            session, participant_id, max(completions[slug].completed_at for slug in required))


def _earliest(*times: datetime | None) -> datetime | None:
    return min((t for t in times if t is not None), default=None)


_MODULES, _COMPLETIONS = cast(Table, ContentModule.__table__), cast(Table, ModuleCompletion.__table__)
# what her progress shows of a lesson's summary (read for one woman, or for many at once)
_SHOWN = (_SUMMARY.c.lesson, _SUMMARY.c.completed_at, _SUMMARY.c.seconds, _SUMMARY.c.quiz_best_score,
          _SUMMARY.c.quiz_passed_at, _SUMMARY.c.quiz_attempts)


def _standing_query(of_some_modules: bool) -> Select[Any]:
    hers = (_SUMMARY.c.module == _MODULES.c.slug) & (_SUMMARY.c.participant_id == bindparam("participant_id"))
    if of_some_modules:
        hers &= _MODULES.c.slug.in_(bindparam("modules", expanding=True))
    return (
        select(_MODULES.c.id, _MODULES.c.slug, _MODULES.c.current_version, _MODULES.c.required, *_SHOWN,
               _COMPLETIONS.c.completed_at.label("module_completed_at"))
        .select_from(_MODULES)
        .outerjoin(_SUMMARY, hers)
        .outerjoin(_COMPLETIONS, (_COMPLETIONS.c.module == _MODULES.c.slug)
                   & (_COMPLETIONS.c.participant_id == bindparam("participant_id")))
        .order_by(_MODULES.c.position, _MODULES.c.slug)
    )


_HER_STANDING, _HER_STANDING_IN = _standing_query(False), _standing_query(True)


@dataclass
class Standing:
    """The current modules, her summary of each lesson of them, and which of them she completed (when)."""

    catalogue: Catalogue
    lessons: dict[tuple[str, str], Any]
    completions: dict[str, datetime]


def her_standing(session: Session, participant_id: int, modules: set[str] | None = None) -> Standing:
    """One statement (modules, her summaries, her completions): every sync and every reader page reads it.
    ``modules``: her summaries of these modules only (a sync needs those of the modules it touches)."""
    current: dict[str, CurrentModule] = {}
    lessons: dict[tuple[str, str], Any] = {}
    completions: dict[str, datetime] = {}
    statement, values = _HER_STANDING, dict[str, Any](participant_id=participant_id)
    if modules is not None:
        statement, values = _HER_STANDING_IN, values | {"modules": sorted(modules)}
    for r in session.connection().execute(statement, values):
        if r.slug not in current:
            current[r.slug] = CurrentModule(id=r.id, slug=r.slug, version=r.current_version, required=r.required)
        if r.lesson is not None:
            lessons[(r.slug, r.lesson)] = r
        if r.module_completed_at is not None:
            completions[r.slug] = r.module_completed_at
    return Standing(Catalogue(session, current), lessons, completions)


def progress_of(session: Session, participant_id: int) -> ProgressOut:
    """Her progress, as her coordinator or an admin reads it."""
    return _progress(session, participant_id, enrolment_service.programme_completed_at(session, participant_id))


def progress_of_learner(session: Session, learner: Principal) -> ProgressOut:
    """Her own progress: when she completed the programme came with her token."""
    assert learner.participant_id is not None
    return _progress(session, learner.participant_id, learner.programme_completed_at)


def _progress(session: Session, participant_id: int, programme_completed_at: datetime | None) -> ProgressOut:
    return _progress_from(participant_id, her_standing(session, participant_id), programme_completed_at)


# her summaries and completions, for many women at once: each row names whose it is
_THEIR_LESSONS = select(_SUMMARY.c.participant_id, _SUMMARY.c.module, *_SHOWN).where(
    _SUMMARY.c.participant_id.in_(bindparam("ids", expanding=True)))
_THEIR_COMPLETIONS = select(_COMPLETIONS.c.participant_id, _COMPLETIONS.c.module, _COMPLETIONS.c.completed_at) \
    .where(_COMPLETIONS.c.participant_id.in_(bindparam("ids", expanding=True)))


def progress_of_many(session: Session, participant_ids: Sequence[int]) -> dict[int, ProgressOut]:
    """progress_of of each woman, in four statements for them all (a batch of certificates plans a chunk at
    once): the modules, the summaries, the module completions and the programme completions."""
    catalogue = Catalogue(session)
    standings = {pid: Standing(catalogue, {}, {}) for pid in participant_ids}
    ids = {"ids": list(participant_ids)}
    for r in session.connection().execute(_THEIR_LESSONS, ids):
        standings[r.participant_id].lessons[(r.module, r.lesson)] = r
    for c in session.connection().execute(_THEIR_COMPLETIONS, ids):
        standings[c.participant_id].completions[c.module] = c.completed_at
    completed = enrolment_service.programme_completed_at_of(session, participant_ids)
    return {pid: _progress_from(pid, standings[pid], completed.get(pid)) for pid in participant_ids}


def _progress_from(participant_id: int, standing: Standing,
                   programme_completed_at: datetime | None) -> ProgressOut:
    lessons, completions, catalogue = standing.lessons, standing.completions, standing.catalogue
    modules = []
    for module in catalogue.current.values():
        shape = catalogue.version(module.slug, None)
        if shape is None:
            continue
        rows = []
        for lesson in shape.lessons:
            p = lessons.get((module.slug, lesson.slug))
            rows.append(LessonProgressOut(
                slug=lesson.slug, title=lesson.title, required=lesson.required,
                completed_at=p.completed_at if p else None, seconds=p.seconds if p else 0,
                quiz_best_score=p.quiz_best_score if p else None,
                quiz_passed=(p is not None and p.quiz_passed_at is not None) if lesson.quiz is not None else None,
                quiz_attempts=p.quiz_attempts if p else 0,
            ))
        done = sum(1 for r in rows if r.completed_at is not None)
        required = [r for r in rows if r.required]
        completed_at = completions.get(module.slug)
        # the share of what completion needs: optional lessons neither hold it back nor push it forward
        percent = 100 if completed_at else round(
            100 * sum(1 for r in required if r.completed_at is not None) / len(required)) if required else 0
        modules.append(ModuleProgressOut(
            slug=module.slug, title=shape.title, required=module.required, completed_lessons=done,
            total_lessons=len(rows), percent=percent, completed_at=completed_at, lessons=rows,
        ))
    return ProgressOut(participant_id=participant_id, modules=modules,
                       programme_completed=programme_completed_at is not None,
                       programme_completed_at=programme_completed_at)


def import_for(session: Session, principal: Principal, participant_id: int, username: str | None) -> Participant:
    """The woman a staff member uploads a ``progreso.json`` for: in her scope (participants: 403; another
    country: 404), and named by the file (her email or participant code)."""
    if scope.is_participant(principal):
        raise Forbidden("progress_import_is_for_staff")
    participant = enrolment_repository.get_manageable_participant(session, principal, participant_id)
    if username is None:
        raise InvalidInput("username", "missing")
    check_file_is_hers(session, participant.user_id, username)
    return participant


def check_file_is_hers(session: Session, user_id: int, username: str) -> None:
    """A ``progreso.json`` names the woman who exported it (her email or participant code, in any case): a file of
    another woman is refused with 409, whoever uploads it, so that nobody's progress is credited to someone else."""
    user = session.get_one(User, user_id)
    if username.strip().lower() not in {n.lower() for n in (user.email, user.participant_code) if n}:
        raise Conflict("progress_of_another_person")
