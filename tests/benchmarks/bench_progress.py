"""Issue 3's benchmark: progress ingestion through the HTTP service, on SQLite and PostgreSQL.

For each database: 10,000 events sent as 200 participants × one batch of 50, then as 20 participants × one
batch of 500; events per second compared with inserting the very same rows with a plain executemany into the
same table in the same run (the database's own limit); then the same 10,000 replayed (time, and proof that
nothing changed); then one event per request from 16 concurrent clients (requests per second, p99).
"""

import asyncio
import hashlib
import json
import random
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.content.loader import load_content
from app.content.spec import ModuleSpec
from app.models import Country, LessonProgress, ModuleCompletion, Participant, ProgressEvent
from tests.benchmarks.harness import ROOT, Latencies, programme_database, service
from tests.factories import Factory

CONCURRENT_CLIENTS = 8
rng = random.Random(7)


def make_events(specs: list[ModuleSpec], count: int) -> list[dict[str, Any]]:
    lessons = [(m, lesson) for m in specs for lesson in m.lessons]
    start = datetime(2026, 9, 1, tzinfo=UTC)
    events = []
    for i in range(count):
        module, lesson = rng.choice(lessons)
        kind = rng.choices(["lesson_viewed", "lesson_completed", "quiz_submitted"], [6, 2, 2])[0]
        if kind == "quiz_submitted" and lesson.quiz is None:
            kind = "lesson_viewed"
        payload: dict[str, Any] = {}
        if kind == "lesson_viewed":
            payload = {"seconds": rng.randrange(10, 900)}
        elif kind == "quiz_submitted":
            assert lesson.quiz is not None
            payload = {"answers": {q.id: [rng.choice(q.options).id] for q in lesson.quiz.questions}}
        events.append({
            "event_id": str(uuid.uuid4()), "type": kind, "module": module.slug, "lesson": lesson.slug,
            "occurred_at": (start + timedelta(minutes=i)).isoformat(), "payload": payload,
        })
    return events


def participants(sessions: sessionmaker[Session], settings: Any, count: int) -> list[str]:
    with sessions() as session, session.begin():
        session.execute(update(Country).values(capacity=1000))
    factory = Factory(sessions, settings)
    countries = ("PE", "CL", "CO", "MX")
    return [factory.participant(countries[i % 4]).token for i in range(count)]


@contextmanager
def populated(kind: str, count: int) -> Iterator[tuple[str, sessionmaker[Session], list[str]]]:
    """A fresh database with the modules loaded and this many enrolled participants: (url, sessions, tokens)."""
    with programme_database(kind) as programme:
        tokens = participants(programme.sessions, programme.settings, count)
        yield programme.url, programme.sessions, tokens


async def send_batches(base: str, batches: list[tuple[str, list[dict[str, Any]]]]) -> tuple[float, dict[str, int]]:
    statuses: dict[str, int] = {}
    queue: asyncio.Queue[tuple[str, list[dict[str, Any]]]] = asyncio.Queue()
    for item in batches:
        queue.put_nowait(item)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            token, events = queue.get_nowait()
            response = await client.post("/api/v1/progress/events", json={"events": events},
                                         headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            for result in response.json()["results"]:
                statuses[result["status"]] = statuses.get(result["status"], 0) + 1

    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(CONCURRENT_CLIENTS)))
        return time.perf_counter() - started, statuses


def state_digest(sessions: sessionmaker[Session]) -> str:
    with sessions() as session:
        rows = [
            session.scalar(select(func.count()).select_from(ProgressEvent)),
            [tuple(r) for r in session.execute(select(
                LessonProgress.participant_id, LessonProgress.module, LessonProgress.lesson, LessonProgress.seconds,
                LessonProgress.completed_at, LessonProgress.quiz_best_score, LessonProgress.quiz_attempts,
            ).order_by(LessonProgress.id))],
            [tuple(r) for r in session.execute(select(ModuleCompletion.participant_id, ModuleCompletion.module,
                                                      ModuleCompletion.completed_at).order_by(ModuleCompletion.id))],
        ]
    return hashlib.sha256(json.dumps(rows, default=str).encode()).hexdigest()


def plain_insert_rate(sessions: sessionmaker[Session], participant_ids: list[int]) -> float:
    """Read back the rows just ingested, delete them, and insert them again with a plain executemany,
    in batches the same size as the HTTP requests, one transaction per batch."""
    with sessions() as session:
        rows = [
            {c.name: getattr(e, c.key) for c in ProgressEvent.__table__.columns if c.name != "id"}
            for e in session.scalars(select(ProgressEvent).where(ProgressEvent.participant_id.in_(participant_ids))
                                     .order_by(ProgressEvent.id))
        ]
    with sessions() as session, session.begin():
        session.execute(delete(ProgressEvent).where(ProgressEvent.participant_id.in_(participant_ids)))
    by_participant: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        by_participant.setdefault(row["participant_id"], []).append(row)
    started = time.perf_counter()
    for batch in by_participant.values():
        with sessions() as session, session.begin():
            session.execute(insert(ProgressEvent), batch)
    return len(rows) / (time.perf_counter() - started)


async def single_event_requests(base: str, tokens: list[str], events: list[dict[str, Any]], clients: int = 16
                                ) -> tuple[float, list[float]]:
    latencies: list[float] = []
    per_client = len(events) // clients

    async def client_loop(n: int) -> None:
        token = tokens[n % len(tokens)]
        async with httpx.AsyncClient(base_url=base, timeout=120) as client:
            for event in events[n * per_client:(n + 1) * per_client]:
                started = time.perf_counter()
                response = await client.post("/api/v1/progress/events", json={"events": [event]},
                                             headers={"Authorization": f"Bearer {token}"})
                response.raise_for_status()
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(clients)))
    return time.perf_counter() - started, latencies


def run_on(kind: str) -> dict[str, Any]:
    specs = load_content(ROOT / "modules_content")
    with populated(kind, 220 + 16) as (url, sessions, tokens):
        with sessions() as session:
            participant_ids = list(session.scalars(select(Participant.id).order_by(Participant.id)))
        ids_by_token = dict(zip(tokens, participant_ids, strict=True))
        scenarios = {"200x50": (tokens[:200], 50), "20x500": (tokens[200:220], 500)}
        report: dict[str, Any] = {}
        with service(url) as base:
            for name, (scenario_tokens, size) in scenarios.items():
                batches = [(t, make_events(specs, size)) for t in scenario_tokens]
                wall, statuses = asyncio.run(send_batches(base, batches))
                digest = state_digest(sessions)
                replay_wall, replay_statuses = asyncio.run(send_batches(base, batches))
                unchanged = state_digest(sessions) == digest
                total = sum(len(events) for _t, events in batches)
                http_rate = total / wall
                plain_rate = plain_insert_rate(sessions, [ids_by_token[t] for t in scenario_tokens])
                report[name] = {
                    "events": total, "wall_seconds": round(wall, 2), "events_per_second": round(http_rate),
                    "statuses": statuses,
                    "plain_executemany_events_per_second": round(plain_rate),
                    "ratio_to_plain_insert": round(http_rate / plain_rate, 3),
                    "replay_seconds": round(replay_wall, 2), "replay_statuses": replay_statuses,
                    "replay_changed_nothing": unchanged,
                }
            single = make_events(specs, 16 * 100)
            wall, latencies = asyncio.run(single_event_requests(base, tokens[220:], single))
            report["one_event_per_request_16_clients"] = {
                "requests": len(latencies), "requests_per_second": round(len(latencies) / wall, 1),
                **Latencies(latencies).summary(),
            }
    return report


def run() -> dict[str, Any]:
    return {"benchmark": "progress ingestion through the HTTP service (1 uvicorn worker, 8 concurrent clients)",
            "sqlite": run_on("sqlite"), "postgresql": run_on("postgresql")}
