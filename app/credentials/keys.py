"""The key that signs the Open Badges credentials and their status list (RS256), and its public JWK.

Outside development the settings refuse to load without a readable key (``CAMINOS_CREDENTIAL_KEY_FILE``). In
development, with none configured, one is generated once under the data directory and kept, so that credentials
handed out yesterday still verify after a restart.
"""

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Request
from joserfc.jwk import RSAKey

from app.core.config import Settings

logger = logging.getLogger("caminos.credentials")
DEVELOPMENT_KEY_NAME = "credential-key.pem"
ALGORITHM = "RS256"


@dataclass(frozen=True)
class SigningKey:
    key: RSAKey
    kid: str  # RFC 7638 thumbprint: changes with the key, so that verifiers never confuse an old and a new one

    def public_jwk(self) -> dict[str, Any]:
        return {**self.key.as_dict(private=False), "kid": self.kid, "alg": ALGORITHM, "use": "sig"}


def _from_pem(pem: bytes) -> SigningKey:
    key = RSAKey.import_key(pem)
    return SigningKey(key=key, kid=key.thumbprint())


def _development_key(data_dir: Path) -> Path:
    path = data_dir / DEVELOPMENT_KEY_NAME
    if path.exists():
        logger.info("credentials are signed with the development key %s", path)
        return path
    data_dir.mkdir(parents=True, exist_ok=True)
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    # written whole under another name, then linked: of two processes starting together, one key wins and
    # neither ever reads half a file
    draft = data_dir / f".{DEVELOPMENT_KEY_NAME}.{os.getpid()}.{threading.get_ident()}"
    draft.write_bytes(b"")
    draft.chmod(0o600)
    draft.write_bytes(pem)
    try:
        os.link(draft, path)
    except FileExistsError:
        return path
    finally:
        draft.unlink()
    logger.warning("no CAMINOS_CREDENTIAL_KEY_FILE: generated a development key for credentials at %s "
                   "(outside development the service refuses to start without one)", path)
    return path


def load_signing_key(settings: Settings) -> SigningKey:
    path = settings.credential_key_file
    if path is None:  # development only: the settings refuse this anywhere else
        path = _development_key(settings.data_dir)
    return _from_pem(path.read_bytes())


_lock = threading.Lock()


def app_signing_key(request: Request) -> SigningKey:
    """The app's key: loaded when the service starts (lifespan), or on first use by an app that was not started."""
    state = request.app.state
    with _lock:
        if getattr(state, "signing_key", None) is None:
            state.signing_key = load_signing_key(state.settings)
    key: SigningKey = state.signing_key
    return key
