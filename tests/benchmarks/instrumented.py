"""The service as `make bench` serves it: the real app, plus counters of what each request costs.

Bench-only (never imported by the app): an engine event counts the statements and commits of this process,
and ``GET /__bench/stats`` reports them with the process's CPU time, so a bench divides both by its requests.
Statements are those SQLAlchemy sends through a cursor (BEGIN IMMEDIATE on SQLite included); commits and
rollbacks are the DBAPI's own calls; pings are the pool's pre-pings.
"""

import os
import time
from typing import Any

from sqlalchemy import event

from app.main import create_app

app = create_app()
counts = {"statements": 0, "commits": 0, "rollbacks": 0, "pings": 0}
engine = app.state.engine


@event.listens_for(engine, "before_cursor_execute")
def _count_statement(*_args: Any) -> None:
    counts["statements"] += 1


@event.listens_for(engine, "commit")
def _count_commit(*_args: Any) -> None:
    counts["commits"] += 1


@event.listens_for(engine, "rollback")
def _count_rollback(*_args: Any) -> None:
    counts["rollbacks"] += 1


_ping = engine.dialect.do_ping


def _counted_ping(dbapi_connection: Any) -> bool:
    counts["pings"] += 1
    return bool(_ping(dbapi_connection))


engine.dialect.do_ping = _counted_ping  # type: ignore[method-assign]


@app.get("/__bench/stats", include_in_schema=False)
async def stats() -> dict[str, Any]:
    return {**counts, "cpu_seconds": time.process_time(), "pid": os.getpid()}
