from typing import Annotated

from fastapi import Depends

from app.auth.dependencies import CurrentUser
from app.auth.principal import Principal
from app.core.errors import Forbidden
from app.models import Role


def check_study_access(principal: Principal) -> Principal:
    """Staff read all content; a participant only while she holds a seat (waitlisted or withdrawn: 403)."""
    if principal.role is Role.PARTICIPANT and not principal.may_study:
        raise Forbidden("enrolment_required")
    return principal


def check_learner(principal: Principal) -> Principal:
    """Only a participant records progress, and only her own."""
    check_study_access(principal)
    if principal.role is not Role.PARTICIPANT:
        raise Forbidden("progress_is_for_participants")
    return principal


async def require_study_access(principal: CurrentUser) -> Principal:
    return check_study_access(principal)


async def require_learner(principal: Annotated[Principal, Depends(require_study_access)]) -> Principal:
    return check_learner(principal)


StudyAccess = Annotated[Principal, Depends(require_study_access)]
Learner = Annotated[Principal, Depends(require_learner)]
