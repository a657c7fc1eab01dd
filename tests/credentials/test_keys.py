"""The signing key: refused at start-up outside development when missing or unusable (like the placeholder
secret), generated once and kept in development, published with its RFC 7638 thumbprint as ``kid``."""

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient
from pydantic import ValidationError

from app.core.config import Settings
from app.main import create_app
from tests.conftest import make_test_settings

ROOT = Path(__file__).resolve().parents[2]


def pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def production(**values: object) -> Settings:
    return Settings(environment="production", secret_key="s3cr3t-de-verdad", _env_file=None,  # type: ignore[call-arg]
                    **values)  # type: ignore[arg-type]


@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_no_key_is_refused_with_the_settings_name(environment: str) -> None:
    with pytest.raises(ValidationError, match="CAMINOS_CREDENTIAL_KEY_FILE.*not set"):
        Settings(environment=environment, secret_key="s3cr3t-de-verdad", credential_key_file=None,  # type: ignore[call-arg]
                 _env_file=None)


def test_an_unusable_key_is_refused_saying_why(tmp_path: Path) -> None:
    cases = {
        tmp_path / "missing.pem": "cannot be read",
        tmp_path / "text.pem": "not an unencrypted PEM private key",
        tmp_path / "ec.pem": "not an RSA key",
        tmp_path / "small.pem": "1024 bits",
    }
    (tmp_path / "text.pem").write_text("no es una clave")
    (tmp_path / "ec.pem").write_bytes(pem(ec.generate_private_key(ec.SECP256R1())))
    (tmp_path / "small.pem").write_bytes(pem(rsa.generate_private_key(public_exponent=65537, key_size=1024)))
    for path, why in cases.items():
        with pytest.raises(ValidationError, match=f"CAMINOS_CREDENTIAL_KEY_FILE.*{why}"):
            production(credential_key_file=path)
    good = tmp_path / "good.pem"
    good.write_bytes(pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    assert production(credential_key_file=good).credential_key_file == good
    # a key named in development must be usable too: no silent fallback to a generated one
    with pytest.raises(ValidationError, match="CAMINOS_CREDENTIAL_KEY_FILE"):
        Settings(environment="development", credential_key_file=tmp_path / "text.pem",  # type: ignore[call-arg]
                 _env_file=None)


def test_the_service_does_not_start_in_production_without_a_key(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMINOS_")}
    env.update({"CAMINOS_ENVIRONMENT": "production", "CAMINOS_SECRET_KEY": "una-clave-de-produccion-de-verdad",
                "CAMINOS_DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "CAMINOS_DATA_DIR": str(tmp_path)})
    done = subprocess.run([sys.executable, "-c", "import app.main"], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert "CAMINOS_CREDENTIAL_KEY_FILE" in done.stderr
    assert not list(tmp_path.glob("*.pem"))  # nothing generated outside development


class Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    handler = Lines()
    logger = logging.getLogger("caminos.credentials")
    logger.addHandler(handler)
    previous = logger.level
    logger.setLevel(logging.INFO)
    yield handler.lines
    logger.removeHandler(handler)
    logger.setLevel(previous)


def started_kid(settings: Settings) -> str:
    app = create_app(settings)
    try:
        with TestClient(app) as client:
            kid: str = client.get("/.well-known/jwks.json").json()["keys"][0]["kid"]
            return kid
    finally:
        app.state.engine.dispose()


def test_in_development_a_key_is_generated_once_under_the_data_directory_and_the_log_says_so(
        database_url: str, tmp_path: Path, log_lines: list[str]) -> None:
    settings = make_test_settings(database_url, environment="development", credential_key_file=None,
                                  data_dir=tmp_path / "data")
    first = started_kid(settings)
    key_file = tmp_path / "data" / "credential-key.pem"
    assert key_file.exists()
    assert key_file.stat().st_mode & 0o077 == 0  # readable by the service's user only
    assert any("generated a development key" in line and str(key_file) in line for line in log_lines)
    assert [p.name for p in key_file.parent.iterdir()] == ["credential-key.pem"]  # no draft left behind
    log_lines.clear()
    # a restart keeps it: yesterday's credentials still verify
    assert started_kid(settings) == first
    assert not any("generated" in line for line in log_lines)
    assert any("development key" in line for line in log_lines)
