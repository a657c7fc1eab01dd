"""The real programme (``modules_content/``) built once per test module into a database and storage of its own,
with the system's synthesiser when there is one (espeak-ng + opusenc: CI installs them, see .ci/run)."""

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.cli import ROOT
from app.content.loader import load_content
from app.content.service import load_modules
from app.core.db import make_engine, make_sessionmaker
from app.offline.narration import EspeakOpus, find_synthesiser
from app.offline.service import BuiltTier, build_packages
from app.storage import LocalStorage, Storage
from tests.conftest import migrated_database
from tests.factories import Actor, Factory
from tests.progress.conftest import programme

CONTENT = ROOT / "modules_content"


def synthesiser_or_skip() -> EspeakOpus:
    found = find_synthesiser()
    if found is None:
        message = "espeak-ng (es-419) and opusenc are not installed (apt-get install espeak-ng opus-tools)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"narration cannot be tested in CI: {message}")
        pytest.skip(message)
    return found


@dataclass
class Built:
    sessions: sessionmaker[Session]
    storage: LocalStorage
    synthesiser: EspeakOpus
    report: list[BuiltTier]

    def load_and_build(self, content: Path, force: bool = False) -> list[BuiltTier]:
        with self.sessions() as session, session.begin():
            load_modules(session, self.storage, load_content(content))
            return build_packages(session, self.storage, self.synthesiser, force=force)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    synthesiser = synthesiser_or_skip()
    folder = tmp_path_factory.mktemp("offline")
    engine = make_engine(migrated_database("sqlite", folder))
    result = Built(make_sessionmaker(engine), LocalStorage(folder / "blobs"), synthesiser, [])
    result.report = result.load_and_build(CONTENT)
    yield result
    engine.dispose()


@pytest.fixture
def learner(sessions: sessionmaker[Session], storage: Storage, factory: Factory) -> Actor:
    """A woman enrolled in Peru, with the small programme loaded and its packages built without narration."""
    with sessions() as session, session.begin():
        load_modules(session, storage, programme())
        build_packages(session, storage, None)
    return factory.participant("PE")
