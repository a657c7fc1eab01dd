from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from app.core.errors import NotFound, error_responses
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
