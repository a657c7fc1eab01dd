"""Counting attempts per key in a sliding window, in the database so that every worker sees the same counts."""

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.core.base import utcnow
from app.core.errors import Throttled
from app.models import ThrottleHit


def ensure_allowed(session: Session, key: str, limit: int, window: timedelta, now: datetime | None = None) -> None:
    """Raise ``Throttled`` (429 with Retry-After) once ``limit`` hits fell within ``window``."""
    now = now or utcnow()
    since = now - window
    count, oldest = session.execute(
        select(func.count(), func.min(ThrottleHit.at)).where(ThrottleHit.key == key, ThrottleHit.at > since)
    ).one()
    if count >= limit:
        retry_after = (oldest + window - now).total_seconds() if oldest else window.total_seconds()
        raise Throttled(int(retry_after) + 1)


def record_hit(session: Session, key: str, window: timedelta) -> None:
    now = utcnow()
    session.execute(delete(ThrottleHit).where(ThrottleHit.key == key, ThrottleHit.at <= now - window))
    session.add(ThrottleHit(key=key, at=now))
    session.flush()


def clear(session: Session, key: str) -> None:
    session.execute(delete(ThrottleHit).where(ThrottleHit.key == key))
