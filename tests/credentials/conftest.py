import base64
import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicNumbers

from tests.certificates.conftest import admin, graduate  # noqa: F401  (fixtures)
from tests.progress.conftest import catalogue  # noqa: F401  (the small programme, a fixture)


def b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def b64int(part: str) -> int:
    return int.from_bytes(b64decode(part), "big")


def verified(token: str, jwks: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(header, payload) of a compact JWS checked as a verifier would, with the key its ``kid`` names in a JWKS
    and RS256 done by hand with `cryptography` (not the library that signed it). Raises InvalidSignature."""
    header_part, payload_part, signature_part = token.split(".")
    header = json.loads(b64decode(header_part))
    assert header["alg"] == "RS256"
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    public = RSAPublicNumbers(b64int(jwk["e"]), b64int(jwk["n"])).public_key()
    public.verify(b64decode(signature_part), f"{header_part}.{payload_part}".encode(), padding.PKCS1v15(),
                  hashes.SHA256())
    return header, json.loads(b64decode(payload_part))


__all__ = ["InvalidSignature", "b64decode", "verified"]
