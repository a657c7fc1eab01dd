from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.pagination import MAX_ID
from app.core.validation import Reason
from app.enrolment.schemas import CountryCode
from app.models import CertificateStatus, RevokeReason


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participant_id: int = Field(ge=1, le=MAX_ID)
    # an admin may certify a woman the server does not see as complete (say, progress recorded on paper): in
    # writing, and kept in the audit log
    override_reason: Reason | None = None


class RevokeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: RevokeReason
    note: Annotated[str, Field(max_length=1000)] | None = None  # private: never on the public page


class ReissueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class IssuedOut(BaseModel):
    id: int
    code: str
    status: CertificateStatus
    verify_url: str


class ModuleOut(BaseModel):
    slug: str
    title: str
    minutes: int


class CertificateOut(BaseModel):
    id: int
    code: str
    status: CertificateStatus
    participant_id: int
    country: CountryCode
    holder_name: str
    modules: list[ModuleOut]
    total_minutes: int
    completed_at: datetime
    issued_at: datetime
    verify_url: str
    revoked_at: datetime | None = None
    revoke_reason: RevokeReason | None = None
    superseded_at: datetime | None = None
    superseded_by_id: int | None = None


class MyCertificateOut(BaseModel):
    id: int
    code: str
    status: CertificateStatus
    issued_at: datetime
    verify_url: str


class VerificationOut(BaseModel):
    """What anyone holding a code may read: no participant id, no private note, no link to a newer one."""

    status: Literal["valid", "revoked", "superseded"]
    code: str
    holder_name: str
    programme: str
    country: CountryCode
    modules: list[ModuleOut]
    total_minutes: int
    completed_at: datetime
    issued_at: datetime
    revoked_at: datetime | None = None
    revoke_reason: RevokeReason | None = None
    superseded_at: datetime | None = None
