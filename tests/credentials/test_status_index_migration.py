"""Migration 0010 gives certificates issued before it a status list position each: distinct, then required."""

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, text
from sqlalchemy.exc import IntegrityError

from app.cli import alembic_config
from app.models import STATUS_LIST_SIZE, Base
from tests.conftest import BACKENDS, create_database, drop_database


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    url = create_database(request.param, tmp_path)
    yield url
    drop_database(url)


def test_certificates_issued_before_get_distinct_positions(empty_database: str) -> None:
    config = alembic_config(empty_database)
    command.upgrade(config, "0013")
    engine = create_engine(empty_database)
    users, participants = Base.metadata.tables["user_account"], Base.metadata.tables["participant"]
    with engine.begin() as conn:
        for n in range(1, 6):
            conn.execute(insert(users).values(id=n, role="participant", country_code="PE", full_name=f"M {n}"))
            conn.execute(insert(participants).values(
                id=n, user_id=n, first_name="María", last_name=f"Quispe {n}", birth_date=date(1988, 5, 14),
                gender="female", country_code="PE", region="Cajamarca", locality="Porcón", is_rural=True,
                has_internet=True))
            conn.execute(text(
                "INSERT INTO certificate (code, participant_id, country, status, holder_name, modules, "
                "total_minutes, completed_at, issued_at, pdf_sha256) VALUES (:code, :n, 'PE', :status, 'M', '[]', "
                "50, '2026-11-30 12:00:00+00', '2026-12-01 12:00:00+00', :sha)"),
                {"code": f"CODE{n:016d}", "n": n, "status": "revoked" if n == 1 else "issued", "sha": "a" * 64})
    command.upgrade(config, "head")
    with engine.connect() as conn:
        indexes = [row[0] for row in conn.execute(text("SELECT status_list_index FROM certificate ORDER BY id"))]
    assert len(indexes) == len(set(indexes)) == 5
    assert all(0 <= i < STATUS_LIST_SIZE for i in indexes)
    with engine.begin() as conn, pytest.raises(IntegrityError):  # unique from now on
        conn.execute(text("UPDATE certificate SET status_list_index = :i WHERE id = 2"), {"i": indexes[0]})
    command.downgrade(config, "0013")
    command.upgrade(config, "head")
    engine.dispose()
