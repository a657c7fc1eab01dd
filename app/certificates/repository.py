import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from app.auth import scope
from app.auth.principal import Principal
from app.core.errors import NotFound
from app.models import STATUS_LIST_SIZE, Certificate, CertificateStatus, ContentModule, Enrolment, ModuleVersion


def readable_certificates(principal: Principal) -> Select[Certificate]:
    return scope.readable(principal, select(Certificate), country=Certificate.country,
                          participant=Certificate.participant_id)


def get_readable(session: Session, principal: Principal, certificate_id: int) -> Certificate:
    found = session.scalars(readable_certificates(principal).where(Certificate.id == certificate_id)).one_or_none()
    if found is None:
        raise NotFound()
    return found


def issued_of(session: Session, participant_id: int) -> Certificate | None:
    return session.scalars(select(Certificate).where(
        Certificate.participant_id == participant_id, Certificate.status == CertificateStatus.ISSUED)).one_or_none()


def by_code(session: Session, code: str) -> Certificate | None:
    return session.scalars(select(Certificate).where(Certificate.code == code)).one_or_none()


def module_minutes(session: Session) -> dict[str, tuple[str, int]]:
    """slug → (title, estimated minutes) of each module's current version, in one query."""
    rows = session.execute(
        select(ContentModule.slug, ModuleVersion.document)
        .join(ModuleVersion, (ModuleVersion.module_id == ContentModule.id)
              & (ModuleVersion.version == ContentModule.current_version))
    ).all()
    return {slug: (str(doc["title"]), int(doc["estimated_minutes"])) for slug, doc in rows}


def enrolment_start(session: Session, participant_id: int) -> Any:
    """When her latest enrolment began (her seat, else her application): no certificate dates before it."""
    row = session.execute(
        select(Enrolment.enrolled_at, Enrolment.applied_at).where(Enrolment.participant_id == participant_id)
        .order_by(Enrolment.id.desc()).limit(1)
    ).one_or_none()
    if row is None:
        return None
    return row.enrolled_at or row.applied_at


def enrolment_starts(session: Session, participant_ids: Sequence[int]) -> dict[int, datetime | None]:
    """enrolment_start of many women in one query."""
    rows = session.execute(
        select(Enrolment.participant_id, Enrolment.enrolled_at, Enrolment.applied_at)
        .where(Enrolment.participant_id.in_(participant_ids))
        .order_by(Enrolment.participant_id, Enrolment.id.desc())
    )
    starts: dict[int, datetime | None] = {}
    for row in rows:
        starts.setdefault(row.participant_id, row.enrolled_at or row.applied_at)  # her latest
    return starts


def change_status(session: Session, certificate_id: int, expected: CertificateStatus, **values: Any) -> bool:
    """Conditional: two admins revoking at once, or a revoke racing a reissue, change it once."""
    result = session.execute(
        update(Certificate).where(Certificate.id == certificate_id, Certificate.status == expected)
        .values(**values).execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def free_status_index(session: Session) -> int:
    """A random position of the status list that no certificate holds (a concurrent issuer may still take it
    first: the unique constraint decides, and the caller draws again)."""
    (index,) = free_status_indexes(session, 1)
    return index


def free_status_indexes(session: Session, count: int) -> list[int]:
    """``count`` different random positions that no certificate holds, in two queries however many."""
    # probes by the unique index rather than reading every position: the list is mostly empty, so a draw is
    # almost always free the first time
    held = session.scalar(select(func.count()).select_from(Certificate)) or 0
    if held + count > STATUS_LIST_SIZE:
        raise RuntimeError("the credentials' status list is full: add a second list")
    free: set[int] = set()
    while len(free) < count:
        drawn = {secrets.randbelow(STATUS_LIST_SIZE) for _ in range(count - len(free))} - free
        free |= drawn - set(session.scalars(select(Certificate.status_list_index).where(
            Certificate.status_list_index.in_(drawn))))
    return list(free)


def status_index_taken(session: Session, index: int) -> bool:
    return session.scalar(select(Certificate.id).where(Certificate.status_list_index == index)) is not None


def invalid_status_indexes(session: Session) -> list[int]:
    """The positions whose bit is set: revoked and superseded certificates (neither is valid any more)."""
    return list(session.scalars(select(Certificate.status_list_index).where(
        Certificate.status.in_((CertificateStatus.REVOKED, CertificateStatus.SUPERSEDED)))))
