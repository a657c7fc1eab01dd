from typing import Annotated

from fastapi import APIRouter, Path

from app.auth.dependencies import CurrentUser, RequireAdmin
from app.core.dependencies import SessionDep, SettingsDep
from app.core.errors import error_responses
from app.core.pagination import MAX_ID
from app.rights import service
from app.rights.schemas import ConsentWithdrawIn, ConsentWithdrawOut, EraseIn, EraseOut, MeUpdate, MyData

router = APIRouter(tags=["privacy"])


@router.post("/me/consent/withdraw", response_model=ConsentWithdrawOut, responses=error_responses(400, 401, 422))
def withdraw_consent(session: SessionDep, principal: CurrentUser, body: ConsentWithdrawIn) -> ConsentWithdrawOut:
    return service.withdraw_sensitive_consent(session, principal)


@router.get("/me/data", response_model=MyData, responses=error_responses(401))
def my_data(session: SessionDep, settings: SettingsDep, principal: CurrentUser) -> MyData:
    """Everything held about the caller (right of access), including who on staff viewed her record."""
    return service.my_data(session, settings, principal)


@router.patch("/me", response_model=MyData, responses=error_responses(400, 401, 422))
def update_me(session: SessionDep, settings: SettingsDep, principal: CurrentUser, body: MeUpdate) -> MyData:
    return service.update_me(session, settings, principal, body)


@router.post("/participants/{participant_id}/erase", response_model=EraseOut,
             responses=error_responses(400, 401, 403, 404, 409, 422))
def erase_participant(
    session: SessionDep, admin: RequireAdmin, participant_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: EraseIn,
) -> EraseOut:
    return service.erase(session, admin, participant_id, body.reason)
