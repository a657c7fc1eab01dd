"""``Idempotency-Key``: a retried request gets the first answer instead of doing the work twice."""

import hashlib
import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.errors import Conflict
from app.models import IdempotencyRecord


def request_fingerprint(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def _replay(record: IdempotencyRecord, request_hash: str) -> dict[str, Any]:
    if record.request_hash != request_hash:
        raise Conflict("idempotency_key_reused")
    if record.response is None:
        raise Conflict("idempotency_in_progress")
    return record.response


def reserve(session: Session, scope: str, key: str, request_hash: str) -> IdempotencyRecord | dict[str, Any]:
    """The stored first answer if this key was used before, else a new record to ``complete`` with the answer.

    Two requests racing with one key: the second one's insert waits for the first to commit, fails on the
    unique constraint inside a savepoint, and then reads the first one's answer.
    """
    stmt = select(IdempotencyRecord).where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
    existing = session.scalars(stmt).one_or_none()
    if existing is not None:
        return _replay(existing, request_hash)
    record = IdempotencyRecord(scope=scope, key=key, request_hash=request_hash)
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        return _replay(session.scalars(stmt).one(), request_hash)
    return record


def complete(record: IdempotencyRecord, status_code: int, response: dict[str, Any]) -> None:
    record.status_code, record.response = status_code, response
