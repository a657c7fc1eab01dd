"""Bulk issuance for a country: the task code, the same whichever queue runs it.

Idempotent by construction: each run asks the database who still lacks a certificate, and each certificate is
inserted under its own savepoint and the partial unique index (a few are committed together, their files
stored before). Running it twice, or again after a worker was killed
halfway, issues each certificate exactly once; the job's counters are recomputed from the rows, not added up.
Rendering runs in a pool of worker processes (WeasyPrint imported and its fonts and CSS parsed once in each).
"""

import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.certificates import service
from app.certificates.pool import render_pool as render_pool  # where callers have always found it
from app.certificates.render import render_pdf
from app.core.base import utcnow
from app.core.config import Settings
from app.core.db import short_session
from app.core.errors import AppError
from app.models import Certificate, Enrolment, EnrolmentStatus, Job, JobStatus, Participant
from app.storage import Storage

KIND = "certificates.batch"
Progress = Callable[[int, int], None]
REPORT_SECONDS = 1.0


def _completed_in(country: str) -> object:
    return (select(Enrolment.participant_id)
            .join(Participant, Participant.id == Enrolment.participant_id)
            .where(Participant.country_code == country, Enrolment.status == EnrolmentStatus.COMPLETED))


def _counts(session: Session, country: str) -> tuple[int, int]:
    """(certified, total) among the women of ``country`` who completed the programme."""
    completed = _completed_in(country).subquery()  # type: ignore[attr-defined]
    total = session.scalar(select(func.count()).select_from(completed)) or 0
    certified = session.scalar(select(func.count()).select_from(completed).where(
        exists().where(Certificate.participant_id == completed.c.participant_id))) or 0
    return certified, total


def _pending(session: Session, country: str) -> list[int]:
    # any certificate, even revoked, counts: a batch never re-certifies a woman whose certificate was withdrawn
    stmt = _completed_in(country).where(  # type: ignore[attr-defined]
        ~exists().where(Certificate.participant_id == Enrolment.participant_id)).order_by(Enrolment.participant_id)
    return list(session.scalars(stmt))


def create_job(session: Session, country: str, created_by_id: int | None) -> Job:
    certified, total = _counts(session, country)
    job = Job(kind=KIND, params={"country": country}, status=JobStatus.QUEUED, done=certified, total=total,
              errors=[], created_by_id=created_by_id)
    session.add(job)
    session.flush()
    return job


def _update(factory: sessionmaker[Session], job_id: int, **values: object) -> None:
    with short_session(factory, write=True) as session:
        job = session.get_one(Job, job_id)
        for key, value in values.items():
            setattr(job, key, value)


def run(factory: sessionmaker[Session], settings: Settings, storage: Storage, job_id: int, pool: Executor | None,
        progress: Progress | None = None, chunk: int | None = None) -> Job:
    """Issue the country's missing certificates; returns the finished job. ``pool`` None renders here."""
    with short_session(factory) as session:
        job = session.get_one(Job, job_id)
        country = str(job.params["country"])
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            return job
    _update(factory, job_id, status=JobStatus.RUNNING, started_at=utcnow())
    errors: list[dict[str, object]] = []
    try:
        with short_session(factory) as session:
            pending = _pending(session, country)
            certified, total = _counts(session, country)
        _update(factory, job_id, done=certified, total=total)
        if progress:
            progress(certified, total)
        workers = getattr(pool, "_max_workers", 1) or 1
        size = chunk or 4 * workers
        # a pipeline: while the pool renders, this process plans the next pages and records the finished ones,
        # so that the pool never waits for the database (a chunk at a time left it idle between chunks)
        in_flight: deque[tuple[service.Plan, Future[bytes] | bytes]] = deque()

        def record_finished(keep: int) -> None:
            """The oldest pages (waited for) down to ``keep`` in flight, and any after them already rendered,
            in one transaction: a commit per certificate cost the worker more CPU than planning them. They are
            inserted together by service.record_many (and each under its own savepoint if one loses a race:
            the partial unique index decides per woman)."""
            finished = [in_flight.popleft() for _ in range(max(1, len(in_flight) - keep))]
            while in_flight and (not isinstance(in_flight[0][1], Future) or in_flight[0][1].done()):
                finished.append(in_flight.popleft())
            # the files before the rows that name them
            stored = [(plan, storage.put(rendered.result() if isinstance(rendered, Future) else rendered))
                      for plan, rendered in finished]
            with short_session(factory, write=True) as session:
                service.record_many(session, storage, stored, job_id)

        reported = time.monotonic()

        def report(final: bool = False) -> None:
            # counting every few pages cost as much as recording them: the counters move at most every second
            nonlocal reported
            if not final and time.monotonic() - reported < REPORT_SECONDS:
                return
            reported = time.monotonic()
            with short_session(factory) as session:
                certified, total = _counts(session, country)
            _update(factory, job_id, done=certified, total=total, errors=list(errors))
            if progress:
                progress(certified, total)

        for start in range(0, len(pending), size):
            with short_session(factory) as session:
                ids = pending[start:start + size]
                # the chunk's women, their progress and enrolments, and the modules' hours in a few queries for
                # the chunk, not a few per woman
                women = {p.id: p for p in session.scalars(select(Participant).where(Participant.id.in_(ids)))}
                prefetched = service.prefetch(session, ids)
                for participant_id in ids:
                    try:
                        plan = service.plan_issue(session, settings, women[participant_id], None, prefetched)
                    except AppError as exc:
                        errors.append({"participant_id": participant_id, "error": exc.code})
                        continue
                    # to the pool as soon as planned: at the start, the first page is rendered while the
                    # rest of the chunk is planned
                    in_flight.append((plan, pool.submit(render_pdf, plan.content) if pool else
                                      render_pdf(plan.content)))
            # up to six pages per render process queued: record the oldest when there are more than four, down
            # to two each (so the processes never wait), a few certificates per transaction
            if len(in_flight) > 4 * workers:
                record_finished(2 * workers)
            report()
        # the last pages a few at a time as they come: what is left to record after the last one is rendered
        # is its own certificate, not a dozen
        while in_flight:
            record_finished(max(0, len(in_flight) - workers))
        report(final=True)
    except Exception as exc:
        errors.append({"error": type(exc).__name__})
        _update(factory, job_id, status=JobStatus.FAILED, errors=errors, finished_at=utcnow())
        raise
    _update(factory, job_id, status=JobStatus.DONE, errors=errors, finished_at=utcnow())
    with short_session(factory) as session:
        return session.get_one(Job, job_id)


def unfinished(factory: sessionmaker[Session]) -> list[int]:
    with short_session(factory) as session:
        return list(session.scalars(select(Job.id).where(
            Job.kind == KIND, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))).order_by(Job.id)))


def unfinished_of(session: Session, country: str) -> list[int]:
    return [job.id for job in session.scalars(select(Job).where(
        Job.kind == KIND, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))).order_by(Job.id))
        if job.params.get("country") == country]
