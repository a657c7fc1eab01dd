"""Issue 10's bulk registration benchmark: one import of 200 women (50 per country) by an admin, as CSV and as XLSX,
against the service under uvicorn, on PostgreSQL and on SQLite. Goal: under 30 s for 200 rows.

Each file is first checked with a dry run (every rule, nothing stored), then imported, then sent again without a
key (every row found already registered): the three costs a coordinator sees.
"""

import time
from typing import Any

import httpx

from app.auth import service as auth_service
from app.auth.schemas import UserCreate
from app.core.db import make_engine, make_sessionmaker
from app.core.security import hash_password
from app.enrolment.spreadsheet import XLSX_MEDIA_TYPE
from app.models import Role
from tests.benchmarks.harness import fresh_database, service
from tests.conftest import make_test_settings
from tests.enrolment.imports_helpers import IMPORT, csv_file, person, xlsx_file

PER_COUNTRY = 50
COUNTRIES = ("PE", "CL", "CO", "MX")
GOAL_SECONDS = 30.0


def _admin_token(url: str) -> str:
    settings = make_test_settings(url)
    engine = make_engine(url)
    with make_sessionmaker(engine)() as session, session.begin():
        admin = auth_service.create_user(session, None, UserCreate(
            email="admin@example.org", password="clave-segura-123", full_name="Admin", role=Role.ADMIN),
            hash_password(settings, "clave-segura-123"))
        token = auth_service.issue_token(session, settings, admin.id).access_token
    engine.dispose()
    return token


def _timed(base: str, token: str, data: bytes, media_type: str, dry_run: bool) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    response = httpx.post(f"{base}{IMPORT}", params={"dry_run": str(dry_run).lower()}, timeout=600,
                          headers={"Authorization": f"Bearer {token}"},
                          files={"file": ("lista", data, media_type)})
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed, response.json()["summary"]


def _one(kind: str, file_format: str) -> dict[str, Any]:
    rows = [person(code) for code in COUNTRIES for _ in range(PER_COUNTRY)]
    data, media_type = ((csv_file(rows), "text/csv") if file_format == "csv"
                        else (xlsx_file(rows), XLSX_MEDIA_TYPE))
    with fresh_database(kind) as url:
        token = _admin_token(url)
        with service(url) as base:
            dry, dry_summary = _timed(base, token, data, media_type, dry_run=True)
            real, summary = _timed(base, token, data, media_type, dry_run=False)
            again, again_summary = _timed(base, token, data, media_type, dry_run=False)
    return {
        "file_bytes": len(data),
        "dry_run_seconds": round(dry, 2),
        "import_seconds": round(real, 2),
        "repeat_seconds": round(again, 2),
        "seconds_per_row": round(real / len(rows), 4),
        "under_goal": real < GOAL_SECONDS and dry < GOAL_SECONDS and again < GOAL_SECONDS,
        "summary": summary,
        "dry_run_agrees": dry_summary == summary,
        "repeat_all_refused": again_summary["rejected"] == len(rows),
    }


def run() -> dict[str, Any]:
    return {
        "benchmark": f"one import of {PER_COUNTRY * len(COUNTRIES)} rows by an admin, 1 uvicorn worker "
                     f"(goal under {GOAL_SECONDS:.0f} s)",
        **{f"{kind}_{file_format}": _one(kind, file_format)
           for kind in ("postgresql", "sqlite") for file_format in ("csv", "xlsx")},
    }
