import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.models import Certificate
from app.progress import service as progress_service
from app.storage import Storage, storage_for
from tests.conftest import drop_database, make_test_settings, migrated_database
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, catalogue, programme  # noqa: F401  (catalogue: a fixture)

ROOT = Path(__file__).resolve().parent.parent.parent

API = "/api/v1"


def events_completing_the_programme(cat: Catalogue, occurred_at: datetime) -> list[dict[str, object]]:
    import uuid

    when = occurred_at.isoformat().replace("+00:00", "Z")

    def event(kind: str, module: str, lesson: str, payload: dict[str, object] | None = None) -> dict[str, object]:
        return {"event_id": str(uuid.uuid4()), "type": kind, "module": module, "lesson": lesson,
                "occurred_at": when, "payload": payload or {}}

    return [
        event("lesson_completed", "saberes", "valor"),
        event("lesson_completed", "saberes", "oficios"),
        event("quiz_submitted", "saberes", "oficios", {"answers": cat.oficios_right}),
        event("lesson_completed", "precio", "costos"),
        event("quiz_submitted", "precio", "costos", {"answers": cat.costos_right}),
        event("lesson_completed", "precio", "cuentas"),
    ]


def complete_programme(client: TestClient, actor: Actor, cat: Catalogue,
                       occurred_at: datetime | None = None) -> None:
    events = events_completing_the_programme(cat, occurred_at or datetime.now(UTC) - timedelta(minutes=5))
    response = client.post(f"{API}/progress/events", json={"events": events}, headers=actor.headers)
    assert response.status_code == 200, response.text
    assert {r["status"] for r in response.json()["results"]} == {"accepted"}


@pytest.fixture
def admin(factory: Factory) -> Actor:
    return factory.admin()


@pytest.fixture
def graduate(client: TestClient, factory: Factory, catalogue: Catalogue) -> Actor:  # noqa: F811
    """A Peruvian participant who completed the programme."""
    actor = factory.participant("PE", first_name="María de los Ángeles", last_name="Huamán Quispe de la Cruz")
    complete_programme(client, actor, catalogue)
    return actor


@dataclass
class Cohort:
    settings: Settings
    factory: sessionmaker[Session]
    storage: Storage
    graduates: list[Actor]
    admin: Actor

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of a ``caminos`` process on this cohort's database and files."""
        return {**os.environ, "CAMINOS_DATABASE_URL": self.settings.database_url,
                "CAMINOS_DATA_DIR": str(self.settings.data_dir), "CAMINOS_ENVIRONMENT": "test",
                "CAMINOS_SECRET_KEY": self.settings.secret_key, **extra}


@contextmanager
def graduated_cohort(backend: str, tmp_path: Path, graduates: int) -> Iterator[Cohort]:
    """A database of its own with ``graduates`` Peruvian women who completed the programme, one who has not, and
    a Chilean one (neither is part of a Peruvian batch)."""
    url = migrated_database(backend, tmp_path)
    settings = make_test_settings(url, data_dir=tmp_path / "data")
    engine = make_engine(url)
    factory = make_sessionmaker(engine)
    storage = storage_for(settings)
    Catalogue(sessions=factory, storage=storage, specs={}).load(*programme())
    people = Factory(factory, settings)
    done = [people.participant("PE") for _ in range(graduates)]
    people.participant("PE")
    people.participant("CL")
    cat = Catalogue(sessions=factory, storage=storage, specs={})
    for graduate in done:
        events = events_completing_the_programme(cat, datetime.now(UTC) - timedelta(minutes=5))
        with factory() as session, session.begin():
            assert graduate.participant_id is not None
            progress_service.record_events(session, graduate.participant_id, events, None)
    try:
        yield Cohort(settings, factory, storage, done, people.admin())
    finally:
        engine.dispose()
        drop_database(url)


def certificates_per_woman(factory: sessionmaker[Session]) -> dict[int, int]:
    with factory() as session:
        return dict(session.execute(select(Certificate.participant_id, func.count())
                                    .group_by(Certificate.participant_id)).all())


def exactly_one_each(cohort: Cohort) -> None:
    counts = certificates_per_woman(cohort.factory)
    assert counts == {g.participant_id: 1 for g in cohort.graduates}


def caminos(*args: str) -> list[str]:
    return [sys.executable, "-c", "from app.cli import main; main()", *args]


def start(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    # a session of its own, so that a kill reaches its rendering processes too
    return subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process and its children: nothing gets to clean up."""
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> str:
    """SIGTERM (a graceful stop); returns what it wrote to stderr."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        kill(process)
    return process.stderr.read().decode() if process.stderr else ""


def wait_for(condition: Callable[[], bool], timeout: float, what: str,
             alive: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if alive is not None and alive.poll() is not None:
            raise AssertionError(f"{what}: the process ended: {stop(alive)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout} s")
        time.sleep(0.02)
