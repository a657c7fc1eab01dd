"""Counting attempts per key in a sliding window, in the database so that every worker sees the same counts.

An attempt is counted *before* the slow or revealing work it guards (a password verification, an application),
in a transaction of its own that commits at once: parallel guesses cannot all slip under the limit, and a
request that then fails (401, 409, 422) cannot take its count back with its rollback.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.core.base import utcnow
from app.core.db import short_session
from app.core.errors import Throttled
from app.models import ThrottleHit


@dataclass(frozen=True)
class Limit:
    key: str
    limit: int
    window: timedelta
    policy: str = "address"  # its name in the RateLimit headers


def _lock(session: Session, key: str) -> None:
    """Serialise the attempts under one key. PostgreSQL: a transaction-level advisory lock on the key's hash;
    SQLite: the writing transaction already holds the database's write lock (BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})


def take(factory: sessionmaker[Session], limits: Sequence[Limit]) -> list[int]:
    """Count one attempt under every limit, or none if any of them is reached (then ``Throttled``, 429 with
    Retry-After). Returns the ids of the hits, so that an attempt that turns out well can be ``forgive``n."""
    now = utcnow()
    with short_session(factory, write=True) as session:
        for limit in sorted(limits, key=lambda lim: lim.key):  # one order everywhere: no deadlock
            _lock(session, limit.key)
        waits: list[tuple[float, Limit]] = []
        for limit in limits:
            since = now - limit.window
            session.execute(delete(ThrottleHit).where(ThrottleHit.key == limit.key, ThrottleHit.at <= since))
            count, oldest = session.execute(
                select(func.count(), func.min(ThrottleHit.at))
                .where(ThrottleHit.key == limit.key, ThrottleHit.at > since)
            ).one()
            if count >= limit.limit:
                waits.append(((oldest + limit.window - now).total_seconds() if oldest else
                              limit.window.total_seconds(), limit))
        if waits:
            wait, reached = max(waits, key=lambda w: w[0])
            # RateLimit names the policy that was reached; the route's RateLimit-Policy lists them all
            raise Throttled(int(wait) + 1, policy=reached.policy)
        hits = [ThrottleHit(key=limit.key, at=now) for limit in limits]
        session.add_all(hits)
        session.flush()
        return [hit.id for hit in hits]


def forgive(session: Session, hit_ids: Sequence[int]) -> None:
    """An attempt that succeeded (the right password, a valid code) does not count against anyone."""
    session.execute(delete(ThrottleHit).where(ThrottleHit.id.in_(hit_ids)))


def clear(session: Session, key: str) -> None:
    session.execute(delete(ThrottleHit).where(ThrottleHit.key == key))
