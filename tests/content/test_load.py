"""Loading content into the database and the file storage: every file is in the storage before a row names it,
loading again changes nothing in the database, and it restores files the storage lost."""

import hashlib
from pathlib import Path
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session, sessionmaker

from app.content.loader import load_content
from app.content.service import load_modules
from app.models import ContentBlob, ContentModule, ModuleVersion
from app.storage import LocalStorage, Storage
from tests.content.test_loader import REAL_CONTENT
from tests.factories import row_counts


def snapshot(sessions: sessionmaker[Session]) -> dict[str, Any]:
    with sessions() as session:
        return {
            "blobs": sorted(session.execute(select(ContentBlob.sha256, ContentBlob.media_type, ContentBlob.size))),
            "modules": sorted(session.execute(select(ContentModule.slug, ContentModule.current_version,
                                                     ContentModule.updated_at))),
            "versions": sorted(session.execute(select(ModuleVersion.module_id, ModuleVersion.version,
                                                      ModuleVersion.number))),
            "rows": row_counts(sessions),
        }


def test_each_file_is_stored_before_its_row_is_written(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)  # empty: no file is there from an earlier test
    specs = load_content(REAL_CONTENT)
    stored_when_inserted: dict[str, bool] = {}

    def inserting(_mapper: object, _connection: object, blob: ContentBlob) -> None:
        stored_when_inserted[blob.sha256] = storage.exists(blob.sha256)

    event.listen(ContentBlob, "before_insert", inserting)
    try:
        with sessions() as session, session.begin():
            load_modules(session, storage, specs)
    finally:
        event.remove(ContentBlob, "before_insert", inserting)
    media = {m.sha256: m for spec in specs for m in spec.media}
    assert stored_when_inserted, "the real content has images"
    assert stored_when_inserted == dict.fromkeys(media, True)
    for sha, medium in media.items():
        path = storage.path(sha)
        assert path is not None
        assert path.read_bytes() == medium.data
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha


def test_the_blob_row_keeps_the_type_and_size_not_the_bytes(sessions: sessionmaker[Session],
                                                            storage: Storage) -> None:
    specs = load_content(REAL_CONTENT)
    with sessions() as session, session.begin():
        load_modules(session, storage, specs)
    assert "data" not in ContentBlob.__table__.columns
    media = {m.sha256: m for spec in specs for m in spec.media}
    with sessions() as session:
        rows = {b.sha256: (b.media_type, b.size) for b in session.scalars(select(ContentBlob))}
    assert rows == {sha: (m.media_type, len(m.data)) for sha, m in media.items()}


def test_loading_twice_changes_nothing(sessions: sessionmaker[Session], storage: Storage) -> None:
    specs = load_content(REAL_CONTENT)
    with sessions() as session, session.begin():
        first = load_modules(session, storage, specs)
    before = snapshot(sessions)
    files = {m.sha256: storage.path(m.sha256) for spec in specs for m in spec.media}
    mtimes = {sha: path.stat().st_mtime_ns for sha, path in files.items() if path is not None}

    with sessions() as session, session.begin():
        again = load_modules(session, storage, load_content(REAL_CONTENT))
    assert all(loaded.new_version for loaded in first)
    assert not any(loaded.new_version for loaded in again)
    assert snapshot(sessions) == before
    assert {sha: path.stat().st_mtime_ns for sha, path in files.items() if path is not None} == mtimes


def test_loading_again_restores_a_lost_file_and_changes_nothing_else(sessions: sessionmaker[Session],
                                                                     storage: Storage) -> None:
    # an install upgraded past the migration that moved blobs out of the database has rows and no files
    specs = load_content(REAL_CONTENT)
    with sessions() as session, session.begin():
        load_modules(session, storage, specs)
    before = snapshot(sessions)
    lost = specs[0].media[0]
    path = storage.path(lost.sha256)
    assert path is not None
    path.unlink()
    assert not storage.exists(lost.sha256)

    with sessions() as session, session.begin():
        load_modules(session, storage, specs)
    assert snapshot(sessions) == before
    assert path.read_bytes() == lost.data
