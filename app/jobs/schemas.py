from typing import Any

from pydantic import BaseModel, ConfigDict

from app.enrolment.schemas import CountryCode
from app.models import JobStatus


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    country: CountryCode


class JobCreated(BaseModel):
    job_id: int


class JobOut(BaseModel):
    id: int
    kind: str
    status: JobStatus
    done: int
    total: int
    errors: list[dict[str, Any]]
