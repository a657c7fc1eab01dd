from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status

from app.auth.dependencies import ClientAddress, CurrentUser, OptionalUser, RequireAdmin, RequireStaff
from app.auth.principal import Principal
from app.auth.schemas import ActivationCodeOut
from app.core.dependencies import PageDep, ReadSessionDep, SessionDep, SessionFactoryDep, SettingsDep
from app.core.errors import BadRequest, error_responses, localised
from app.core.i18n import request_locale
from app.core.pagination import MAX_ID, Page
from app.core.security import hash_password
from app.enrolment import imports, service, spreadsheet
from app.enrolment.geography import COUNTRY_NAMES
from app.enrolment.schemas import (
    ApplicationIn,
    ApplicationOut,
    CountryOut,
    CountryUpdate,
    EnrolmentOut,
    EnrolmentSort,
    ImportReport,
    NotifiedOut,
    ParticipantOut,
    WithdrawIn,
    WithdrawOut,
)
from app.enrolment.upload import REQUEST_BODY, Upload, read_upload
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


def _counted_import(principal: RequireStaff, factory: SessionFactoryDep) -> Principal:
    imports.count_import(factory, principal)
    return principal


@router.post(
    "/applications/import",
    response_model=ImportReport,
    openapi_extra=REQUEST_BODY,
    responses=error_responses(400, 401, 403, 409, 413, 415, 422, 429),
)
def import_applications(
    principal: Annotated[Principal, Depends(_counted_import)],
    # after authentication and the throttle (a stranger's upload is not read) and before the session (a slow
    # upload holds no unit of work)
    upload: Annotated[Upload, Depends(read_upload)],
    session: SessionDep,
    settings: SettingsDep,
    request: Request,
    response: Response,
    dry_run: Annotated[bool, Query(description="true: check every row, store nothing")] = False,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> ImportReport:
    """Bulk registration from a CSV or XLSX (the template's columns): each row, in file order, under the rules of
    a single application by the caller; a row-by-row report. The file comes as the `file` field of a
    multipart form, or as the body itself (`text/csv`, or the XLSX media type), 10 MB at most.
    With an `Idempotency-Key`, sending the same file again answers the first report (with new activation codes
    for the women who have not activated their account); a dry run ignores the key, since it stores nothing."""
    if idempotency_key is not None and not idempotency_key.strip():
        raise BadRequest()
    locale = request_locale(request)
    response.headers.update(localised(locale))
    return imports.import_applications(session, settings, principal, data=upload.data, dry_run=dry_run,
                                       idempotency_key=idempotency_key, locale=locale)


def _template(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "private, max-age=3600"})


@router.get("/applications/import/template.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}, **error_responses(401, 403)})
def import_template_csv(_principal: RequireStaff) -> Response:
    """The columns of a bulk registration, to fill in (their explanation is in the XLSX template)."""
    return _template(spreadsheet.template_csv(), "text/csv; charset=utf-8", "plantilla-inscripcion.csv")


@router.get("/applications/import/template.xlsx", response_class=Response,
            responses={200: {"content": {spreadsheet.XLSX_MEDIA_TYPE: {}}}, **error_responses(401, 403)})
def import_template_xlsx(principal: RequireStaff) -> Response:
    """The columns to fill in, and a second sheet explaining each one in Spanish with its allowed values (the
    regions of the coordinator's country; of every country for an admin)."""
    countries = [principal.country] if principal.country else list(COUNTRY_NAMES)
    return _template(spreadsheet.template_xlsx(countries), spreadsheet.XLSX_MEDIA_TYPE,
                     "plantilla-inscripcion.xlsx")
