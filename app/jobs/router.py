from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Path, Request

from app.audit import service as audit
from app.auth.dependencies import RequireAdmin
from app.certificates import batch
from app.core.dependencies import SessionDep
from app.core.errors import NotFound, error_responses
from app.core.pagination import MAX_ID
from app.jobs.schemas import BatchIn, JobCreated, JobOut
from app.models import Job

router = APIRouter(tags=["jobs"])


def _submit(request: Request, job_id: int) -> None:
    runner = getattr(request.app.state, "job_runner", None)
    if runner is not None:
        runner.submit(job_id)


@router.post("/certificates/batch", status_code=202, response_model=JobCreated,
             responses=error_responses(400, 401, 403, 422))
def batch_certificates(body: BatchIn, request: Request, background: BackgroundTasks, session: SessionDep,
                       admin: RequireAdmin) -> JobCreated:
    """Issue the missing certificates of a country's graduates, in the background; follow it at /jobs/{id}."""
    job = batch.create_job(session, body.country, admin.user_id)
    audit.record(session, admin, "certificates.batch_requested", "job", job.id, country=body.country)
    # after the response, so after the commit (SessionDep commits first): the runner finds the job
    background.add_task(_submit, request, job.id)
    return JobCreated(job_id=job.id)


@router.get("/jobs/{job_id}", response_model=JobOut, responses=error_responses(401, 403, 404, 422))
def get_job(job_id: Annotated[int, Path(ge=1, le=MAX_ID)], session: SessionDep, admin: RequireAdmin) -> JobOut:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound()
    return JobOut(id=job.id, kind=job.kind, status=job.status, done=job.done, total=job.total, errors=job.errors)
