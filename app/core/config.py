"""Settings read from the environment (prefix ``CAMINOS_``)."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from fastapi import Depends, Request
from pydantic import model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRET = "change-me"


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
    # argon2id cost; the defaults follow pwdlib, tests lower them to keep the suite fast
    password_time_cost: int = 3
    password_memory_kib: int = 65536
    password_parallelism: int = 4
    log_json: bool = True
    # addresses of the reverse proxies whose X-Forwarded-For is believed (none by default: the socket's peer
    # is the client); throttling keys on the client address this gives
    forwarded_allow_ips: list[str] = []

    @model_validator(mode="after")
    def _refuse_placeholder_secret(self) -> "Settings":
        if self.environment != "development" and self.secret_key == PLACEHOLDER_SECRET:
            raise ValueError("CAMINOS_SECRET_KEY must be set to a real secret outside development")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()


async def app_settings(request: Request) -> Settings:
    """The settings the app was created with (``create_app``)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]
