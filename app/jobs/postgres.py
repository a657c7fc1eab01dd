"""Jobs on PostgreSQL: procrastinate carries the id of a ``job`` row; ``caminos worker`` runs them.

The ``job`` row stays what the API shows; procrastinate only decides which worker runs it and when. A worker that
dies (SIGKILL, a lost machine) stops sending heartbeats: every other worker looks for such stalled jobs when it
starts and then every few seconds, and puts them back in the queue, where one of them takes the job up again. The
task code (app/certificates/batch.run) is idempotent, so a job run twice, or two jobs of the same country at
once, still issue each certificate once: the partial unique index decides, the counters are recounted from rows.
"""

import asyncio
import contextlib
import logging
import os
from collections.abc import Iterator
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import dataclass, field

import procrastinate
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session, sessionmaker

from app.certificates import batch
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker, short_session
from app.storage import Storage, storage_for

logger = logging.getLogger("caminos.jobs")

TASK = "certificates.batch"


def conninfo(database_url: str) -> str:
    """libpq's form of the SQLAlchemy URL (``postgresql+psycopg://`` → ``postgresql://``)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class WorkerState:
    """What the task needs in a worker process: sessions, storage, and one warm render pool for its lifetime."""

    factory: sessionmaker[Session]
    settings: Settings
    storage: Storage
    _pool: Executor | None = None
    _stack: ExitStack = field(default_factory=ExitStack)

    def pool(self) -> Executor:
        if self._pool is None:
            self._pool = self._stack.enter_context(batch.render_pool(self.settings.render_workers))
        return self._pool

    def close(self) -> None:
        self._stack.close()


def _run_batch(context: procrastinate.JobContext, job_id: int) -> None:
    state: WorkerState = context.additional_context["caminos"]
    batch.run(state.factory, state.settings, state.storage, job_id, state.pool())


def make_app(connector: procrastinate.BaseConnector) -> procrastinate.App:
    app = procrastinate.App(connector=connector)
    app.task(name=TASK, pass_context=True)(_run_batch)
    return app


def _lock(job_id: int) -> str:
    return f"job-{job_id}"


def defer(settings: Settings, job_id: int) -> None:
    """Queue a job row (after its commit). Already queued is fine; a failure is left to the workers' sweep."""
    app = make_app(procrastinate.SyncPsycopgConnector(conninfo=conninfo(settings.database_url), min_size=1,
                                                      max_size=1))
    with app.open():
        _defer_with(app, job_id)


# a lock per job row: a job put back in the queue never runs beside a copy of itself; the queueing lock keeps a
# second defer of a row that is still waiting from adding another copy
def _defer_with(app: procrastinate.App, job_id: int) -> None:
    with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
        app.configure_task(TASK, lock=_lock(job_id), queueing_lock=_lock(job_id)).defer(job_id=job_id)


async def _defer_with_async(app: procrastinate.App, job_id: int) -> None:
    with contextlib.suppress(procrastinate.exceptions.AlreadyEnqueued):
        await app.configure_task(TASK, lock=_lock(job_id), queueing_lock=_lock(job_id)).defer_async(job_id=job_id)


def _orphans(factory: sessionmaker[Session]) -> list[int]:
    """Unfinished job rows with nothing in procrastinate to run them (the service died between its commit and
    the defer, or the defer failed)."""
    with short_session(factory) as session:
        return list(session.scalars(text(
            "SELECT job.id FROM job WHERE job.kind = :kind AND job.status IN ('queued', 'running') "
            "AND NOT EXISTS (SELECT 1 FROM procrastinate_jobs p WHERE p.task_name = :task "
            "AND p.status IN ('todo', 'doing') AND (p.args->>'job_id')::bigint = job.id) ORDER BY job.id"),
            {"kind": batch.KIND, "task": TASK}))


async def recover(app: procrastinate.App, factory: sessionmaker[Session], settings: Settings) -> int:
    """Put stalled jobs (their worker's heartbeat is older than the timeout) back in the queue, and queue
    orphaned job rows; returns how many."""
    recovered = 0
    for job in await app.job_manager.get_stalled_jobs(
            task_name=TASK, seconds_since_heartbeat=settings.worker_stalled_seconds):
        try:
            await app.job_manager.retry_job(job)
        except procrastinate.exceptions.ConnectorException:
            continue  # another worker put it back first: it is no longer "doing"
        logger.warning("job %s (procrastinate %s) was stalled: queued again", job.task_kwargs, job.id)
        recovered += 1
    for job_id in await asyncio.to_thread(_orphans, factory):
        await _defer_with_async(app, job_id)
        recovered += 1
    return recovered


async def _recover_every(app: procrastinate.App, factory: sessionmaker[Session], settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.worker_heartbeat_seconds)
        try:
            await recover(app, factory, settings)
        except Exception:  # the database gone for a moment: the next round tries again
            logger.exception("looking for stalled jobs failed")


@contextlib.contextmanager
def _worker_state(settings: Settings, pool: Executor | None) -> Iterator[WorkerState]:
    engine = make_engine(settings.database_url)
    state = WorkerState(make_sessionmaker(engine), settings, storage_for(settings), pool)
    try:
        yield state
    finally:
        state.close()
        engine.dispose()


async def _work(settings: Settings, once: bool, concurrency: int, pool: Executor | None) -> None:
    # a few connections are enough for one job at a time (listening, fetching, heartbeats); the database's
    # connection limit is shared with the service
    app = make_app(procrastinate.PsycopgConnector(conninfo=conninfo(settings.database_url), min_size=1,
                                                  max_size=concurrency + 3))
    with _worker_state(settings, pool) as state:
        async with app.open_async():
            await recover(app, state.factory, settings)
            sweeper = None if once else asyncio.create_task(_recover_every(app, state.factory, settings))
            try:
                await app.run_worker_async(
                    name=f"caminos-{os.getpid()}", concurrency=concurrency, wait=not once,
                    additional_context={"caminos": state}, listen_notify=True,
                    update_heartbeat_interval=settings.worker_heartbeat_seconds,
                    stalled_worker_timeout=settings.worker_stalled_seconds,
                    # the job row is the record of a finished job; procrastinate's copy is not kept
                    delete_jobs="successful")
            finally:
                if sweeper is not None:
                    sweeper.cancel()


def work(settings: Settings, once: bool = False, concurrency: int = 1, pool: Executor | None = None) -> None:
    """``caminos worker`` on PostgreSQL: run queued jobs until stopped (SIGTERM/SIGINT end it gracefully).
    ``pool``: render processes already started (the caller closes them); else started at the first job."""
    asyncio.run(_work(settings, once, concurrency, pool))
