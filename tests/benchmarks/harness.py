"""Shared pieces of the benchmarks: a fresh database, the service under uvicorn in its own process, statistics."""

import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from alembic import command
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from app.cli import alembic_config
from app.content.loader import load_content
from app.content.service import load_modules
from app.content.spec import ModuleSpec
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.storage import storage_for
from tests.conftest import make_test_settings

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("CAMINOS_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextmanager
def fresh_database(kind: str = "postgresql") -> Iterator[str]:
    name = f"caminos_bench_{uuid.uuid4().hex[:8]}"
    if kind == "sqlite":
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.db"
        url = f"sqlite:///{path}"
        command.upgrade(alembic_config(url), "head")
        try:
            yield url
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    command.upgrade(alembic_config(url), "head")
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Programme:
    url: str
    settings: Settings
    sessions: sessionmaker[Session]
    specs: list[ModuleSpec]


@contextmanager
def programme_database(kind: str) -> Iterator[Programme]:
    """A fresh database with the programme's modules loaded, as the benchmarks start from."""
    specs = load_content(ROOT / "modules_content")
    with fresh_database(kind) as url:
        settings = make_test_settings(url)
        engine = make_engine(url)
        sessions = make_sessionmaker(engine)
        with sessions() as session, session.begin():
            load_modules(session, storage_for(settings), specs)
        try:
            yield Programme(url, settings, sessions, specs)
        finally:
            engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    base: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its worker processes so far."""
        return sum(_cpu_of(pid) for pid in _with_descendants(self.pid))


def _with_descendants(pid: int) -> list[int]:
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in children:
            found.extend(_with_descendants(int(child)))
    return found


def _cpu_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


@contextmanager
def server(database_url: str, *, app: str = "tests.benchmarks.instrumented:app", workers: int = 1, **env: str
           ) -> Iterator[Server]:
    """An ASGI app under uvicorn, in a process of its own, on 127.0.0.1: by default the service with the bench's
    counters (tests/benchmarks/instrumented.py), which cost next to nothing."""
    port = free_port()
    environment = {
        **os.environ, "CAMINOS_DATABASE_URL": database_url, "CAMINOS_ENVIRONMENT": "development",
        "CAMINOS_APPLICATION_RATE_LIMIT": "1000000", "CAMINOS_LOG_JSON": "true", **env,
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log", "--backlog", "4096", "--workers", str(workers)],
        cwd=ROOT, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        answered: set[int] = set()
        # every worker up: a worker still starting takes no connections, and the clients that connect meanwhile
        # all land on the others (each probe is a new connection; the bench apps name the process that answers)
        while len(answered) < workers:
            try:
                probe = httpx.get(f"{base}/__bench/stats", timeout=1)
                if probe.status_code == 200:
                    answered.add(int(probe.json()["pid"]))
                    continue
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the service did not start")
            time.sleep(0.1)
        yield Server(base, process.pid)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def service(database_url: str, **env: str) -> Iterator[str]:
    """The service under uvicorn (one worker), in a process of its own, on 127.0.0.1."""
    with server(database_url, **env) as running:
        yield running.base


@dataclass
class Latencies:
    seconds: list[float]

    def percentile(self, p: float) -> float:
        ordered = sorted(self.seconds)
        index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[index]

    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": round(statistics.median(self.seconds) * 1000, 1),
            "p99_ms": round(self.percentile(99) * 1000, 1),
            "max_ms": round(max(self.seconds) * 1000, 1),
        }
