from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.logging import request_id_var
from app.core.pagination import PageParams, count
from app.models import AuditEntry


class Actor(Protocol):
    """Whoever acts (auth's Principal): the audit needs only her user id, and stays below the features."""

    @property
    def user_id(self) -> int: ...


def record(
    session: Session,
    actor: Actor | int | None,  # an int: a user acting without a token (activating her account)
    action: str,
    entity: str,
    entity_id: object,
    *,
    country: str | None = None,
    **data: Any,
) -> None:
    actor_id = actor if isinstance(actor, int) else actor.user_id if actor else None
    session.add(AuditEntry(
        actor_id=actor_id, action=action, entity=entity, entity_id=str(entity_id),
        country_code=country, data=data, request_id=request_id_var.get(),
    ))


def search(
    session: Session, page: PageParams, actor: int | None, action: str | None, since: datetime | None,
    country: str | None = None,
) -> tuple[list[AuditEntry], int]:
    stmt = select(AuditEntry)
    if country:
        stmt = stmt.where(AuditEntry.country_code == country.upper())
    if actor is not None:
        stmt = stmt.where(AuditEntry.actor_id == actor)
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    total = count(session, stmt)
    items = session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(page.limit).offset(page.offset)).all()
    return list(items), total
