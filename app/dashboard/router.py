"""``/coordinacion``: the coordinators' dashboard, server-rendered pages under a cookie session (API.md).

Thin: each route checks who is asking (session.py), asks views.py what to show and renders it. Not in the
OpenAPI document: these are pages for people, not part of the API contract."""

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.auth import service as auth_service
from app.auth.dependencies import ClientAddress
from app.core.config import Settings
from app.core.db import short_session
from app.core.dependencies import SessionDep, SessionFactoryDep, SettingsDep
from app.core.errors import InvalidCredentials, NotFound, Throttled
from app.core.pagination import MAX_ID
from app.dashboard import bulk, views
from app.dashboard.pages import PAGE_HEADERS, SECURITY_HEADERS, error_page, render
from app.dashboard.session import (
    COOKIE,
    CSRF_FIELD,
    LOGIN_COOKIE,
    LOGIN_PATH,
    PREFIX,
    CsrfChecked,
    OptionalPageUser,
    PageUser,
    StaffPage,
    check_same_origin,
    check_token,
    clear_cookie,
    new_login_csrf,
    safe_next,
    set_cookie,
)
from app.enrolment import imports, spreadsheet
from app.enrolment.upload import Upload, read_upload
from app.models import Role
from app.reporting import exports

router = APIRouter(tags=["dashboard"], include_in_schema=False)
Code = Annotated[str, PathParam(min_length=2, max_length=2, pattern="^[A-Za-z]{2}$")]
Id = Annotated[int, PathParam(ge=1, le=MAX_ID)]
XLSX = spreadsheet.XLSX_MEDIA_TYPE
STATIC = {"panel.css": "text/css; charset=utf-8"}
_STATIC_BYTES = {name: (Path(__file__).resolve().parent / "static" / name).read_bytes() for name in STATIC}
LOGIN_FORM_MINUTES = 60


@router.get(f"{PREFIX}/static/{{name}}")
def static_file(name: str) -> Response:
    if name not in STATIC:
        raise NotFound()
    return Response(_STATIC_BYTES[name], media_type=STATIC[name],
                    headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"})


def _login_form(request: Request, settings: Settings, next_path: str, *, error: str | None = None,
                username: str = "", status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    token = new_login_csrf()
    response = render(request, "login.html.j2", {"next": next_path, "error": error, "username": username},
                      csrf=token, status_code=status_code, headers=headers)
    set_cookie(response, settings, LOGIN_COOKIE, token, LOGIN_FORM_MINUTES * 60)
    return response


@router.get(LOGIN_PATH)
def login_page(request: Request, settings: SettingsDep, user: OptionalPageUser,
               next: Annotated[str | None, Query(max_length=500)] = None) -> Response:
    if user is not None and user.principal.is_staff:
        return RedirectResponse(safe_next(next), status_code=303, headers=PAGE_HEADERS)
    return _login_form(request, settings, safe_next(next))


@router.post(LOGIN_PATH)
def login(
    request: Request, session: SessionDep, factory: SessionFactoryDep, settings: SettingsDep,
    address: ClientAddress,
    username: Annotated[str, Form(max_length=254)], password: Annotated[str, Form(max_length=200)],
    csrf: Annotated[str | None, Form(alias=CSRF_FIELD, max_length=100)] = None,
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    check_same_origin(request, settings)
    check_token(request.cookies.get(LOGIN_COOKIE, ""), csrf)
    target = safe_next(next)
    try:
        # the API's login: its throttles, its dummy hash for unknown names, one message for every failure
        issued = views.staff_login(session, factory, settings, username, password, address)
    except InvalidCredentials:
        return _login_form(request, settings, target, username=username, status_code=401,
                           error="El correo o la contraseña no son correctos.")
    except Throttled as exc:
        minutes = -(-exc.retry_after // 60)
        return _login_form(request, settings, target, username=username, status_code=429, headers=exc.headers,
                           error=f"Demasiados intentos. Intente de nuevo en {minutes} minuto"
                                 f"{'' if minutes == 1 else 's'}.")
    if issued is None:  # a participant's right password: no dashboard session for her
        return error_page(request, 403)
    response = RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)
    set_cookie(response, settings, COOKIE, issued.access_token, issued.expires_in)
    clear_cookie(response, settings, LOGIN_COOKIE)
    return response


@router.post(f"{PREFIX}/salir")
def logout(request: Request, session: SessionDep, settings: SettingsDep, user: OptionalPageUser,
           csrf: Annotated[str | None, Form(alias=CSRF_FIELD, max_length=100)] = None) -> Response:
    """Ends the session for good: its token is revoked, so a copy of the cookie no longer works either."""
    if user is not None:
        check_same_origin(request, settings)
        check_token(user.csrf(settings), csrf)
        auth_service.logout(session, user.principal)
    response = RedirectResponse(LOGIN_PATH, status_code=303, headers=PAGE_HEADERS)
    clear_cookie(response, settings, COOKIE)
    return response


@router.get(PREFIX)
def home(request: Request, session: SessionDep, settings: SettingsDep, user: StaffPage) -> Response:
    if user.principal.role is Role.COORDINATOR and user.principal.country:
        return RedirectResponse(f"{PREFIX}/{user.principal.country}", status_code=303, headers=PAGE_HEADERS)
    return render(request, "choose.html.j2", {"countries": views.countries(session)}, user=user,
                  csrf=user.csrf(settings))


@router.get(f"{PREFIX}/{{code}}")
def country(request: Request, session: SessionDep, settings: SettingsDep, user: StaffPage, code: Code) -> Response:
    context = views.country_page(session, user.principal, code)
    return render(request, "country.html.j2", context, user=user, csrf=user.csrf(settings))


@router.get(f"{PREFIX}/{{code}}/participantes")
def participants(request: Request, session: SessionDep, settings: SettingsDep, user: StaffPage, code: Code,
                 q: Annotated[str | None, Query(max_length=100)] = None) -> Response:
    context = views.participants_page(session, user.principal, code, q)
    return render(request, "participants.html.j2", context, user=user, csrf=user.csrf(settings))


@router.get(f"{PREFIX}/{{code}}/participantes/{{participant_id}}")
def participant(request: Request, session: SessionDep, settings: SettingsDep, user: StaffPage, code: Code,
                participant_id: Id) -> Response:
    context = views.participant_page(session, user.principal, code, participant_id)
    return render(request, "participant.html.j2", context, user=user, csrf=user.csrf(settings))


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={
        **SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@router.get(f"{PREFIX}/{{code}}/participantes.csv")
def participants_csv(session: SessionDep, user: StaffPage, code: Code,
                     sep: Annotated[Literal[",", ";"], Query()] = ";") -> Response:
    # the API's export (same rows, same audit); `;` by default: a spreadsheet in Spanish opens it in columns
    export = exports.participants(session, user.principal, code.upper(), "csv")
    return _download(exports.to_csv(export, sep), "text/csv; charset=utf-8", export.filename)


@router.get(f"{PREFIX}/{{code}}/participantes.xlsx")
def participants_xlsx(session: SessionDep, user: StaffPage, code: Code) -> Response:
    export = exports.participants(session, user.principal, code.upper(), "xlsx")
    return _download(exports.to_xlsx(export), XLSX, export.filename)


@router.post(f"{PREFIX}/{{code}}/inscripciones/{{enrolment_id}}/avisada")
def mark_notified(session: SessionDep, user: CsrfChecked, code: Code, enrolment_id: Id) -> Response:
    country = views.manageable(session, user.principal, code)
    views.mark_notified(session, user.principal, country.code, enrolment_id)
    return RedirectResponse(f"{PREFIX}/{country.code}#atencion", status_code=303, headers=PAGE_HEADERS)



@router.get(f"{PREFIX}/{{code}}/inscribir")
def import_form(request: Request, session: SessionDep, settings: SettingsDep, user: StaffPage,
                code: Code) -> Response:
    country = views.manageable(session, user.principal, code)
    return render(request, "import.html.j2", {"country": country, "form_key": bulk.new_form_key()}, user=user,
                  csrf=user.csrf(settings))


@router.get(f"{PREFIX}/{{code}}/plantilla.csv")
def import_template_csv(session: SessionDep, user: StaffPage, code: Code) -> Response:
    views.manageable(session, user.principal, code)
    return _download(spreadsheet.template_csv(), "text/csv; charset=utf-8", "plantilla-inscripcion.csv")


@router.get(f"{PREFIX}/{{code}}/plantilla.xlsx")
def import_template_xlsx(session: SessionDep, user: StaffPage, code: Code) -> Response:
    country = views.manageable(session, user.principal, code)
    return _download(spreadsheet.template_xlsx([country.code]), XLSX, "plantilla-inscripcion.xlsx")


def _importer(request: Request, factory: SessionFactoryDep, settings: SettingsDep, user: StaffPage,
              code: Code) -> tuple[PageUser, str]:
    """Before the file is read: from our own pages, her country (another is not found), and counted as an
    import of the API (the same hourly limit). The CSRF token comes inside the multipart form, read once with
    the file (``read_upload``), and is checked before anything is imported."""
    check_same_origin(request, settings)
    with short_session(factory) as session:
        country = views.manageable(session, user.principal, code).code
    imports.count_import(factory, user.principal)
    return user, country


@router.post(f"{PREFIX}/{{code}}/inscribir")
def import_upload(
    request: Request,
    checked: Annotated[tuple[PageUser, str], Depends(_importer)],
    # after the checks (a stranger's upload is not read) and before the session (a slow upload holds no unit
    # of work), as the API's import
    upload: Annotated[Upload, Depends(read_upload)],
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    user, country = checked
    check_token(user.csrf(settings), upload.fields.get(CSRF_FIELD))
    dry_run = upload.fields.get(bulk.ACTION_FIELD) != bulk.STORE
    report = imports.import_applications(
        session, settings, user.principal, data=upload.data, dry_run=dry_run, locale="es", country=country,
        idempotency_key=bulk.idempotency_key(country, upload.fields.get(bulk.KEY_FIELD)))
    context = {"country": views.manageable(session, user.principal, country), "report": report,
               "rows": bulk.rows(report), "codes": any(r.activation_code for r in report.rows)}
    # PAGE_HEADERS: no-store, the activation codes are shown this once
    return render(request, "import_report.html.j2", context, user=user, csrf=user.csrf(settings))
