"""Settings read from the environment (prefix ``CAMINOS_``)."""

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"
# front ends run locally while developing (Vite, Next/CRA, a static server); never allowed elsewhere by default
DEVELOPMENT_CORS_ORIGINS = (
    "http://localhost:3000", "http://127.0.0.1:3000", "http://localhost:5173", "http://127.0.0.1:5173",
    "http://localhost:8080", "http://127.0.0.1:8080",
)


def _origin_problem(origin: str) -> str | None:
    if origin in ("*", "null"):
        return f"{origin!r} is not allowed: list each website origin explicitly (for example https://alianzapacifico.net)"
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path or parts.query or parts.fragment:
        return f"{origin!r} is not an origin: scheme://host[:port], with no path and no trailing slash"
    return None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CAMINOS_", env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "sqlite:///var/caminos.db"
    # files (lesson media, later packages and PDFs) live in <data_dir>/blobs; relative like the SQLite default
    data_dir: Path = Path("var")
    secret_key: str = PLACEHOLDER_SECRET
    public_base_url: str = "http://127.0.0.1:8000"
    token_lifetime_minutes: int = 60 * 24 * 7
    activation_code_lifetime_days: int = 14
    application_rate_limit: int = 60
    # failed logins of one account from one address; and of one account from all addresses together
    login_failures_per_account: int = 5
    login_failures_per_account_total: int = 100
    login_failures_per_address: int = 20
    activation_failures_per_address: int = 10
    throttle_window_minutes: int = 15
    # where bulk jobs run (app/jobs): ``queue`` procrastinate, run by `caminos worker` (PostgreSQL only);
    # ``in_process`` a thread of the service; ``none`` only recorded (tests run them). None: decided by the
    # database, procrastinate on PostgreSQL and the service's thread on SQLite (see Settings.runner)
    job_runner: Literal["queue", "in_process", "none"] | None = None
    # procrastinate's worker: heartbeat, and how long without one before its jobs are taken up by another worker
    worker_heartbeat_seconds: float = 10.0
    worker_stalled_seconds: float = 30.0
    render_workers: int | None = None  # processes rendering certificates in a batch; None: up to 4 cores
    # certificate verifications (API and page) per address and window
    verification_rate_limit: int = 300
    # argon2id cost; the defaults follow pwdlib, tests lower them to keep the suite fast
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4
    # the PEM RSA private key (2048 bits or more) that signs the Open Badges credentials and their status list;
    # required outside development; in development one is generated once at <data_dir>/credential-key.pem
    credential_key_file: Path | None = None
    # None: JSON lines in production, readable lines elsewhere
    log_json: bool | None = None
    # addresses of the reverse proxies whose X-Forwarded-For is believed (none by default: the socket's peer
    # is the client); throttling keys on the client address this gives
    forwarded_allow_ips: Annotated[list[str], NoDecode] = []
    # origins whose pages may call the API from a browser; None: the local dev origins in development, none otherwise
    cors_origins: Annotated[list[str] | None, NoDecode] = None

    @field_validator("cors_origins", "forwarded_allow_ips", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        """A JSON list or comma-separated values (``CAMINOS_CORS_ORIGINS=https://a.org,https://b.org``)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        problems = [p for p in map(_origin_problem, value) if p]
        if problems:
            raise ValueError("CAMINOS_CORS_ORIGINS: " + "; ".join(problems))
        return [origin.lower() for origin in value]

    @property
    def allowed_origins(self) -> list[str]:
        if self.cors_origins is not None:
            return self.cors_origins
        return list(DEVELOPMENT_CORS_ORIGINS) if self.environment == "development" else []

    @property
    def json_logs(self) -> bool:
        return self.environment == "production" if self.log_json is None else self.log_json

    @property
    def runner(self) -> Literal["queue", "in_process", "none"]:
        if self.job_runner is not None:
            return self.job_runner
        return "queue" if self.database_url.startswith("postgresql") else "in_process"

    @model_validator(mode="after")
    def _refuse_queue_without_postgresql(self) -> "Settings":
        if self.job_runner == "queue" and not self.database_url.startswith("postgresql"):
            raise ValueError("CAMINOS_JOB_RUNNER=queue needs PostgreSQL (procrastinate keeps its queue there)")
        return self

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        if self.environment != "development" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("CAMINOS_SECRET_KEY must be set to a real secret outside development")
        return self

    @model_validator(mode="after")
    def _require_credential_key(self) -> "Settings":
        if self.environment == "development" and self.credential_key_file is None:
            return self
        problem = credential_key_problem(self.credential_key_file)
        if problem:
            raise ValueError(f"CAMINOS_CREDENTIAL_KEY_FILE must name a readable PEM RSA private key of 2048 bits or "
                             f"more outside development (it signs the Open Badges credentials): {problem}")
        return self


def credential_key_problem(path: Path | None) -> str | None:
    """Why ``path`` cannot sign credentials, or None (checked at start-up, not at the first credential)."""
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    if path is None:
        return "not set"
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        return f"{path} cannot be read ({exc.strerror or exc})"
    except (ValueError, TypeError):
        return f"{path} is not an unencrypted PEM private key"
    if not isinstance(key, RSAPrivateKey):
        return f"{path} is not an RSA key (RS256 needs one)"
    if key.key_size < 2048:
        return f"{path} has {key.key_size} bits"
    return None


@lru_cache
def get_settings() -> Settings:
    return Settings()

