"""Issue 10's benchmark: a country's report and its exports with 200 women and 100,000 progress events.

On each database: the real programme loaded, 200 women registered in one country (its capacity raised: the worst
case, four times a real cohort, all the events in the reported country), their events bulk-inserted with Core
(spread over the last 12 weeks, over every module and lesson, some quizzes) with the summaries the ingestion
would have derived from them. Figures: the SQL statements of each page at 50 and at 200 women (counted on the
engine of an in-process app, they must be equal), then p50 and p99 of 50 sequential requests to each page through
the service under uvicorn in its own process (one warm-up request first, not counted).

More pages are measured the same way by passing them to ``run``: run.py adds the dashboard's country page,
logged in through its login form (``run.dashboard_login``; the in-process client talks https, so the Secure
cookie is kept; the service runs in development, on http, where the cookie is not Secure).
"""

import functools
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, insert, update
from sqlalchemy.orm import Session, sessionmaker

from app.content.service import current_modules
from app.content.spec import ModuleSpec
from app.main import create_app
from app.models import Country, LessonProgress, ModuleCompletion, ProgressEvent
from tests.benchmarks.harness import Latencies, programme_database, service
from tests.factories import Actor, Factory

COUNTRY = "PE"
WOMEN = 200
EVENTS = 100_000
FIRST_COUNT_AT = 50
REQUESTS = 50
WEEKS = 12
STAFF_PASSWORD = "clave-segura-123"  # the factory's


@dataclass(frozen=True)
class Staff:
    """Who the pages are requested as: the country's coordinator (a bearer token, or her credentials for a login
    form)."""

    username: str
    password: str
    token: str


def bearer(client: httpx.Client, staff: Staff) -> None:
    client.headers["Authorization"] = f"Bearer {staff.token}"


@dataclass(frozen=True)
class Page:
    """A page to measure. ``path`` may hold ``{country}``; ``login`` prepares a client (headers, or a cookie
    session through a login form: the client keeps its cookies) and runs before anything is counted or timed."""

    name: str
    path: str
    login: Callable[[httpx.Client, Staff], None] = bearer


PAGES = (
    Page("country_report", "/api/v1/reports/countries/{country}"),
    Page("participants_csv", "/api/v1/reports/countries/{country}/participants.csv?sep=;"),
    Page("participants_xlsx", "/api/v1/reports/countries/{country}/participants.xlsx"),
)


def women(factory: Factory, count: int) -> list[int]:
    actors = [factory.participant(COUNTRY, region="Cajamarca" if i % 3 else "Huancavelica") for i in range(count)]
    return [a.participant_id for a in actors if a.participant_id is not None]


def insert_progress(sessions: sessionmaker[Session], specs: list[ModuleSpec], versions: dict[str, str],
                    participant_ids: list[int], count: int, rng: random.Random) -> None:
    """``count`` events for these women, and the lesson and module summaries the ingestion derives from them."""
    now = datetime.now(UTC)
    lessons = [(m, lesson) for m in specs for lesson in m.lessons]
    # some women very active, most moderately, some stopped weeks ago (the report's "no activity for 14 days")
    weights = [rng.choice((0.2, 1, 1, 1, 2, 4)) for _ in participant_ids]
    stopped = {pid: timedelta(days=rng.randrange(15, 60)) if rng.random() < 0.15 else timedelta(0)
               for pid in participant_ids}
    events: list[dict[str, Any]] = []
    summary: dict[tuple[int, str, str], dict[str, Any]] = {}
    for pid in rng.choices(participant_ids, weights, k=count):
        module, lesson = rng.choice(lessons)
        kind = rng.choices(["lesson_viewed", "lesson_completed", "quiz_submitted"], [6, 2, 2])[0]
        if kind == "quiz_submitted" and lesson.quiz is None:
            kind = "lesson_viewed"
        at = now - stopped[pid] - timedelta(seconds=rng.randrange(WEEKS * 7 * 86400))
        row = summary.setdefault((pid, module.slug, lesson.slug), {
            "participant_id": pid, "module": module.slug, "lesson": lesson.slug, "seconds": 0,
            "viewed_completed_at": None, "quiz_passed_at": None, "quiz_best_score": None, "quiz_attempts": 0,
            "completed_at": None})
        seconds, score, passed = 0, None, None
        payload: dict[str, Any] = {}
        if kind == "lesson_viewed":
            seconds = rng.randrange(10, 900)
            payload = {"seconds": seconds}
            row["seconds"] += seconds
        elif kind == "lesson_completed":
            row["viewed_completed_at"] = min(filter(None, (row["viewed_completed_at"], at)))
        else:
            assert lesson.quiz is not None
            questions = lesson.quiz.questions
            right = rng.randrange(len(questions) + 1)
            score, passed = right / len(questions), right / len(questions) >= lesson.quiz.pass_mark
            payload = {"answers": {q.id: [rng.choice(q.options).id] for q in questions}}
            row["quiz_attempts"] += 1
            row["quiz_best_score"] = max(score, row["quiz_best_score"] or 0.0)
            if passed:
                row["quiz_passed_at"] = min(filter(None, (row["quiz_passed_at"], at)))
        events.append({
            "participant_id": pid, "event_id": str(uuid.uuid4()), "content_hash": uuid.uuid4().hex * 2,
            "type": kind, "module": module.slug, "module_version": versions[module.slug], "lesson": lesson.slug,
            "occurred_at": at, "received_at": at, "effective_at": at, "seconds": seconds, "score": score,
            "passed": passed, "payload": payload, "device_id": None,
        })
    quiz_lessons = {(m.slug, lesson.slug) for m, lesson in lessons if lesson.quiz is not None}
    for (_pid, module_slug, lesson_slug), row in summary.items():
        # a lesson with a quiz is done once viewed to the end and its quiz passed
        needed = [row["viewed_completed_at"]] + ([row["quiz_passed_at"]] if (module_slug, lesson_slug)
                                                 in quiz_lessons else [])
        row["completed_at"] = max(needed) if all(needed) else None
    completions = []
    for pid in participant_ids:
        for module in specs:
            done: list[datetime | None] = [summary.get((pid, module.slug, lesson.slug), {}).get("completed_at")
                                           for lesson in module.lessons if lesson.required]
            dates = [d for d in done if d is not None]
            if dates and len(dates) == len(done):
                completions.append({"participant_id": pid, "module": module.slug, "completed_at": max(dates)})
    with sessions() as session, session.begin():
        for start in range(0, len(events), 5000):
            session.execute(insert(ProgressEvent), events[start:start + 5000])
        session.execute(insert(LessonProgress), list(summary.values()))
        if completions:
            session.execute(insert(ModuleCompletion), completions)


def statements(engine: Engine, call: Callable[[], httpx.Response]) -> int:
    seen = 0

    def listener(*_args: Any) -> None:
        nonlocal seen
        seen += 1

    event.listen(engine, "before_cursor_execute", listener)
    try:
        response = call()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    if response.status_code != 200:
        raise RuntimeError(f"{response.request.url}: {response.status_code} {response.text[:200]}")
    return seen


def count_statements(settings: Any, pages: Sequence[Page], staff: Staff) -> dict[str, int]:
    app = create_app(settings)
    out = {}
    try:
        for page in pages:
            with TestClient(app, base_url="https://testserver") as client:
                page.login(client, staff)
                path = page.path.format(country=COUNTRY)
                request = functools.partial(client.get, path)
                statements(app.state.engine, request)  # warms the per-process caches
                out[page.name] = statements(app.state.engine, request)
    finally:
        app.state.engine.dispose()
    return out


def latencies(base: str, pages: Sequence[Page], staff: Staff) -> dict[str, Any]:
    out = {}
    for page in pages:
        with httpx.Client(base_url=base, timeout=120) as client:
            page.login(client, staff)
            path = page.path.format(country=COUNTRY)
            client.get(path).raise_for_status()  # warm-up
            seconds, size = [], 0
            for _ in range(REQUESTS):
                started = time.perf_counter()
                response = client.get(path)
                seconds.append(time.perf_counter() - started)
                response.raise_for_status()
                size = len(response.content)
            out[page.name] = {"requests": REQUESTS, **Latencies(seconds).summary(), "bytes": size}
    return out


def run_on(kind: str, pages: Sequence[Page]) -> dict[str, Any]:
    rng = random.Random(10)
    with programme_database(kind) as programme:
        url, settings, sessions, specs = programme.url, programme.settings, programme.sessions, programme.specs
        with sessions() as session, session.begin():
            versions = {m.slug: m.version for m in current_modules(session)}
            session.execute(update(Country).where(Country.code == COUNTRY).values(capacity=WOMEN))
        factory = Factory(sessions, settings)
        coordinator: Actor = factory.coordinator(COUNTRY)
        staff = Staff(username=coordinator.username or "", password=STAFF_PASSWORD, token=coordinator.token)

        started = time.perf_counter()
        first = women(factory, FIRST_COUNT_AT)
        insert_progress(sessions, specs, versions, first, EVENTS * FIRST_COUNT_AT // WOMEN, rng)
        at_50 = count_statements(settings, pages, staff)
        rest = women(factory, WOMEN - FIRST_COUNT_AT)
        insert_progress(sessions, specs, versions, rest, EVENTS - EVENTS * FIRST_COUNT_AT // WOMEN, rng)
        setup_seconds = time.perf_counter() - started
        at_200 = count_statements(settings, pages, staff)
        with service(url) as base:
            timings = latencies(base, pages, staff)
    return {
        "setup_seconds": round(setup_seconds, 1),
        "pages": {page.name: {**timings[page.name], "statements_at_50": at_50[page.name],
                              "statements_at_200": at_200[page.name],
                              "statements_equal": at_50[page.name] == at_200[page.name]} for page in pages},
    }


def run(extra_pages: Sequence[Page] = ()) -> dict[str, Any]:
    pages = [*PAGES, *extra_pages]
    return {"benchmark": f"country report and exports, {WOMEN} women and {EVENTS:,} progress events in one country, "
                         f"{REQUESTS} sequential requests each (1 uvicorn worker)",
            "postgresql": run_on("postgresql", pages), "sqlite": run_on("sqlite", pages)}

