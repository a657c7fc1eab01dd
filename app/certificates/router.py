from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from app.auth.dependencies import ClientAddress, CurrentUser, RequireAdmin, RequireStaff
from app.certificates import repository, service
from app.certificates.schemas import (
    CertificateOut,
    IssuedOut,
    IssueIn,
    MyCertificateOut,
    ReissueIn,
    RevokeIn,
    VerificationOut,
)
from app.core.dependencies import PageDep, SessionDep, SessionFactoryDep, SettingsDep
from app.core.errors import Forbidden, NotFound, error_responses
from app.core.files import file_response
from app.core.pagination import MAX_ID, Page
from app.enrolment.schemas import CountryCode
from app.models import CertificateStatus, Role
from app.storage.dependencies import StorageDep

router = APIRouter(tags=["certificates"])
CertificateId = Annotated[int, Path(ge=1, le=MAX_ID)]
PDF: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "El certificado en PDF/A-3u"}}


@router.post("/certificates", status_code=201, response_model=IssuedOut,
             responses={200: {"model": IssuedOut, "description": "Ya tenía un certificado vigente: ese mismo"},
                        **error_responses(400, 401, 403, 404, 409, 422)})
def issue_certificate(body: IssueIn, response: Response, session: SessionDep, factory: SessionFactoryDep,
                      settings: SettingsDep, storage: StorageDep, admin: RequireAdmin) -> IssuedOut:
    """Issue her certificate once she completed the programme (or with a written override reason)."""
    certificate, created = service.issue(session, factory, settings, storage, admin, body.participant_id,
                                         body.override_reason)
    if not created:
        response.status_code = 200
    return service.issued_out(settings, certificate)


@router.get("/certificates", response_model=Page[CertificateOut], responses=error_responses(401, 403, 422))
def list_certificates(session: SessionDep, settings: SettingsDep, staff: RequireStaff, page: PageDep,
                      country: CountryCode | None = None,
                      status: CertificateStatus | None = None) -> Page[CertificateOut]:
    items, total = service.list_certificates(session, staff, page, country, status)
    return Page(items=[service.certificate_out(settings, c) for c in items], total=total)


@router.get("/me/certificates", response_model=Page[MyCertificateOut], responses=error_responses(401, 403))
def my_certificates(session: SessionDep, settings: SettingsDep, principal: CurrentUser) -> Page[MyCertificateOut]:
    """Hers, whatever her enrolment's status now (a withdrawn woman keeps what she earned)."""
    if principal.role is not Role.PARTICIPANT or principal.participant_id is None:
        raise Forbidden()
    items = service.mine(session, settings, principal.participant_id)
    return Page(items=items, total=len(items))


@router.get("/certificates/{certificate_id}/pdf", response_class=Response,
            responses={**PDF, **error_responses(401, 404, 416, 422)})
def certificate_pdf(request: Request, certificate_id: CertificateId, session: SessionDep, storage: StorageDep,
                    principal: CurrentUser) -> Response:
    certificate = repository.get_readable(session, principal, certificate_id)
    path = storage.path(certificate.pdf_sha256)
    if path is None:
        raise NotFound()
    return file_response(request, path, sha256=certificate.pdf_sha256, media_type="application/pdf", headers={
        "Content-Disposition": f'inline; filename="certificado-{certificate.code[:8].lower()}.pdf"',
        # her name is in it: no shared cache keeps it
        "Cache-Control": "private, no-store",
    })


@router.post("/certificates/{certificate_id}/revoke", response_model=CertificateOut,
             responses=error_responses(400, 401, 403, 404, 409, 422))
def revoke_certificate(certificate_id: CertificateId, body: RevokeIn, session: SessionDep, settings: SettingsDep,
                       admin: RequireAdmin) -> CertificateOut:
    """The record stays; its verification says revoked, with the public category, never the note."""
    certificate = service.revoke(session, admin, certificate_id, body.reason, body.note)
    return service.certificate_out(settings, certificate)


@router.post("/certificates/{certificate_id}/reissue", status_code=201, response_model=IssuedOut,
             responses=error_responses(400, 401, 403, 404, 409, 422))
def reissue_certificate(certificate_id: CertificateId, body: ReissueIn, session: SessionDep,
                        factory: SessionFactoryDep, settings: SettingsDep, storage: StorageDep,
                        admin: RequireAdmin) -> IssuedOut:
    """A new certificate with her current name and a new code; the old one becomes superseded."""
    certificate = service.reissue(session, factory, settings, storage, admin, certificate_id, body.reason)
    return service.issued_out(settings, certificate)


@router.get("/verify/{code}", response_model=VerificationOut, responses=error_responses(404, 429))
def verify_certificate(code: str, session: SessionDep, factory: SessionFactoryDep,
                       settings: SettingsDep, address: ClientAddress) -> VerificationOut:
    """Public: any case, with or without dashes; O reads as 0, I and L as 1. Unknown or malformed: 404."""
    service.count_verification(factory, settings, address)
    return service.verify(session, code)
