"""Who is calling: the principal is read from the database on every request (role and country included).
Plain functions of a token and a session; the FastAPI dependencies that call them are in ``app.auth.dependencies``."""

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.base import utcnow
from app.core.db import short_session
from app.core.errors import NotAuthenticated
from app.core.security import digest
from app.models import AccessToken, Enrolment, EnrolmentStatus, Participant, Role, User


@dataclass(frozen=True)
class Principal:
    user_id: int
    role: Role
    country: str | None
    participant_id: int | None
    token_id: int
    may_study: bool = False  # a participant holding a seat (enrolled or completed)
    seat_since: datetime | None = None  # when that seat's enrolment began (enrolled, or applied)
    programme_completed_at: datetime | None = None  # when that enrolment was completed, if it was

    @property
    def is_staff(self) -> bool:
        return self.role in (Role.COORDINATOR, Role.ADMIN)


def _principal_query() -> Select[int, int, Role, str | None, int, datetime, EnrolmentStatus, datetime | None]:
    # her seat: at most one enrolment is active (a unique index), so the join adds no rows
    seat = (Enrolment.participant_id == Participant.id) & Enrolment.status.in_(
        (EnrolmentStatus.ENROLLED, EnrolmentStatus.COMPLETED))
    return (
        select(AccessToken.id, User.id, User.role, User.country_code, Participant.id,
               func.coalesce(Enrolment.enrolled_at, Enrolment.applied_at), Enrolment.status, Enrolment.completed_at)
        .join(User, User.id == AccessToken.user_id)
        .outerjoin(Participant, Participant.user_id == User.id)
        .outerjoin(Enrolment, seat)
        .where(
            AccessToken.token_hash == bindparam("token_hash"),
            AccessToken.revoked_at.is_(None),
            AccessToken.expires_at > bindparam("now"),
            User.active.is_(True),
        )
    )


# built once: it runs on every authenticated request, and building (and keying) it cost more than running it
_PRINCIPAL = _principal_query()


def lookup(session: Session, token: str) -> Principal | None:
    """Who holds ``token`` now, read from the database (no cache: a revoked token or a deactivated user is
    refused on the very next request, on every worker); None when it is unknown, expired or revoked."""
    row = session.connection().execute(_PRINCIPAL, {"token_hash": digest(token), "now": utcnow()}).one_or_none()
    if row is None:
        return None
    token_id, user_id, role, country, participant_id, since, status, completed_at = row
    return Principal(user_id=user_id, role=role, country=country, participant_id=participant_id,
                     token_id=token_id, may_study=since is not None, seat_since=since,
                     programme_completed_at=completed_at if status is EnrolmentStatus.COMPLETED else None)


def authenticate_in(session: Session, token: str | None) -> Principal:
    """Authentication inside a hot path's own unit of work (one session for both): no token, or one that no
    longer holds, is refused."""
    principal = lookup(session, token) if token else None
    if principal is None:
        raise NotAuthenticated()
    return principal


def principal_for_token(factory: sessionmaker[Session], token: str) -> Principal | None:
    """Who holds ``token`` now (a bearer token, or the dashboard's cookie, which holds the same kind of token):
    None when it is unknown, expired, revoked, or its account deactivated."""
    # a short transaction of its own, so that authenticating never holds the request's write lock
    with short_session(factory) as session:
        return lookup(session, token)
