"""One linear migration history that builds the models' schema exactly, and that can be undone, on both databases."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect, text

from app.cli import alembic_config
from app.models import Base
from tests.conftest import BACKENDS, create_database, drop_database


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = create_database(request.param, tmp_path)
    yield url
    drop_database(url)


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_history_is_linear():
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


def test_upgrade_downgrade_upgrade_leaves_no_drift(empty_database):
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    assert set(Base.metadata.tables) <= tables(empty_database)
    command.check(config)  # raises when the models and the migrations differ

    command.downgrade(config, "base")
    assert tables(empty_database) <= {"alembic_version"}

    command.upgrade(config, "head")
    command.check(config)
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        seats = conn.execute(text("SELECT code, capacity, enrolled FROM country ORDER BY code")).all()
    engine.dispose()
    assert [tuple(row) for row in seats] == [("CL", 50, 0), ("CO", 50, 0), ("MX", 50, 0), ("PE", 50, 0)]


def columns(url: str, table: str) -> dict[str, bool]:
    """Column name → nullable."""
    engine = create_engine(url)
    try:
        return {c["name"]: c["nullable"] for c in inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def test_blob_bytes_leave_the_database_and_the_rows_stay(empty_database):
    config = alembic_config(empty_database)
    command.upgrade(config, "0003")
    sha = "ab" * 32
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO content_blob (sha256, media_type, size, data) VALUES (:s, 'image/png', 3, :d)"),
                     {"s": sha, "d": b"png"})
    engine.dispose()

    command.upgrade(config, "0004")
    assert "data" not in columns(empty_database, "content_blob")
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        # `caminos content load` writes the files again; the rows naming them are kept as they were
        assert conn.execute(text("SELECT sha256, media_type, size FROM content_blob")).all() == [(sha, "image/png", 3)]
    engine.dispose()

    command.downgrade(config, "0003")
    assert columns(empty_database, "content_blob")["data"] is False  # NOT NULL again, as 0002 made it
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        # rows without their bytes would break the earlier version; its content load inserts them again
        assert conn.execute(text("SELECT count(*) FROM content_blob")).scalar_one() == 0
    engine.dispose()


def test_existing_participants_become_searchable_without_accents(empty_database):
    config = alembic_config(empty_database)
    command.upgrade(config, "0002")
    engine = create_engine(empty_database)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO user_account (role, full_name, locale, active, created_at) "
                          "VALUES ('participant', 'María Huamán', 'es', true, '2026-11-01')"))
        user_id = conn.execute(text("SELECT max(id) FROM user_account")).scalar_one()
        conn.execute(text(
            "INSERT INTO participant (user_id, first_name, last_name, birth_date, gender, country_code, region, "
            "locality, is_rural, has_internet, document_type, document_number, created_at) VALUES (:u, 'María', "
            "'Huamán Ñaupa', '1988-05-14', 'female', 'PE', 'Cajamarca', 'Porcón', true, true, 'DNI', '40.123.456', "
            "'2026-11-01')"), {"u": user_id})
    engine.dispose()

    command.upgrade(config, "0003")
    engine = create_engine(empty_database)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT search_text FROM participant")).scalar_one() == \
            "maria huaman naupa 40123456"
    engine.dispose()
    command.downgrade(config, "0002")
    assert "search_text" not in columns(empty_database, "participant")
