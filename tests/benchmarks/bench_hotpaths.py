"""Issue 11's benchmark: the hot paths against bare references, and the whole cohort syncing at once.

Hot paths: 16 concurrent clients, each with her own participant, send one request after another: ``POST
/progress/events`` with one ``lesson_viewed``, then ``GET /me/progress``. In the same run, interleaved with them,
the bare references (tests/benchmarks/bare.py: FastAPI + SQLAlchemy, ``UPDATE`` by key + ``COMMIT``, ``GET`` by
key) take the same load. Three repetitions, medians. Per path: requests per second, p99, the server's CPU
milliseconds per request (user + system time of its processes / requests) and, for one worker, the statements
per request counted by an engine event in the server process (tests/benchmarks/instrumented.py; the
pool's pre-pings and the DBAPI commits are counted apart). PostgreSQL with one and with two workers.

Cohort: 200 participants each post 100 events (two batches of 50) starting within the same ten seconds, then
each repeats her first batch (a phone unsure it was acknowledged); another client asks ``GET /countries`` every
100 ms throughout. Every event must be accepted exactly once, the log must hold 20,000 rows and the summaries
must equal those recomputed from the log.
"""

import asyncio
import random
import statistics
import time
import uuid
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Column, Integer, MetaData, Table, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from app.content.loader import load_content
from app.content.spec import ModuleSpec
from app.core.db import make_engine
from app.models import LessonProgress, ProgressEvent
from tests.benchmarks import bench_progress
from tests.benchmarks.harness import ROOT, Latencies, Server, server

CLIENTS = 16
REQUESTS_PER_CLIENT = 60
REPETITIONS = 3
INSTRUMENTED = "tests.benchmarks.instrumented:app"
BARE = "tests.benchmarks.bare:app"
rng = random.Random(11)


def viewed(specs: list[ModuleSpec], when: datetime) -> dict[str, Any]:
    module = rng.choice(specs)
    lesson = rng.choice(module.lessons)
    return {"event_id": str(uuid.uuid4()), "type": "lesson_viewed", "module": module.slug, "lesson": lesson.slug,
            "occurred_at": when.isoformat(), "payload": {"seconds": rng.randrange(10, 900)}}


def prepare_bare(url: str) -> None:
    engine = make_engine(url)
    metadata = MetaData()
    counter = Table("bench_counter", metadata, Column("id", Integer, primary_key=True), Column("n", Integer))
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(insert(counter), [{"id": i, "n": 0} for i in range(CLIENTS)])
    engine.dispose()


async def stats(base: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base) as client:
        return dict((await client.get("/__bench/stats")).json())


async def load(target: Server, request: Any, per_client: int = REQUESTS_PER_CLIENT, counted: bool = True
               ) -> dict[str, Any]:
    """``request(client, n, i)`` sends client n's i-th request; returns the figures of the whole run."""
    latencies: list[float] = []
    failures = 0

    async def client_loop(n: int) -> None:
        nonlocal failures
        async with httpx.AsyncClient(base_url=target.base, timeout=120) as client:
            for i in range(per_client):
                started = time.perf_counter()
                response = await request(client, n, i)
                latencies.append(time.perf_counter() - started)
                failures += response.status_code >= 400

    before = await stats(target.base) if counted else {}
    cpu_before = target.cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(client_loop(n) for n in range(CLIENTS)))
    wall = time.perf_counter() - started
    cpu = target.cpu_seconds() - cpu_before
    after = await stats(target.base) if counted else {}
    requests = len(latencies)
    figures: dict[str, Any] = {
        "requests_per_second": round(requests / wall, 1), **Latencies(latencies).summary(),
        "cpu_ms_per_request": round(1000 * cpu / requests, 2), "failures": failures,
    }
    if counted and "statements" in before:
        for name in ("statements", "commits", "pings"):
            # the stats request itself is not counted: it touches no database
            figures[f"{name}_per_request"] = round((after[name] - before[name]) / requests, 2)
    return figures


def median_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def hot_paths(kind: str) -> dict[str, Any]:
    specs = load_content(ROOT / "modules_content")
    worker_counts = (1, 2) if kind == "postgresql" else (1,)
    with bench_progress.populated(kind, CLIENTS) as (url, _sessions, tokens):
        prepare_bare(url)
        start = datetime(2026, 9, 1, tzinfo=UTC)
        sent = 0

        async def post_event(client: httpx.AsyncClient, n: int, i: int) -> httpx.Response:
            nonlocal sent
            sent += 1
            return await client.post("/api/v1/progress/events",
                                     json={"events": [viewed(specs, start + timedelta(seconds=sent))]},
                                     headers={"Authorization": f"Bearer {tokens[n]}"})

        async def get_progress(client: httpx.AsyncClient, n: int, i: int) -> httpx.Response:
            return await client.get("/api/v1/me/progress", headers={"Authorization": f"Bearer {tokens[n]}"})

        async def bare_update(client: httpx.AsyncClient, n: int, i: int) -> httpx.Response:
            return await client.post(f"/bare/update/{n}",
                                     json={"events": [viewed(specs, start + timedelta(seconds=i))]})

        async def bare_get(client: httpx.AsyncClient, n: int, i: int) -> httpx.Response:
            return await client.get(f"/bare/get/{n}")

        runs: dict[str, list[dict[str, Any]]] = {}
        with ExitStack() as stack:
            services = {w: stack.enter_context(server(url, app=INSTRUMENTED, workers=w)) for w in worker_counts}
            bare = stack.enter_context(server(url, app=BARE))
            plan = [(f"events_{w}w", services[w], post_event) for w in worker_counts]
            plan += [("bare_update", bare, bare_update)]
            plan += [(f"me_progress_{w}w", services[w], get_progress) for w in worker_counts]
            plan += [("bare_get", bare, bare_get)]
            for _name, target, request in plan:  # warm up: connections, caches, first imports
                asyncio.run(load(target, request, per_client=5, counted=False))
            for _rep in range(REPETITIONS):
                for name, target, request in plan:
                    # with two workers the stats answer is one worker's: statements are counted with one
                    counted = not name.endswith("_2w")
                    runs.setdefault(name, []).append(asyncio.run(load(target, request, counted=counted)))
    result = {name: median_of(figures) for name, figures in runs.items()}
    for name, figures in result.items():
        if name.startswith("events"):
            figures["ratio_to_bare_update"] = round(figures["requests_per_second"]
                                                    / result["bare_update"]["requests_per_second"], 3)
        if name.startswith("me_progress"):
            figures["ratio_to_bare_get"] = round(figures["requests_per_second"]
                                                 / result["bare_get"]["requests_per_second"], 3)
    if kind == "postgresql":
        for path in ("events", "me_progress"):
            result[f"{path}_2w_over_1w"] = round(result[f"{path}_2w"]["requests_per_second"]
                                                 / result[f"{path}_1w"]["requests_per_second"], 3)
    result["runs"] = runs
    return result


# -- the cohort syncing at once ----------------------------------------------------------------------------

COHORT = 200
EVENTS_EACH = 100
BATCH = 50
WINDOW_SECONDS = 10.0


async def cohort_sync(base: str, tokens: list[str], days: list[list[dict[str, Any]]]) -> dict[str, Any]:
    latencies: list[float] = []
    probe: list[float] = []
    statuses: dict[str, int] = {}
    replay_statuses: dict[str, int] = {}
    failures: list[int] = []
    done = asyncio.Event()
    limits = httpx.Limits(max_connections=COHORT + 10, max_keepalive_connections=COHORT + 10)

    async def post(client: httpx.AsyncClient, token: str, events: list[dict[str, Any]],
                   into: dict[str, int]) -> None:
        started = time.perf_counter()
        response = await client.post("/api/v1/progress/events", json={"events": events},
                                     headers={"Authorization": f"Bearer {token}"})
        latencies.append(time.perf_counter() - started)
        if response.status_code != 200:
            failures.append(response.status_code)
            return
        for result in response.json()["results"]:
            into[result["status"]] = into.get(result["status"], 0) + 1

    async def participant(client: httpx.AsyncClient, token: str, events: list[dict[str, Any]],
                          delay: float) -> None:
        await asyncio.sleep(delay)
        batches = [events[i:i + BATCH] for i in range(0, len(events), BATCH)]
        for batch in batches:
            await post(client, token, batch, statuses)
        await post(client, token, batches[0], replay_statuses)

    async def countries(client: httpx.AsyncClient) -> None:
        while not done.is_set():
            started = time.perf_counter()
            response = await client.get("/api/v1/countries")
            probe.append(time.perf_counter() - started)
            if response.status_code != 200:
                failures.append(response.status_code)
            await asyncio.sleep(0.1)

    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client, \
            httpx.AsyncClient(base_url=base, timeout=120) as prober:
        probing = asyncio.create_task(countries(prober))
        started = time.perf_counter()
        await asyncio.gather(*(participant(client, t, d, rng.uniform(0, WINDOW_SECONDS))
                               for t, d in zip(tokens, days, strict=True)))
        wall = time.perf_counter() - started
        done.set()
        await probing
    return {"wall_seconds": round(wall, 2), "requests": len(latencies), **Latencies(latencies).summary(),
            "statuses": statuses, "replay_statuses": replay_statuses, "failures": failures,
            "countries_probes": len(probe), "countries_max_ms": round(max(probe) * 1000, 1),
            "countries_p99_ms": round(Latencies(probe).percentile(99) * 1000, 1)}


def summaries_match_log(sessions: sessionmaker[Session]) -> bool:
    """The summaries recomputed from the log: seconds add up, attempts count, the best score is the maximum."""
    e = ProgressEvent
    with sessions() as session:
        recomputed = {
            (r.participant_id, r.module, r.lesson): (int(r.seconds), int(r.attempts), r.best)
            for r in session.execute(
                select(e.participant_id, e.module, e.lesson, func.sum(e.seconds).label("seconds"),
                       func.count().filter(e.type == "quiz_submitted").label("attempts"),
                       func.max(e.score).label("best"))
                .group_by(e.participant_id, e.module, e.lesson))
        }
        stored = {
            (p.participant_id, p.module, p.lesson): (p.seconds, p.quiz_attempts, p.quiz_best_score)
            for p in session.scalars(select(LessonProgress))
        }
    return recomputed == stored


def cohort(kind: str) -> dict[str, Any]:
    specs = load_content(ROOT / "modules_content")
    workers = 2 if kind == "postgresql" else 1
    with bench_progress.populated(kind, COHORT) as (url, sessions, tokens):
        days = [bench_progress.make_events(specs, EVENTS_EACH) for _ in tokens]
        with server(url, workers=workers) as running:
            cpu_before = running.cpu_seconds()
            report = asyncio.run(cohort_sync(running.base, tokens, days))
            report["server_cpu_seconds"] = round(running.cpu_seconds() - cpu_before, 2)
        with sessions() as session:
            rows = session.scalar(select(func.count()).select_from(ProgressEvent))
        report |= {"workers": workers, "events_sent": COHORT * EVENTS_EACH, "rows_in_log": rows,
                   "accepted_exactly_once": report["statuses"] == {"accepted": COHORT * EVENTS_EACH}
                   and report["replay_statuses"] == {"duplicate": COHORT * BATCH},
                   "summaries_match_log": summaries_match_log(sessions)}
    return report


def run_hot_paths() -> dict[str, Any]:
    return {"sqlite": hot_paths("sqlite"), "postgresql": hot_paths("postgresql")}


def run_cohort() -> dict[str, Any]:
    return {"sqlite_1_worker": cohort("sqlite"), "postgresql_2_workers": cohort("postgresql")}
