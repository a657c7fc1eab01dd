"""The Open Badges credential of a certificate, the public key that verifies it, and the status list."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from app.auth.dependencies import CurrentUser
from app.certificates import repository as certificate_repository
from app.certificates.router import CertificateId
from app.core.dependencies import SessionDep, SettingsDep
from app.core.errors import error_responses
from app.credentials import service
from app.credentials.keys import SigningKey, app_signing_key
from app.credentials.schemas import JwksOut, JwtOut, PublicJwk

router = APIRouter(tags=["credentials"])
well_known = APIRouter(tags=["credentials"])
KeyDep = Annotated[SigningKey, Depends(app_signing_key)]
VC_JWT: dict[int | str, dict[str, Any]] = {200: {
    "content": {service.MEDIA_TYPE: {"schema": {"type": "string"}}},
    "description": "Un VC-JWT (RS256); `{\"jwt\"}` en JSON con `Accept: application/json`",
}}


def _quality(accept: str, media_type: str) -> float:
    """How much ``accept`` wants ``media_type``: its most specific matching range's q (RFC 9110 §12.5.1)."""
    kind = media_type.split("/")[0]
    best: tuple[int, float] = (-1, 0.0)
    for item in accept.lower().split(","):
        range_, *params = (part.strip() for part in item.split(";"))
        specificity = {media_type: 2, f"{kind}/*": 1, "*/*": 0}.get(range_)
        if specificity is None or specificity < best[0]:
            continue
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        best = (specificity, q)
    return best[1]


def _wants_json(request: Request) -> bool:
    """JSON only when preferred to the VC-JWT (a verifier's ``*/*``, or no Accept at all, gets the VC-JWT)."""
    accept = request.headers.get("accept", "")
    return _quality(accept, "application/json") > _quality(accept, service.MEDIA_TYPE)


def _answer(request: Request, token: str, cache_control: str) -> Response:
    headers = {"Cache-Control": cache_control, "Vary": "Accept"}
    if _wants_json(request):
        return Response(JwtOut(jwt=token).model_dump_json(), media_type="application/json", headers=headers)
    return Response(token, media_type=service.MEDIA_TYPE, headers=headers)


@router.get("/certificates/{certificate_id}/credential", response_model=JwtOut,
            responses={**VC_JWT, **error_responses(401, 404, 422)})
def certificate_credential(request: Request, certificate_id: CertificateId, session: SessionDep,
                           settings: SettingsDep, key: KeyDep, principal: CurrentUser) -> Response:
    """Her certificate as an Open Badges 3.0 credential, for her wallet or a platform that reads badges."""
    certificate = certificate_repository.get_readable(session, principal, certificate_id)
    # hers: no shared cache keeps it
    return _answer(request, service.certificate_jwt(settings, key, certificate), "private, no-store")


@router.get("/credentials/status/1", response_model=JwtOut, responses=VC_JWT)
def status_list(request: Request, session: SessionDep, settings: SettingsDep, key: KeyDep) -> Response:
    """Public: the Bitstring Status List of every credential; a set bit is a revoked or superseded one."""
    token = service.status_list_jwt(session, settings, key)
    return _answer(request, token, f"public, max-age={service.STATUS_LIST_TTL_SECONDS}")


@well_known.get("/.well-known/jwks.json", response_model=JwksOut)
def jwks(response: Response, key: KeyDep) -> JwksOut:
    """Public: the key that verifies the credentials (``kid`` in their header)."""
    response.headers["Cache-Control"] = "public, max-age=3600"
    return JwksOut(keys=[PublicJwk(**key.public_jwk())])
