"""The tests' signing key for credentials, in the environment before any test module imports ``app.main``
(whose module-level app reads the settings once): outside development the settings refuse to load without one,
and a development app would otherwise generate one in the working tree's var/."""

import os
import tempfile
from pathlib import Path


def _test_credential_key() -> Path:
    """One RSA key per test process, signing the credentials of every app the tests make. Also in the
    environment, so that Settings() built by a test and the services a test starts (tests/live.py, workers)
    find it: outside development the settings refuse to load without one."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = Path(tempfile.gettempdir()) / f"caminos-test-credential-key-{os.getpid()}.pem"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return path


TEST_CREDENTIAL_KEY = Path(os.environ.setdefault("CAMINOS_CREDENTIAL_KEY_FILE", str(_test_credential_key())))
