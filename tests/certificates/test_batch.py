"""Bulk issuance on a database of its own (real commits, real worker processes), on both databases: a batch run
twice, and a batch whose process is SIGKILLed halfway and then resumed, issue exactly one certificate per woman."""

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from app.certificates import batch
from app.main import create_app
from app.models import Job, JobStatus
from tests.certificates.conftest import (
    ROOT,
    Cohort,
    caminos,
    certificates_per_woman,
    exactly_one_each,
    graduated_cohort,
    kill,
    start,
    wait_for,
)
from tests.conftest import BACKENDS

GRADUATES = 12

pytestmark = pytest.mark.xdist_group("certificate-batches")  # worker processes: keep them off each other's cores


@pytest.fixture(params=BACKENDS)
def cohort(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cohort]:
    with graduated_cohort(request.param, tmp_path, GRADUATES) as built:
        yield built


def test_a_batch_run_twice_issues_each_certificate_once(cohort: Cohort) -> None:
    with batch.render_pool(2) as pool:
        for _ in range(2):
            with cohort.factory() as session, session.begin():
                job_id = batch.create_job(session, "PE", cohort.admin.user_id).id
            job = batch.run(cohort.factory, cohort.settings, cohort.storage, job_id, pool)
            assert job.status is JobStatus.DONE
            assert (job.done, job.total, job.errors) == (GRADUATES, GRADUATES, [])
            exactly_one_each(cohort)


def test_the_api_queues_a_batch_and_reports_its_progress(cohort: Cohort) -> None:
    app = create_app(cohort.settings.model_copy(update={"job_runner": "in_process", "render_workers": 2}))
    with TestClient(app) as client:
        response = client.post("/api/v1/certificates/batch", json={"country": "PE"}, headers=cohort.admin.headers)
        assert response.status_code == 202, response.text
        job_id = response.json()["job_id"]
        deadline = time.monotonic() + 120
        while True:
            job = client.get(f"/api/v1/jobs/{job_id}", headers=cohort.admin.headers).json()
            assert job["status"] in ("queued", "running", "done"), job
            if job["status"] == "done" or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert job == {"id": job_id, "kind": "certificates.batch", "status": "done", "done": GRADUATES,
                       "total": GRADUATES, "errors": []}
        assert client.get("/api/v1/jobs/999999", headers=cohort.admin.headers).status_code == 404
    app.state.engine.dispose()
    exactly_one_each(cohort)


def test_a_worker_killed_halfway_is_resumed_without_doubles(cohort: Cohort) -> None:
    command = caminos("certificates", "issue", "--country", "PE", "--workers", "2")
    worker = start(command, cohort.env())
    wait_for(lambda: sum(certificates_per_woman(cohort.factory).values()) >= 2, 120, "two certificates", worker)
    kill(worker)
    issued = sum(certificates_per_woman(cohort.factory).values())
    assert 0 < issued < GRADUATES, issued  # killed halfway
    with cohort.factory() as session:
        (left,) = session.scalars(select(Job)).all()
        assert left.status is JobStatus.RUNNING  # as the killed worker left it

    again = subprocess.run(command, cwd=ROOT, env=cohort.env(), capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    exactly_one_each(cohort)
    with cohort.factory() as session:
        (job,) = session.scalars(select(Job)).all()  # the interrupted job, resumed, not a new one
        assert (job.status, job.done, job.total) == (JobStatus.DONE, GRADUATES, GRADUATES)
