from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict

from app.audit import service as audit_service
from app.auth.dependencies import RequireAdmin
from app.core.dependencies import PageDep, SessionDep
from app.core.errors import NotFound, error_responses
from app.core.pagination import Page
from app.core.validation import IsoAwareDatetime
from app.privacy.notice import CURRENT_NOTICE_VERSION, NOTICES

router = APIRouter(tags=["privacy"])


class ConsentNoticeOut(BaseModel):
    version: str
    current: bool
    language: str = "es"
    text: str


@router.get("/consent/notice", response_model=ConsentNoticeOut, responses=error_responses(404, 422))
def consent_notice(version: Annotated[str | None, Query(max_length=20)] = None) -> ConsentNoticeOut:
    """The privacy notice an applicant accepts (Spanish); without ``version``, the current one."""
    version = version or CURRENT_NOTICE_VERSION
    if version not in NOTICES:
        raise NotFound()
    return ConsentNoticeOut(version=version, current=version == CURRENT_NOTICE_VERSION, text=NOTICES[version])


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_id: int | None
    action: str
    entity: str
    entity_id: str
    country_code: str | None
    data: dict[str, Any]
    request_id: str | None


@router.get("/audit", response_model=Page[AuditEntryOut], responses=error_responses(401, 403, 422), tags=["audit"])
def read_audit(
    session: SessionDep,
    _admin: RequireAdmin,
    page: PageDep,
    actor: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    action: Annotated[str | None, Query(max_length=60)] = None,
    since: IsoAwareDatetime | None = None,
    country: Annotated[str | None, Query(min_length=2, max_length=2)] = None,
) -> Page[AuditEntryOut]:
    items, total = audit_service.search(session, page, actor, action, since, country)
    return Page(items=[AuditEntryOut.model_validate(e) for e in items], total=total)
