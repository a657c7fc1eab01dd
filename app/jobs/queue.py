"""Where bulk jobs run.

``in_process`` (the default, and what SQLite needs since it has no queue of its own): one thread of the service
drains the unfinished jobs one after another, rendering in a pool of worker processes; on start the service
resumes whatever a previous process left queued or running. ``none``: jobs are only recorded (tests run them
explicitly; a separate ``caminos worker`` runs them). The task code is the same either way (app/certificates/batch).
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

    def submit(self) -> None:
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
