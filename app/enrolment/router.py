from typing import Annotated

from fastapi import APIRouter, Header, Path, Query, status

from app.auth.dependencies import ClientAddress, CurrentUser, OptionalUser, RequireAdmin
from app.auth.schemas import ActivationCodeOut
from app.core.config import SettingsDep
from app.core.db import ReadSessionDep, SessionDep, SessionFactoryDep
from app.core.errors import BadRequest, error_responses
from app.core.pagination import MAX_ID, Page, PageDep
from app.core.security import hash_password
from app.enrolment import service
from app.enrolment.schemas import (
    ApplicationIn,
    ApplicationOut,
    CountryOut,
    CountryUpdate,
    EnrolmentOut,
    EnrolmentSort,
    NotifiedOut,
    ParticipantOut,
    WithdrawIn,
    WithdrawOut,
)
from app.models import EnrolmentStatus

router = APIRouter(tags=["enrolment"])
EnrolmentId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.get("/countries", response_model=list[CountryOut])
def list_countries(session: ReadSessionDep) -> list[CountryOut]:
    return service.list_countries(session)


@router.patch("/countries/{code}", response_model=CountryOut,
              responses=error_responses(400, 401, 403, 404, 409, 422))
def update_country(
    session: SessionDep, admin: RequireAdmin, code: Annotated[str, Path(max_length=2)], body: CountryUpdate
) -> CountryOut:
    return service.update_country(session, admin, code, body)


@router.post(
    "/applications",
    response_model=ApplicationOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 409, 422, 429),
)
def apply(
    session: SessionDep,
    factory: SessionFactoryDep,
    settings: SettingsDep,
    principal: OptionalUser,
    body: ApplicationIn,
    address: ClientAddress,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ApplicationOut:
    if idempotency_key is not None and not idempotency_key.strip():
        raise BadRequest()
    if principal is None:
        service.count_public_application(factory, settings, address)
    # hashed before the transaction starts: the slow part never holds the write lock
    password_hash = hash_password(settings, body.password) if body.password else None
    return service.apply(session, settings, principal, body, password_hash, idempotency_key)


@router.get("/enrolments", response_model=Page[EnrolmentOut], responses=error_responses(401, 422))
def list_enrolments(
    session: SessionDep,
    principal: CurrentUser,
    page: PageDep,
    country: Annotated[str | None, Query(max_length=2)] = None,
    status: EnrolmentStatus | None = None,
    region: Annotated[str | None, Query(max_length=80)] = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    sort: Annotated[EnrolmentSort | None, Query(
        description="name, applied_at or progress; a leading - for descending")] = None,
) -> Page[EnrolmentOut]:
    return service.list_enrolments(session, principal, page, country, status, region, q, sort)


@router.get("/enrolments/{enrolment_id}", response_model=EnrolmentOut, responses=error_responses(401, 404, 422))
def get_enrolment(session: SessionDep, principal: CurrentUser, enrolment_id: EnrolmentId) -> EnrolmentOut:
    return service.get_enrolment(session, principal, enrolment_id)


@router.post(
    "/enrolments/{enrolment_id}/withdraw",
    response_model=WithdrawOut,
    responses=error_responses(400, 401, 404, 409, 422),
)
def withdraw(
    session: SessionDep, principal: CurrentUser, enrolment_id: EnrolmentId, body: WithdrawIn
) -> WithdrawOut:
    return service.withdraw(session, principal, enrolment_id, body.reason)


@router.get("/participants/{participant_id}", response_model=ParticipantOut,
            responses=error_responses(401, 404, 422))
def get_participant(session: SessionDep, principal: CurrentUser, participant_id: EnrolmentId) -> ParticipantOut:
    return service.get_participant(session, principal, participant_id)


@router.post(
    "/enrolments/{enrolment_id}/notified",
    response_model=NotifiedOut,
    responses=error_responses(401, 404, 409, 422),
)
def mark_notified(session: SessionDep, principal: CurrentUser, enrolment_id: EnrolmentId) -> NotifiedOut:
    """A woman promoted from the waitlist has been told she has a seat ("avisada")."""
    return service.mark_notified(session, principal, enrolment_id)


@router.post(
    "/participants/{participant_id}/activation-code",
    response_model=ActivationCodeOut,
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(401, 404, 422),
)
def new_activation_code(
    session: SessionDep, settings: SettingsDep, principal: CurrentUser, participant_id: EnrolmentId,
) -> ActivationCodeOut:
    return service.new_activation_code(session, settings, principal, participant_id)
