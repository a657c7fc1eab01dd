"""Where bulk jobs run (``CAMINOS_JOB_RUNNER``, by default decided by the database).

``queue`` (PostgreSQL): the service defers the job's id to procrastinate and ``caminos worker`` runs it
(app/jobs/postgres.py). ``in_process`` (SQLite, which has no queue of its own): one thread of the service drains
the unfinished jobs one after another, rendering in a pool of worker processes; on start the service resumes
whatever a previous process left queued or running. ``none``: jobs are only recorded (tests run them
explicitly). The task code is the same either way (app/certificates/batch).
"""

import logging
import threading

from sqlalchemy.orm import Session, sessionmaker

from app.certificates import batch
from app.core.config import Settings
from app.storage import Storage

logger = logging.getLogger("caminos.jobs")


class InProcessRunner:
    def __init__(self, factory: sessionmaker[Session], settings: Settings, storage: Storage) -> None:
        self.factory, self.settings, self.storage = factory, settings, storage
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False

    def submit(self, job_id: int | None = None) -> None:
        """Run every unfinished job soon; a call while draining makes the drain look again at the end."""
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                self._again = True
                return
            self._thread = threading.Thread(target=self._drain, name="caminos-jobs", daemon=True)
            self._thread.start()

    def join(self, timeout: float | None = None) -> None:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _drain(self) -> None:
        while True:
            with self._lock:
                self._again = False
            try:
                run_all(self.factory, self.settings, self.storage, self.settings.render_workers)
            except Exception:
                # a database not there yet (before `caminos db upgrade`) or gone: the next submit tries again
                logger.exception("running queued jobs failed")
            with self._lock:
                if not self._again:
                    self._thread = None
                    return


class QueueRunner:
    """The service's side of procrastinate: it only queues; `caminos worker` runs and recovers."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def submit(self, job_id: int | None = None) -> None:
        if job_id is None:
            return  # at start-up: the workers find what is unfinished themselves
        from app.jobs import postgres

        try:
            postgres.defer(self.settings, job_id)
        except Exception:
            # the row is committed: the workers' sweep finds a job row with nothing queued for it
            logger.exception("queueing job %s failed; a worker will pick it up", job_id)


Runner = InProcessRunner | QueueRunner


def runner_for(settings: Settings, factory: sessionmaker[Session], storage: Storage) -> Runner | None:
    match settings.runner:
        case "queue":
            return QueueRunner(settings)
        case "in_process":
            return InProcessRunner(factory, settings, storage)
        case _:
            return None


def run_all(factory: sessionmaker[Session], settings: Settings, storage: Storage,
            workers: int | None = None) -> int:
    """Run every queued or interrupted job; returns how many ran."""
    ran = 0
    job_ids = batch.unfinished(factory)
    if not job_ids:
        return 0
    with batch.render_pool(workers) as pool:
        while job_ids:
            for job_id in job_ids:
                try:
                    batch.run(factory, settings, storage, job_id, pool)
                except Exception:
                    logger.exception("job %s failed", job_id)
                ran += 1
            job_ids = batch.unfinished(factory)
    return ran
