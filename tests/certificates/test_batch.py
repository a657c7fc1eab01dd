"""Bulk issuance on a database of its own (real commits, real worker processes), on both databases: a batch run
twice, and a batch whose process is SIGKILLed halfway and then resumed, issue exactly one certificate per woman."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.certificates import batch
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.main import create_app
from app.models import Certificate, Job, JobStatus
from app.progress import service as progress_service
from app.storage import Storage, storage_for
from tests.certificates.conftest import events_completing_the_programme
from tests.conftest import BACKENDS, drop_database, make_test_settings, migrated_database
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, programme

ROOT = Path(__file__).resolve().parent.parent.parent
GRADUATES = 12

pytestmark = pytest.mark.xdist_group("certificate-batches")  # worker processes: keep them off each other's cores


@dataclass
class Cohort:
    settings: Settings
    factory: sessionmaker[Session]
    storage: Storage
    graduates: list[Actor]
    admin: Actor


@pytest.fixture(params=BACKENDS)
def cohort(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Cohort]:
    url = migrated_database(request.param, tmp_path)
    settings = make_test_settings(url, data_dir=tmp_path / "data")
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    storage = storage_for(settings)
    Catalogue(sessions=factory, storage=storage, specs={}).load(*programme())
    people = Factory(factory, settings)
    graduates = [people.participant("PE") for _ in range(GRADUATES)]
    people.participant("PE")  # one who has not finished: not part of the batch
    people.participant("CL")  # nor anyone of another country
    cat = Catalogue(sessions=factory, storage=storage, specs={})
    for graduate in graduates:
        events = events_completing_the_programme(cat, datetime.now(UTC) - timedelta(minutes=5))
        with factory() as session, session.begin():
            assert graduate.participant_id is not None
            progress_service.record_events(session, graduate.participant_id, events, None)
    yield Cohort(settings, factory, storage, graduates, people.admin())
    engine.dispose()
    drop_database(url)


def certificates_per_woman(factory: sessionmaker[Session]) -> dict[int, int]:
    with factory() as session:
        return dict(session.execute(select(Certificate.participant_id, func.count())
                                    .group_by(Certificate.participant_id)).all())


def exactly_one_each(cohort: Cohort) -> None:
    counts = certificates_per_woman(cohort.factory)
    assert counts == {g.participant_id: 1 for g in cohort.graduates}


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
    env = {**os.environ, "CAMINOS_DATABASE_URL": cohort.settings.database_url,
           "CAMINOS_DATA_DIR": str(cohort.settings.data_dir), "CAMINOS_ENVIRONMENT": "test",
           "CAMINOS_SECRET_KEY": cohort.settings.secret_key}
    command = [sys.executable, "-c", "from app.cli import main; main()", "certificates", "issue", "--country", "PE",
               "--workers", "2"]
    # a session of its own, so that the kill reaches its rendering processes too
    worker = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    issued = 0
    while time.monotonic() < deadline and worker.poll() is None:
        issued = sum(certificates_per_woman(cohort.factory).values())
        if issued >= 2:
            break
        time.sleep(0.02)
    assert worker.poll() is None, worker.stderr.read().decode() if worker.stderr else ""
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    issued = sum(certificates_per_woman(cohort.factory).values())
    assert 0 < issued < GRADUATES, issued  # killed halfway
    with cohort.factory() as session:
        (left,) = session.scalars(select(Job)).all()
        assert left.status is JobStatus.RUNNING  # as the killed worker left it

    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    exactly_one_each(cohort)
    with cohort.factory() as session:
        (job,) = session.scalars(select(Job)).all()  # the interrupted job, resumed, not a new one
        assert (job.status, job.done, job.total) == (JobStatus.DONE, GRADUATES, GRADUATES)
