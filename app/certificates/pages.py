"""``/verificar/{code}``: the verification as a Spanish page for whoever scans the QR code on a phone.

Server-rendered, no script; the stylesheet is inline and allowed by its hash, so the Content-Security-Policy
can refuse everything else."""

import base64
import hashlib
from functools import cache

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.auth.dependencies import ClientAddress
from app.certificates import service
from app.certificates.render import TEMPLATES, _environment, spanish_date
from app.certificates.schemas import VerificationOut
from app.core.dependencies import SessionDep, SessionFactoryDep, SettingsDep
from app.core.errors import NotFound, Throttled
from app.enrolment.geography import COUNTRY_NAMES

router = APIRouter(tags=["pages"])

REVOKE_REASONS = {"error_de_emision": "error de emisión", "a_pedido_de_la_titular": "a pedido de la titular",
                  "fraude": "fraude"}


@cache
def _css() -> tuple[str, str]:
    css = (TEMPLATES / "verify.css").read_text(encoding="utf-8")
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, digest


def _headers() -> dict[str, str]:
    _, digest = _css()
    return {
        "Content-Security-Policy": (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self'; "
                                    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",  # a revocation shows at once
        "Content-Language": "es",
    }


def render_page(cert: VerificationOut | None, *, title: str = "", explanation: str = "") -> str:
    css, _ = _css()
    values: dict[str, object] = {"css": css, "cert": cert, "title": title, "explanation": explanation}
    if cert is not None:
        values |= {
            "title": {"valid": "Certificado válido", "revoked": "Certificado revocado",
                      "superseded": "Certificado reemplazado"}[cert.status],
            "country_name": COUNTRY_NAMES.get(cert.country, cert.country),
            "issued_on": spanish_date(cert.issued_at, cert.country),
            "completed_on": spanish_date(cert.completed_at, cert.country),
            "revoked_on": spanish_date(cert.revoked_at, cert.country) if cert.revoked_at else "",
            "superseded_on": spanish_date(cert.superseded_at, cert.country) if cert.superseded_at else "",
            "revoke_reason": REVOKE_REASONS.get(cert.revoke_reason or "", ""),
        }
    return _environment().get_template("verify.html.j2").render(values)


@router.get("/verificar/{code}", response_class=HTMLResponse, include_in_schema=False)
def verification_page(code: str, session: SessionDep, factory: SessionFactoryDep, settings: SettingsDep,
                      address: ClientAddress) -> HTMLResponse:
    try:
        service.count_verification(factory, settings, address)
    except Throttled as exc:
        html = render_page(None, title="Demasiadas consultas",
                           explanation=f"Espere {exc.retry_after} segundos e intente de nuevo.")
        return HTMLResponse(html, status_code=429, headers={**_headers(), **(exc.headers or {})})
    try:
        found = service.verify(session, code)
    except NotFound:
        html = render_page(None, title="Certificado no encontrado",
                           explanation="No hay ningún certificado con ese código. Revise que esté bien escrito.")
        return HTMLResponse(html, status_code=404, headers=_headers())
    return HTMLResponse(render_page(found), headers=_headers())
