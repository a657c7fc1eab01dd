"""Real databases: SQLite always, PostgreSQL when CAMINOS_TEST_DATABASE_URL is set.

Each database is created and migrated once per test session (per xdist worker); each test runs inside a
transaction that is rolled back. Tests that need real commits (concurrency) make a database of their own.
"""

import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from app.cli import alembic_config
from app.core.config import Settings
from app.core.db import make_engine
from app.main import create_app
from app.storage import Storage
from tests import TEST_CREDENTIAL_KEY
from tests.factories import Factory

PG_URL = os.environ.get("CAMINOS_TEST_DATABASE_URL")

BACKENDS = ["sqlite", "postgresql"] if PG_URL else ["sqlite"]


def make_test_settings(url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "environment": "test", "database_url": url, "password_time_cost": 1, "password_memory_kib": 1024,
        "password_parallelism": 1, "application_rate_limit": 100_000, "log_json": False,
        "secret_key": "clave-de-pruebas-no-es-la-de-ejemplo",
        # tests run jobs themselves (tests/certificates/test_batch.py): no thread shares the test's connection
        "job_runner": "none",
        "credential_key_file": TEST_CREDENTIAL_KEY,
        # never the working tree's var/; the `settings` fixture gives each session a directory of its own
        "data_dir": Path(tempfile.gettempdir()) / f"caminos-test-data-{os.getpid()}",
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


def create_database(backend: str, tmp_dir: Path) -> str:
    """A new, empty database; returns its URL."""
    name = f"caminos_test_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_{uuid.uuid4().hex[:8]}"
    if backend == "sqlite":
        return f"sqlite:///{tmp_dir / (name + '.db')}"
    assert PG_URL is not None
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    assert PG_URL is not None
    name = make_url(url).database
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrated_database(backend: str, tmp_dir: Path) -> str:
    url = create_database(backend, tmp_dir)
    command.upgrade(alembic_config(url), "head")
    return url


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="session")
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = migrated_database(backend, tmp_path_factory.mktemp("db"))
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_test_settings(database_url, data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings) -> Iterator[FastAPI]:
    app = create_app(settings)
    yield app
    app.state.engine.dispose()


@pytest.fixture
def sessions(app: FastAPI, engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Every session of the test (the app's and the test's own) joins one transaction, rolled back at the end."""
    connection = engine.connect()
    transaction = connection.begin()
    factory = sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False,
                           autoflush=False)
    app.state.sessionmaker = factory
    yield factory
    transaction.rollback()
    connection.close()


@pytest.fixture
def storage(app: FastAPI) -> Storage:
    """The app's file storage (a directory of the test session): files outlive the rolled-back rows."""
    found: Storage = app.state.storage
    return found


@pytest.fixture
def client(app: FastAPI, sessions: sessionmaker[Session]) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture
def factory(sessions: sessionmaker[Session], settings: Settings) -> Factory:
    return Factory(sessions, settings)
