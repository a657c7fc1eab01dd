from typing import Annotated

from fastapi import APIRouter, Depends, Path, status
from fastapi.security import OAuth2PasswordRequestForm

from app.auth import service
from app.auth.dependencies import ClientAddress, CurrentUser, RequireAdmin
from app.auth.schemas import (
    ActivateIn,
    ActivateOut,
    ActivationCodeOut,
    MeOut,
    PasswordChangeIn,
    TokenOut,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.core.dependencies import SessionDep, SessionFactoryDep, SettingsDep
from app.core.errors import error_responses
from app.core.pagination import MAX_ID
from app.core.security import hash_password

router = APIRouter(tags=["auth"])
UserId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/auth/token", response_model=TokenOut, responses=error_responses(400, 401, 422, 429))
def login(
    session: SessionDep,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    address: ClientAddress,
) -> TokenOut:
    return service.login(session, factory, settings, form.username, form.password, address)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, responses=error_responses(401))
def logout(session: SessionDep, principal: CurrentUser) -> None:
    service.logout(session, principal)


@router.post("/auth/activate", response_model=ActivateOut, responses=error_responses(400, 422, 429))
def activate(
    session: SessionDep, factory: SessionFactoryDep, settings: SettingsDep, body: ActivateIn,
    address: ClientAddress,
) -> ActivateOut:
    return ActivateOut(username=service.activate(session, factory, settings, body.code, body.password, address))


@router.get("/me", response_model=MeOut, responses=error_responses(401))
def read_me(session: SessionDep, principal: CurrentUser) -> MeOut:
    return service.me(session, principal)


@router.post("/me/password", response_model=TokenOut, responses=error_responses(400, 401, 422, 429))
def change_password(
    session: SessionDep, factory: SessionFactoryDep, settings: SettingsDep, principal: CurrentUser,
    body: PasswordChangeIn, address: ClientAddress,
) -> TokenOut:
    return service.change_password(session, factory, settings, principal, body.current_password,
                                   body.new_password, address)


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED,
             responses=error_responses(400, 401, 403, 409, 422))
def create_user(session: SessionDep, settings: SettingsDep, admin: RequireAdmin, body: UserCreate) -> UserOut:
    password_hash = hash_password(settings, body.password)
    return UserOut.model_validate(service.create_user(session, admin, body, password_hash))


@router.patch("/users/{user_id}", response_model=UserOut,
              responses=error_responses(400, 401, 403, 404, 409, 422))
def update_user(session: SessionDep, admin: RequireAdmin, user_id: UserId, body: UserUpdate) -> UserOut:
    return UserOut.model_validate(service.update_user(session, admin, user_id, body))


@router.post("/users/{user_id}/activation-code", response_model=ActivationCodeOut,
             status_code=status.HTTP_201_CREATED, responses=error_responses(401, 403, 404, 422))
def new_staff_activation_code(
    session: SessionDep, settings: SettingsDep, admin: RequireAdmin, user_id: UserId,
) -> ActivationCodeOut:
    return service.new_staff_activation_code(session, settings, admin, user_id)
