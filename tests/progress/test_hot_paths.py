"""The hot paths made faster (issue 11) keep their guarantees: through a real server, with real commits, on both
databases. A participant's reads never wait for a writer; a revoked token or a deactivated user is refused on the
very next request by every server on the database; the whole cohort syncing at once loses and doubles nothing."""

import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy import func, make_url, select, text, update
from sqlalchemy.engine import make_url as parse_url

from app.core.db import PING_AFTER_IDLE_SECONDS, GroupCommit, group_commit, make_engine, make_sessionmaker
from app.models import LessonProgress, Participant, ProgressEvent, User
from tests.conftest import BACKENDS, drop_database, migrated_database
from tests.factories import Factory
from tests.live import LiveService, live_server, live_service, run_at_once, self_applied_learner

pytestmark = pytest.mark.xdist_group("concurrency")
API = "/api/v1"
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)
QUIZ_RIGHT = {("saberes", "oficios"): {"q1": ["a"], "q2": ["a", "b"], "q3": ["v"]},
              ("precio", "costos"): {"p1": ["b"]}}
LESSONS = [("saberes", "valor"), ("saberes", "oficios"), ("saberes", "extra"), ("precio", "costos"),
           ("precio", "cuentas"), ("ferias", "mercados")]


@pytest.fixture(params=BACKENDS)
def service(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveService]:
    with live_service(request.param, tmp_path) as live:
        yield live


def event(kind: str, module: str, lesson: str, minute: int, payload: dict[str, Any] | None = None
          ) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": kind, "module": module, "lesson": lesson,
            "occurred_at": (BASE + timedelta(minutes=minute)).isoformat(), "payload": payload or {}}


def a_day_of_study(count: int, seed: int) -> list[dict[str, Any]]:
    """Views, completions and quizzes (right and wrong) over the test programme's lessons."""
    events = []
    for i in range(count):
        module, lesson = LESSONS[(seed + i) % len(LESSONS)]
        if i % 5 == 3:
            events.append(event("lesson_completed", module, lesson, i))
        elif i % 5 == 4 and (module, lesson) in QUIZ_RIGHT:
            answers = QUIZ_RIGHT[(module, lesson)] if (seed + i) % 2 else {k: [] for k in QUIZ_RIGHT[(module, lesson)]}
            events.append(event("quiz_submitted", module, lesson, i, {"answers": answers}))
        else:
            events.append(event("lesson_viewed", module, lesson, i, {"seconds": 10 + (seed * 7 + i) % 50}))
    return events


def test_the_cohort_syncing_at_once_loses_and_doubles_nothing(service: LiveService) -> None:
    """20 women post 20 events each (two batches of 10) at the same moment, then each repeats her first batch
    (a phone unsure it was acknowledged); another client reads the countries throughout."""
    with httpx.Client(base_url=service.base_url, timeout=60) as http:
        learners = [self_applied_learner(http, ("PE", "CL", "CO", "MX")[n % 4]) for n in range(20)]
    days = [a_day_of_study(20, n) for n in range(20)]
    probes: list[tuple[int, float]] = []
    results: dict[int, list[str]] = {}
    done = threading.Event()

    def countries() -> None:
        with httpx.Client(base_url=service.base_url, timeout=60) as http:
            while not done.is_set():
                started = time.perf_counter()
                status = http.get(f"{API}/countries").status_code
                probes.append((status, time.perf_counter() - started))
                time.sleep(0.05)

    def sync(n: int) -> Callable[[httpx.Client], httpx.Response]:
        def call(http: httpx.Client) -> httpx.Response:
            day = days[n]
            for batch in (day[:10], day[10:], day[:10]):
                answer = http.post(f"{service.base_url}{API}/progress/events", json={"events": batch},
                                   headers=learners[n])
                assert answer.status_code == 200, answer.text
                results.setdefault(n, []).extend(r["status"] for r in answer.json()["results"])
            return answer
        return call

    prober = threading.Thread(target=countries)
    prober.start()
    try:
        run_at_once([sync(n) for n in range(len(learners))])
    finally:
        done.set()
        prober.join()

    # every event accepted once; the repeated batch changes nothing
    assert results == {n: ["accepted"] * 20 + ["duplicate"] * 10 for n in range(len(learners))}
    assert probes
    assert {status for status, _seconds in probes} == {200}
    assert max(seconds for _status, seconds in probes) < 5  # never stuck behind the writers (1 s in the bench)

    with service.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ProgressEvent)) == 400
        e = ProgressEvent
        recomputed = {
            (r.participant_id, r.module, r.lesson): (r.seconds, r.attempts, r.best)
            for r in session.execute(
                select(e.participant_id, e.module, e.lesson, func.sum(e.seconds).label("seconds"),
                       func.count().filter(e.type == "quiz_submitted").label("attempts"),
                       func.max(e.score).label("best")).group_by(e.participant_id, e.module, e.lesson))
        }
        stored = {(p.participant_id, p.module, p.lesson): (p.seconds, p.quiz_attempts, p.quiz_best_score)
                  for p in session.scalars(select(LessonProgress))}
    assert stored == recomputed
    # and what each woman reads is what she sent
    with httpx.Client(base_url=service.base_url, timeout=60) as http:
        for headers, day in zip(learners, days, strict=True):
            progress = http.get(f"{API}/me/progress", headers=headers).json()
            seconds = {(m["slug"], row["slug"]): row["seconds"] for m in progress["modules"] for row in m["lessons"]}
            sent = Counter[tuple[str, str]]()
            for e_ in day:
                sent[(e_["module"], e_["lesson"])] += e_["payload"].get("seconds", 0)
            assert {k: v for k, v in seconds.items() if v} == {k: v for k, v in sent.items() if v}


class HeldWriter:
    """Another connection holding what a progress write needs: SQLite's write lock, or on PostgreSQL her row."""

    def __init__(self, service: LiveService, participant_id: int) -> None:
        self.url = service.settings.database_url
        self.participant_id = participant_id

    def hold(self) -> "HeldWriter":
        if self.url.startswith("sqlite"):
            database = parse_url(self.url).database
            assert database is not None
            self.sqlite = sqlite3.connect(database, isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            self.engine = make_engine(self.url)
            self.conn = self.engine.connect()
            self.conn.execute(select(Participant.id).where(Participant.id == self.participant_id).with_for_update())
        return self

    def release(self) -> None:
        if self.url.startswith("sqlite"):
            self.sqlite.rollback()
            self.sqlite.close()
        else:
            self.conn.rollback()
            self.conn.close()
            self.engine.dispose()


def test_a_participants_reads_never_wait_for_a_writer(service: LiveService) -> None:
    with httpx.Client(base_url=service.base_url, timeout=60) as http:
        headers = self_applied_learner(http)
        assert http.post(f"{API}/progress/events", headers=headers,
                         json={"events": [event("lesson_viewed", "saberes", "valor", 1, {"seconds": 30})]}
                         ).status_code == 200
    with service.sessions() as session:
        participant_id = session.scalars(select(Participant.id)).one()
    held = HeldWriter(service, participant_id).hold()
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            write = pool.submit(httpx.post, f"{service.base_url}{API}/progress/events", headers=headers, timeout=60,
                                json={"events": [event("lesson_viewed", "saberes", "valor", 2, {"seconds": 45})]})
            with httpx.Client(base_url=service.base_url, timeout=60) as http:
                started = time.perf_counter()
                reads = [http.get(f"{API}/me/progress", headers=headers), http.get(f"{API}/modules"),
                         http.get(f"{API}/modules/saberes", headers=headers),
                         http.get(f"{API}/modules/saberes/lessons/valor", headers=headers),
                         http.get(f"{API}/countries")]
                elapsed = time.perf_counter() - started
            assert [r.status_code for r in reads] == [200] * 5
            assert elapsed < 3  # the writer holds its lock for as long as the test wants
            valor = reads[0].json()["modules"][0]["lessons"][0]
            assert (valor["slug"], valor["seconds"]) == ("valor", 30)  # the last commit, not the pending write
            time.sleep(0.5)
            assert not write.done()  # the write waits, as it must
        finally:
            held.release()
        answer = write.result(timeout=60)
    assert answer.status_code == 200
    assert answer.json()["results"][0]["status"] == "accepted"


def test_a_revoked_token_or_a_deactivated_user_is_refused_at_once_by_every_server(service: LiveService) -> None:
    """Two servers on one database (two workers, or two hosts): no server remembers a token it once accepted."""
    with live_server(service.settings) as other, httpx.Client(timeout=60) as http:
        servers = [service.base_url, other]

        def answers(headers: dict[str, str]) -> list[int]:
            body = {"events": [event("lesson_viewed", "saberes", "valor", 1, {"seconds": 5})]}
            return [status for base in servers for status in (
                http.get(f"{base}{API}/me/progress", headers=headers).status_code,
                http.post(f"{base}{API}/progress/events", headers=headers, json=body).status_code)]

        http.base_url = httpx.URL(service.base_url)
        first, second = self_applied_learner(http, "PE"), self_applied_learner(http, "CL")
        assert answers(first) == answers(second) == [200] * 4
        assert http.post(f"{other}{API}/auth/logout", headers=first).status_code == 204
        assert answers(first) == [401] * 4

        with service.sessions() as session, session.begin():
            user_id = select(Participant.user_id).where(Participant.country_code == "CL").scalar_subquery()
            session.execute(update(User).where(User.id == user_id).values(active=False))
        assert answers(second) == [401] * 4


def test_the_hot_read_answers_exactly_what_the_framework_would(service: LiveService) -> None:
    """GET /me/progress serialises in its own thread: the body is the one her coordinator's route (through
    FastAPI's response_model) gives for her."""
    with httpx.Client(base_url=service.base_url, timeout=60) as http:
        headers = self_applied_learner(http)
        events = [event("lesson_viewed", "saberes", "valor", 1, {"seconds": 30.4}),
                  event("lesson_completed", "saberes", "valor", 2),
                  event("quiz_submitted", "saberes", "oficios", 3, {"answers": {"q1": ["a"], "q2": ["a"], "q3": []}})]
        sync = http.post(f"{API}/progress/events", headers=headers, json={"events": events})
        assert sync.status_code == 200
        assert sync.headers["content-type"] == "application/json"
        assert sync.headers["content-language"] == "es"
        with service.sessions() as session:
            participant_id = session.scalars(select(Participant.id)).one()
        coordinator = Factory(service.sessions, service.settings).coordinator("PE")
        mine = http.get(f"{API}/me/progress", headers=headers)
        hers = http.get(f"{API}/participants/{participant_id}/progress", headers=coordinator.headers)
    assert mine.status_code == hers.status_code == 200
    assert mine.headers["content-type"] == hers.headers["content-type"]
    assert mine.content == hers.content


def test_sqlite_keeps_every_acknowledged_write_on_disk(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'durable.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    engine.dispose()


@pytest.mark.skipif("postgresql" not in BACKENDS, reason="pre-ping is PostgreSQL's (SQLite has no server)")
def test_a_connection_idle_in_the_pool_is_pinged_and_replaced_if_dead(tmp_path: Path) -> None:
    url = migrated_database("postgresql", tmp_path)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    admin = make_engine(make_url(url).set(database="postgres").render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            first = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        with engine.connect() as conn:  # used a moment ago: reused as is
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() == first
        with admin.connect() as conn:  # the server drops it while it sits in the pool
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
            conn.commit()
        time.sleep(PING_AFTER_IDLE_SECONDS + 0.1)
        with engine.connect() as conn:  # idle: pinged, found dead, replaced; the request never sees it
            assert conn.exec_driver_sql("SELECT pg_backend_pid()").scalar() != first
    finally:
        engine.dispose()
        admin.dispose()
        drop_database(url)


def _counter_database(tmp_path: Path) -> tuple[Any, Any]:
    """A SQLite file with the service's engine settings (WAL, BEGIN IMMEDIATE, synchronous=FULL) and one table."""
    engine = make_engine(f"sqlite:///{tmp_path / 'grouped.db'}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE written (n INTEGER PRIMARY KEY)")
    commits: list[int] = []
    sqlalchemy_event.listen(engine, "commit", lambda _conn: commits.append(1))
    return engine, commits


def _write(n: int, *, hold: float = 0.0, fail: bool = False) -> Callable[[Any], int]:
    def write(session: Any) -> int:
        session.execute(text("INSERT INTO written (n) VALUES (:n)"), {"n": n})
        time.sleep(hold)  # the writer is busy (an fsync on a slow card): the syncs behind it queue up
        if fail:
            raise ValueError(f"write {n} fails")
        return n
    return write


def _written(engine: Any) -> list[int]:
    with engine.connect() as conn:
        return [r[0] for r in conn.exec_driver_sql("SELECT n FROM written ORDER BY n")]


def _behind_a_busy_writer(grouped: GroupCommit, pool: ThreadPoolExecutor, failing: int | None = None
                          ) -> list[Future[int]]:
    """Write 0 holds the writer for half a second; writes 1–9 arrive meanwhile (``failing`` among them fails)."""
    first = pool.submit(grouped.run, _write(0, hold=0.5))
    time.sleep(0.1)
    return [first, *(pool.submit(grouped.run, _write(n, fail=n == failing)) for n in range(1, 10))]


def test_syncs_queued_behind_a_busy_writer_are_committed_together_and_each_answered(tmp_path: Path) -> None:
    engine, commits = _counter_database(tmp_path)
    grouped = GroupCommit(make_sessionmaker(engine))
    try:
        with ThreadPoolExecutor(10) as pool:
            answers = [f.result() for f in _behind_a_busy_writer(grouped, pool)]
        assert answers == list(range(10))  # each her own answer, after the commit that holds her write
        assert _written(engine) == list(range(10))
        assert len(commits) == 2  # the first alone, then the nine that waited, in one transaction
    finally:
        engine.dispose()


def test_a_failing_write_in_a_group_fails_alone(tmp_path: Path) -> None:
    engine, _commits = _counter_database(tmp_path)
    grouped = GroupCommit(make_sessionmaker(engine))
    try:
        with ThreadPoolExecutor(10) as pool:
            writes = _behind_a_busy_writer(grouped, pool, failing=5)
            with pytest.raises(ValueError, match="write 5 fails"):
                writes[5].result()
            assert [w.result() for n, w in enumerate(writes) if n != 5] == [0, 1, 2, 3, 4, 6, 7, 8, 9]
        assert _written(engine) == [0, 1, 2, 3, 4, 6, 7, 8, 9]  # nothing of the failed one, nothing lost or doubled
    finally:
        engine.dispose()


def test_writes_are_grouped_only_on_sqlite(engine: Any) -> None:
    grouped = group_commit(make_sessionmaker(engine))
    assert (grouped is not None) == (engine.dialect.name == "sqlite")
