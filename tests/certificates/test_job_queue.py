"""Batches as they run in production, with real processes on real databases.

PostgreSQL: the service queues the job on procrastinate and `caminos worker` processes run it; a worker SIGKILLed
halfway leaves the job to another (stalled-job recovery), and two workers on two batches of the same country
issue each certificate once. SQLite: the service runs the job itself, and a service SIGKILLed halfway finishes
the job when it starts again.
"""

import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.main import create_app
from app.models import Certificate, Job, JobStatus
from tests.certificates.conftest import (
    ROOT,
    Cohort,
    caminos,
    certificates_per_woman,
    exactly_one_each,
    graduated_cohort,
    kill,
    start,
    stop,
    wait_for,
)
from tests.conftest import PG_URL

GRADUATES = 12
# fast heartbeats, so that a dead worker is noticed within seconds; still far above the time between two beats
FAST = {"CAMINOS_WORKER_HEARTBEAT_SECONDS": "0.5", "CAMINOS_WORKER_STALLED_SECONDS": "3",
        "CAMINOS_RENDER_WORKERS": "2"}

pytestmark = pytest.mark.xdist_group("certificate-batches")  # worker processes: keep them off each other's cores
postgresql_only = pytest.mark.skipif(PG_URL is None, reason="procrastinate needs PostgreSQL")


@pytest.fixture
def pg_cohort(tmp_path: Path) -> Iterator[Cohort]:
    with graduated_cohort("postgresql", tmp_path, GRADUATES) as built:
        yield built


@pytest.fixture
def sqlite_cohort(tmp_path: Path) -> Iterator[Cohort]:
    with graduated_cohort("sqlite", tmp_path, GRADUATES) as built:
        yield built


def request_batch(cohort: Cohort, runner: str = "queue") -> int:
    """POST /certificates/batch through the service as configured for ``runner``; the job's id."""
    app = create_app(cohort.settings.model_copy(update={"job_runner": runner}))
    try:
        with TestClient(app) as client:  # its background task (the defer) has run when post() returns
            response = client.post("/api/v1/certificates/batch", json={"country": "PE"},
                                   headers=cohort.admin.headers)
    finally:
        app.state.engine.dispose()
    assert response.status_code == 202, response.text
    return int(response.json()["job_id"])


def job(cohort: Cohort, job_id: int) -> Job:
    with cohort.factory() as session:
        return session.get_one(Job, job_id)


def queued(cohort: Cohort) -> list[tuple[int, str]]:
    """procrastinate's rows: (the job row's id it carries, its status)."""
    with cohort.factory() as session:
        return [(int(r[0]), str(r[1])) for r in session.execute(text(
            "SELECT (args->>'job_id')::bigint, status FROM procrastinate_jobs ORDER BY id"))]


def finished(cohort: Cohort, job_id: int) -> bool:
    return job(cohort, job_id).status is JobStatus.DONE


@postgresql_only
def test_the_service_queues_on_procrastinate_and_a_worker_runs_it(pg_cohort: Cohort) -> None:
    job_id = request_batch(pg_cohort)
    assert queued(pg_cohort) == [(job_id, "todo")]
    assert job(pg_cohort, job_id).status is JobStatus.QUEUED
    again = request_batch(pg_cohort)  # a second batch of the same country: nothing left to issue

    done = subprocess.run(caminos("worker", "--once"), cwd=ROOT, env=pg_cohort.env(**FAST), capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    exactly_one_each(pg_cohort)
    for ran in (job_id, again):
        finished_job = job(pg_cohort, ran)
        assert (finished_job.status, finished_job.done, finished_job.total, finished_job.errors) == (
            JobStatus.DONE, GRADUATES, GRADUATES, [])
    assert queued(pg_cohort) == []  # finished procrastinate jobs are not kept: the job row is the record


@postgresql_only
def test_a_killed_worker_leaves_its_job_to_another_worker(pg_cohort: Cohort) -> None:
    job_id = request_batch(pg_cohort)
    first = start(caminos("worker"), pg_cohort.env(**FAST))
    wait_for(lambda: sum(certificates_per_woman(pg_cohort.factory).values()) >= 2, 60, "two certificates", first)
    kill(first)
    issued = sum(certificates_per_woman(pg_cohort.factory).values())
    assert 0 < issued < GRADUATES, issued  # killed halfway
    assert job(pg_cohort, job_id).status is JobStatus.RUNNING
    assert queued(pg_cohort) == [(job_id, "doing")]  # as the dead worker left it: nobody else would take it

    second = start(caminos("worker"), pg_cohort.env(**FAST))
    try:
        wait_for(lambda: finished(pg_cohort, job_id), 60, "the job taken up again", second)
    finally:
        log = stop(second)
    exactly_one_each(pg_cohort)
    resumed = job(pg_cohort, job_id)
    assert (resumed.done, resumed.total, resumed.errors) == (GRADUATES, GRADUATES, []), log
    with pg_cohort.factory() as session:  # the resumed job issued the rest under its own id
        assert set(session.scalars(select(Certificate.job_id))) == {job_id}


@postgresql_only
def test_two_workers_on_two_batches_of_one_country_issue_each_certificate_once(pg_cohort: Cohort) -> None:
    jobs = [request_batch(pg_cohort), request_batch(pg_cohort)]
    workers = [start(caminos("worker"), pg_cohort.env(**FAST)) for _ in range(2)]
    try:
        for job_id in jobs:
            wait_for(lambda job_id=job_id: finished(pg_cohort, job_id), 60, f"job {job_id}")
    finally:
        logs = [stop(worker) for worker in workers]
    exactly_one_each(pg_cohort)
    for job_id in jobs:
        ran = job(pg_cohort, job_id)
        assert (ran.done, ran.total, ran.errors) == (GRADUATES, GRADUATES, []), logs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(cohort: Cohort, port: int) -> "subprocess.Popen[bytes]":
    """The service as production runs it on SQLite (uvicorn, jobs in the service's own thread)."""
    server = start([*caminos("serve", "--port", str(port))], cohort.env(CAMINOS_RENDER_WORKERS="2"))
    wait_for(lambda: _answers(port), 60, "the service up", server)
    return server


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def test_a_service_killed_halfway_finishes_the_job_when_it_starts_again(sqlite_cohort: Cohort) -> None:
    port = free_port()
    server = serve(sqlite_cohort, port)
    try:
        response = httpx.post(f"http://127.0.0.1:{port}/api/v1/certificates/batch", json={"country": "PE"},
                              headers=sqlite_cohort.admin.headers, timeout=30)
        assert response.status_code == 202, response.text
        job_id = int(response.json()["job_id"])
        wait_for(lambda: sum(certificates_per_woman(sqlite_cohort.factory).values()) >= 2, 60,
                 "two certificates", server)
    finally:
        kill(server)
    issued = sum(certificates_per_woman(sqlite_cohort.factory).values())
    assert 0 < issued < GRADUATES, issued
    assert job(sqlite_cohort, job_id).status is JobStatus.RUNNING

    server = serve(sqlite_cohort, port)  # nobody asks it: it resumes the job on start
    try:
        wait_for(lambda: finished(sqlite_cohort, job_id), 60, "the job resumed", server)
        shown = httpx.get(f"http://127.0.0.1:{port}/api/v1/jobs/{job_id}", headers=sqlite_cohort.admin.headers,
                          timeout=30).json()
    finally:
        stop(server)
    assert shown == {"id": job_id, "kind": "certificates.batch", "status": "done", "done": GRADUATES,
                     "total": GRADUATES, "errors": []}
    exactly_one_each(sqlite_cohort)


def test_the_runner_is_decided_by_the_database_unless_set() -> None:
    from pydantic import ValidationError

    from app.core.config import Settings

    secret = {"secret_key": "clave-de-pruebas-no-es-la-de-ejemplo", "environment": "test"}
    assert Settings(database_url="postgresql+psycopg://h/db", **secret).runner == "queue"
    assert Settings(database_url="sqlite:///x.db", **secret).runner == "in_process"
    assert Settings(database_url="postgresql+psycopg://h/db", job_runner="none", **secret).runner == "none"
    with pytest.raises(ValidationError, match="needs PostgreSQL"):
        Settings(database_url="sqlite:///x.db", job_runner="queue", **secret)
