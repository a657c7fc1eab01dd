"""Valid inputs and ready-made users, so that each test states only what it is about."""

import itertools
import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.auth import service as auth_service
from app.auth.principal import Principal
from app.auth.schemas import UserCreate
from app.core.config import Settings
from app.core.i18n import FIELD_MESSAGES, MESSAGES
from app.core.security import hash_password
from app.enrolment import service as enrolment_service
from app.enrolment.documents import curp_check_digit, run_check_digit
from app.enrolment.schemas import ApplicationIn
from app.models import Base, Participant, Role
from app.privacy.notice import CURRENT_NOTICE_VERSION

_counter = itertools.count(1)
_rng = random.Random(2026)

ELIGIBLE_REGION = {"PE": "Cajamarca", "CL": "Los Lagos", "CO": "Boyacá", "MX": "Oaxaca"}
PHONE_PREFIX = {"PE": "+5198", "CL": "+5699", "CO": "+57310", "MX": "+52951"}


def document_for(country: str) -> dict[str, str]:
    n = next(_counter)
    match country:
        case "PE":
            return {"type": "DNI", "number": f"{40000000 + n * 7 + _rng.randrange(7):08d}"}
        case "CL":
            body = str(10_000_000 + n * 13 + _rng.randrange(13))
            return {"type": "RUN", "number": f"{body}-{run_check_digit(body)}"}
        case "CO":
            return {"type": "CC", "number": str(1_000_000_000 + n * 11 + _rng.randrange(11))}
        case _:
            letters = "BCDFGHJKLMNPQRSTVWXZ"
            first17 = (f"GOM{letters[n % 20]}85{(n % 12) + 1:02d}{(n % 28) + 1:02d}MOC"
                       f"{letters[(n // 20) % 20]}{letters[(n // 400) % 20]}{letters[n % 7]}{n % 10}")
            return {"type": "CURP", "number": first17 + curp_check_digit(first17)}


def application(country: str = "PE", *, self_service: bool = True, **overrides: Any) -> dict[str, Any]:
    """A valid, eligible application; ``self_service`` adds the email and password an anonymous one needs."""
    n = next(_counter)
    body: dict[str, Any] = {
        "first_name": "María",
        "last_name": f"Quispe {n}",
        "birth_date": "1988-05-14",
        "gender": "female",
        "country": country,
        "region": ELIGIBLE_REGION[country],
        "locality": "Porcón Alto",
        "is_rural": True,
        "has_internet": True,
        "phone": f"{PHONE_PREFIX[country]}{n:07d}",
        "document": document_for(country),
        "consent": {"accepted": True, "version": CURRENT_NOTICE_VERSION, "sensitive_data": False},
    }
    if self_service:
        body["email"] = f"maria{n}@example.org"
        body["password"] = "clave-segura-123"
    body.update(overrides)
    return body


@dataclass
class Actor:
    user_id: int
    role: Role
    country: str | None
    token: str
    participant_id: int | None = None
    enrolment_id: int | None = None
    username: str = ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Factory:
    """Creates users directly through the services, inside the test's transaction."""

    def __init__(self, sessions: sessionmaker[Session], settings: Settings) -> None:
        self.sessions, self.settings = sessions, settings
        self._registrar_actor: Actor | None = None

    def _registrar(self) -> Principal:
        if self._registrar_actor is None:
            self._registrar_actor = self.admin()
        actor = self._registrar_actor
        return Principal(user_id=actor.user_id, role=Role.ADMIN, country=None, participant_id=None, token_id=0)

    def staff(self, role: Role, country: str | None = None, password: str = "clave-segura-123") -> Actor:
        n = next(_counter)
        with self.sessions() as session, session.begin():
            user = auth_service.create_user(
                session, None,
                UserCreate(email=f"staff{n}@example.org", password=password, full_name=f"Staff {n}", role=role,
                           country=country),  # type: ignore[arg-type]
                hash_password(self.settings, password),
            )
            token = auth_service.issue_token(session, self.settings, user.id).access_token
            return Actor(user.id, role, country, token, username=user.username)

    def admin(self) -> Actor:
        return self.staff(Role.ADMIN)

    def coordinator(self, country: str = "PE") -> Actor:
        return self.staff(Role.COORDINATOR, country)

    def participant(self, country: str = "PE", **overrides: Any) -> Actor:
        """An applicant registered by an admin (enrolled if a seat is free), logged in."""
        body = ApplicationIn.model_validate(application(country, **overrides))
        with self.sessions() as session, session.begin():
            out = enrolment_service.apply(session, self.settings, self._registrar(), body,
                                          hash_password(self.settings, "clave-segura-123"), None)
            participant = session.get_one(Participant, out.participant_id)
            token = auth_service.issue_token(session, self.settings, participant.user_id).access_token
            return Actor(participant.user_id, Role.PARTICIPANT, country, token, participant_id=out.participant_id,
                         enrolment_id=out.enrolment_id, username=out.username)


def login(client: TestClient, username: str, password: str) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def birthday_years_ago(years: int, days_offset: int = 0) -> str:
    today = date.today()
    try:
        day = today.replace(year=today.year - years)
    except ValueError:  # 29 February
        day = today.replace(year=today.year - years, day=28)
    return (day + timedelta(days=days_offset)).isoformat()


# what a refused request may still write: the count of attempts that throttling keeps, and the audit trail
ATTEMPT_TABLES = frozenset({"throttle_hit", "audit_entry"})


def row_counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows in every table but the attempt counters and audit: bad input must leave them all unchanged."""
    with sessions() as session:
        return {t.name: session.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables if t.name not in ATTEMPT_TABLES}


def message(rule: str, locale: str = "es") -> str:
    """The text the API gives for a field rule or an error code."""
    catalogue = FIELD_MESSAGES if rule in FIELD_MESSAGES else MESSAGES
    return catalogue[rule][locale]  # type: ignore[index]
