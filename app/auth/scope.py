"""The one place that decides which rows a user may read (DESIGN.md convention 7).

Every list, detail, export and report filters its statement here; a row outside the result is "not found".
"""

from typing import Any, TypeVar

from sqlalchemy import Select, SQLColumnExpression, false

from app.auth.principal import Principal
from app.models import Role

S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def readable(
    principal: Principal, stmt: S, *, country: SQLColumnExpression[str],
    participant: SQLColumnExpression[int],
) -> S:
    """Admins read everything, a coordinator her country, a participant only herself."""
    if principal.role is Role.PARTICIPANT and principal.participant_id is not None:
        return stmt.where(participant == principal.participant_id)
    return manageable(principal, stmt, country=country)


def may_act_for_country(principal: Principal, country: str) -> bool:
    """Whether a staff member may register or manage people of ``country``."""
    return principal.role is Role.ADMIN or (principal.role is Role.COORDINATOR and principal.country == country)


def manageable(principal: Principal, stmt: S, *, country: SQLColumnExpression[str]) -> S:
    """What staff may act on (new activation codes, imports): admins everything, a coordinator her country,
    a participant nothing, not even herself."""
    match principal.role:
        case Role.ADMIN:
            return stmt
        case Role.COORDINATOR:
            return stmt.where(country == principal.country)
        case Role.PARTICIPANT:
            return stmt.where(false())
    raise AssertionError(principal.role)


def is_participant(principal: Principal) -> bool:
    return principal.role is Role.PARTICIPANT
