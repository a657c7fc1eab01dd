from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.core.base import utcnow
from app.models import AccessToken, ActivationCode, Enrolment, Role, User


def find_by_username(session: Session, username: str) -> User | None:
    return session.scalars(
        select(User).where(or_(User.email == username.lower(), User.participant_code == username.upper()))
    ).first()


def revoke_tokens(session: Session, user_id: int) -> None:
    session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user_id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def retire_activation_codes(session: Session, user_id: int) -> None:
    now = utcnow()
    session.execute(
        update(ActivationCode)
        .where(ActivationCode.user_id == user_id, ActivationCode.used_at.is_(None), ActivationCode.expires_at > now)
        .values(expires_at=now)
    )


def find_usable_code(session: Session, code_hash: str, now: datetime) -> ActivationCode | None:
    return session.scalars(
        select(ActivationCode).where(
            ActivationCode.code_hash == code_hash, ActivationCode.used_at.is_(None), ActivationCode.expires_at > now
        )
    ).first()


def claim_code(session: Session, code_id: int, now: datetime) -> bool:
    """Mark a code used, only if nobody used it first (two phones racing with the same code)."""
    result = session.execute(
        update(ActivationCode)
        .where(ActivationCode.id == code_id, ActivationCode.used_at.is_(None), ActivationCode.expires_at > now)
        .values(used_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def latest_enrolment(session: Session, participant_id: int) -> Enrolment | None:
    return session.scalars(
        select(Enrolment).where(Enrolment.participant_id == participant_id).order_by(Enrolment.id.desc())
    ).first()


def other_active_admins(session: Session, user_id: int) -> int:
    """Active admins besides this one, their rows locked: two admins demoting each other at once cannot both
    succeed (the second one counts again once the first has committed)."""
    return len(session.scalars(
        select(User.id).where(User.role == Role.ADMIN, User.active.is_(True), User.id != user_id).with_for_update()
    ).all())
