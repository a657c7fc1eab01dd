"""A certificate as an Open Badges 3.0 ``OpenBadgeCredential`` (W3C Verifiable Credentials 2.0), and the status
list that tells verifiers which ones are no longer valid, both signed as VC-JWTs (RS256).

The payload is the credential itself (VC-JOSE-COSE: no ``vc`` wrapper) with the registered claims 1EdTech asks
for: ``iss`` (the issuer's id), ``jti`` (the credential's id), ``nbf`` (``validFrom``), ``sub`` (the subject's
id). The protected header holds only ``alg``, ``kid`` and ``typ``.

What names her stays out: the subject is a random-looking identifier derived from the certificate's code (stable,
so the same certificate always gives the same credential), never her name, email or phone; a verifier who needs
the name follows the evidence to the public verification page, as with the PDF's QR code.

Status: a revoked certificate's bit is set, and so is a superseded one's (replaced after a rectification, it no
longer stands on its own: a verifier must not accept it). W3C's ``revocation`` purpose is final, and both
changes are: a certificate never returns to ``issued``.
"""

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

from joserfc import jwt
from sqlalchemy.orm import Session

from app.certificates import repository as certificate_repository
from app.certificates.render import PROGRAMME, hours, verify_url
from app.core.base import utcnow
from app.core.config import Settings
from app.credentials import status_list
from app.credentials.keys import ALGORITHM, SigningKey
from app.enrolment.geography import COUNTRY_NAMES
from app.models import STATUS_LIST_SIZE, Certificate

VC_CONTEXT = "https://www.w3.org/ns/credentials/v2"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
MEDIA_TYPE = "application/vc+jwt"
ISSUER_NAME = "Grupo Técnico de Cultura de la Alianza del Pacífico"
STATUS_LIST_PATH = "/api/v1/credentials/status/1"
# how long a verifier may keep the status list before fetching it again (the route's Cache-Control says the same)
STATUS_LIST_TTL_SECONDS = 300


def _base(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def status_list_url(settings: Settings) -> str:
    return _base(settings) + STATUS_LIST_PATH


def _urn(kind: str, code: str) -> str:
    """A stable UUID URN for what belongs to this certificate; not reversible to the code (100 bits)."""
    digest = hashlib.sha256(f"caminos-de-saberes:{kind}:{code}".encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4).urn


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def issuer_profile(settings: Settings) -> dict[str, Any]:
    return {"id": _base(settings), "type": ["Profile"], "name": ISSUER_NAME, "url": _base(settings)}


def credential(settings: Settings, certificate: Certificate) -> dict[str, Any]:
    """The ``OpenBadgeCredential`` of ``certificate``: only what the certificate's snapshot holds, nothing read
    from her (possibly erased) record."""
    modules = "; ".join(f"{m['title']} ({hours(int(m['minutes']))})" for m in certificate.modules)
    country = COUNTRY_NAMES.get(certificate.country, certificate.country)
    index = certificate.status_list_index
    status_url = status_list_url(settings)
    return {
        "@context": [VC_CONTEXT, OB_CONTEXT],
        "id": _urn("credential", certificate.code),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Certificado de Caminos de Saberes",
        "issuer": issuer_profile(settings),
        "validFrom": _utc(certificate.issued_at),
        "credentialSubject": {
            "id": _urn("subject", certificate.code),
            "type": ["AchievementSubject"],
            "activityEndDate": _utc(certificate.completed_at),
            "creditsEarned": round(certificate.total_minutes / 60, 2),
            "narrative": f"Cohorte de {country}. Módulos completados: {modules}. "
                         f"Total: {hours(certificate.total_minutes)}.",
            "achievement": {
                "id": f"{_base(settings)}/#programa-caminos-de-saberes",
                "type": ["Achievement"],
                "achievementType": "Certificate",
                "name": PROGRAMME,
                "description": "Programa de formación de 12 meses para 200 mujeres rurales y étnicamente diversas "
                               "de Chile, Colombia, México y Perú: modelos de negocio para el sector cultural, "
                               "gestión asociativa y oficios tradicionales.",
                "criteria": {"narrative": "Completar los módulos obligatorios del programa, con sus lecciones y "
                                          "evaluaciones."},
                "inLanguage": "es",
            },
        },
        "evidence": [{"id": verify_url(settings.public_base_url, certificate.code), "type": ["Evidence"],
                      "name": "Verificación pública del certificado"}],
        "credentialStatus": {
            "id": f"{status_url}#{index}",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": str(index),
            "statusListCredential": status_url,
        },
    }


def sign(key: SigningKey, payload: dict[str, Any], valid_from: datetime) -> str:
    """A VC-JWT: the credential as the payload, with ``iss``, ``jti``, ``nbf`` and ``sub`` taken from it."""
    issuer = payload["issuer"]
    claims = {
        **payload,
        "iss": issuer["id"] if isinstance(issuer, dict) else issuer,
        "jti": payload["id"],
        "nbf": int(valid_from.timestamp()),
        "sub": payload["credentialSubject"]["id"],
    }
    return jwt.encode({"alg": ALGORITHM, "kid": key.kid}, claims, key.key, algorithms=[ALGORITHM],
                      default_type="vc+jwt")


def certificate_jwt(settings: Settings, key: SigningKey, certificate: Certificate) -> str:
    return sign(key, credential(settings, certificate), certificate.issued_at)


def status_list_jwt(session: Session, settings: Settings, key: SigningKey) -> str:
    now = utcnow()
    url = status_list_url(settings)
    payload = {
        "@context": [VC_CONTEXT],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": _base(settings),
        "validFrom": _utc(now),
        "credentialSubject": {
            "id": f"{url}#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "ttl": STATUS_LIST_TTL_SECONDS * 1000,
            "encodedList": status_list.encode(STATUS_LIST_SIZE,
                                              certificate_repository.invalid_status_indexes(session)),
        },
    }
    return sign(key, payload, now)
