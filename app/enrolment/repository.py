from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    SQLColumnExpression,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Session, aliased

from app.auth import scope
from app.auth.principal import Principal
from app.core.errors import NotFound
from app.core.text import alphanumerics, fold
from app.models import (
    ACTIVE_STATUSES,
    Country,
    Enrolment,
    EnrolmentStatus,
    LessonProgress,
    ModuleCompletion,
    Participant,
    User,
)


def mark_notified(session: Session, enrolment: Enrolment, at: datetime) -> bool:
    """Set the time she was told, only if nobody has yet: of two taps at once, one writes and the other finds
    it done (a read-then-write would let both write, and audit, on PostgreSQL)."""
    result = session.execute(
        update(Enrolment).where(Enrolment.id == enrolment.id, Enrolment.notified_at.is_(None)).values(notified_at=at)
        .execution_options(synchronize_session=False)
    )
    session.refresh(enrolment)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def lock_country(session: Session, code: str) -> Country:
    """The country's row, locked until commit: every change to its seats or waitlist goes through here.

    PostgreSQL: FOR NO KEY UPDATE, which does not conflict with the KEY SHARE locks that inserting rows
    referencing the country takes (FOR UPDATE would deadlock two applications that each inserted a participant).
    SQLite: the transaction already holds the write lock (BEGIN IMMEDIATE)."""
    country = session.scalars(
        select(Country).where(Country.code == code).with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if country is None:
        raise NotFound()
    return country


def change_status(session: Session, enrolment: Enrolment, expected: EnrolmentStatus, **values: Any) -> bool:
    """Move an enrolment on only from the status its caller saw: a withdrawal and the completion of the
    programme racing each other cannot both win (the loser finds the row changed and changes nothing)."""
    result = session.execute(
        update(Enrolment).where(Enrolment.id == enrolment.id, Enrolment.status == expected).values(**values)
        .execution_options(synchronize_session=False)
    )
    session.refresh(enrolment)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def countries(session: Session) -> list[Country]:
    order = {"PE": 0, "CL": 1, "CO": 2, "MX": 3}
    return sorted(session.scalars(select(Country)).all(), key=lambda c: order.get(c.code, 9))


def active_enrolment(session: Session, participant_id: int) -> Enrolment | None:
    return session.scalars(
        select(Enrolment).where(Enrolment.participant_id == participant_id, Enrolment.status.in_(ACTIVE_STATUSES))
    ).first()


# one column on the connection (every /me/progress asks): loading her whole enrolment cost more than the rest
_PROGRAMME_COMPLETED_AT = select(Enrolment.completed_at).where(
    Enrolment.participant_id == bindparam("participant_id"), Enrolment.status == EnrolmentStatus.COMPLETED)


def programme_completed_at(session: Session, participant_id: int) -> datetime | None:
    """When she completed the programme (her completed enrolment), or None."""
    completed_at: datetime | None = session.connection().execute(
        _PROGRAMME_COMPLETED_AT, {"participant_id": participant_id}).scalar()
    return completed_at


def completions_of(session: Session, participant_ids: Sequence[int]) -> dict[int, datetime]:
    """programme_completed_at of many women in one statement: those absent have not completed it."""
    rows = session.connection().execute(select(Enrolment.participant_id, Enrolment.completed_at).where(
        Enrolment.participant_id.in_(participant_ids), Enrolment.status == EnrolmentStatus.COMPLETED))
    return {row.participant_id: row.completed_at for row in rows if row.completed_at is not None}


def enrolments_of(session: Session, participant_id: int) -> list[Enrolment]:
    return list(session.scalars(
        select(Enrolment).where(Enrolment.participant_id == participant_id).order_by(Enrolment.id.desc())))


def find_same_people(session: Session, email: str | None, document: tuple[str, str] | None) -> list[Participant]:
    """The participants with the same document, or the same email; a shared phone identifies nobody."""
    conditions: list[ColumnElement[bool]] = []
    if document is not None:
        conditions.append((Participant.document_type == document[0]) & (Participant.document_number == document[1]))
    if email is not None:
        conditions.append(User.email == email)
    if not conditions:
        return []
    return list(session.scalars(
        select(Participant).join(User, User.id == Participant.user_id).where(or_(*conditions))
        .order_by(Participant.id)
    ))


def first_waitlisted(session: Session, country: str) -> Enrolment | None:
    return session.scalars(
        select(Enrolment)
        .where(Enrolment.country_code == country, Enrolment.status == EnrolmentStatus.WAITLISTED)
        .order_by(Enrolment.waitlist_position)
        .limit(1)
    ).first()


def close_waitlist_gap(session: Session, country: str, position: int) -> None:
    """Move everyone behind ``position`` one place forward, so positions stay 1..n."""
    session.execute(
        update(Enrolment)
        .where(
            Enrolment.country_code == country,
            Enrolment.status == EnrolmentStatus.WAITLISTED,
            Enrolment.waitlist_position > position,
        )
        .values(waitlist_position=Enrolment.waitlist_position - 1)
        .execution_options(synchronize_session="fetch")
    )


def readable_enrolments(principal: Principal) -> Select[Enrolment, Participant, User]:
    stmt = (
        select(Enrolment, Participant, User)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(User, User.id == Participant.user_id)
    )
    return scope.readable(principal, stmt, country=Enrolment.country_code, participant=Enrolment.participant_id)


def get_readable_enrolment(
    session: Session, principal: Principal, enrolment_id: int
) -> tuple[Enrolment, Participant, User]:
    row = session.execute(readable_enrolments(principal).where(Enrolment.id == enrolment_id)).one_or_none()
    if row is None:
        raise NotFound()
    return row[0], row[1], row[2]


def get_readable_participant(session: Session, principal: Principal, participant_id: int) -> Participant:
    stmt = scope.readable(
        principal, select(Participant).where(Participant.id == participant_id),
        country=Participant.country_code, participant=Participant.id,
    )
    participant = session.scalars(stmt).one_or_none()
    if participant is None:
        raise NotFound()
    return participant


def get_manageable_participant(session: Session, principal: Principal, participant_id: int) -> Participant:
    """A woman the caller may manage (staff of her scope); to anyone else she does not exist."""
    stmt = scope.manageable(
        principal, select(Participant).where(Participant.id == participant_id), country=Participant.country_code)
    participant = session.scalars(stmt).one_or_none()
    if participant is None:
        raise NotFound()
    return participant


def search_filter(stmt: Select[Enrolment, Participant, User], q: str) -> Select[Enrolment, Participant, User]:
    """``q`` matches a name regardless of accents and case ("maria huaman" finds María Huamán), a document
    number with or without its dots and dashes, a participant code or an email."""
    def like(text: str) -> str:
        return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    conditions = [
        Participant.search_text.like(like(fold(q)), escape="\\"),
        func.lower(func.coalesce(User.participant_code, "")).like(like(q.strip().lower()), escape="\\"),
        func.lower(func.coalesce(User.email, "")).like(like(q.strip().lower()), escape="\\"),
    ]
    if document := alphanumerics(q):
        conditions.append(Participant.search_text.like(like(document), escape="\\"))
    return stmt.where(or_(*conditions))


def lessons_done(required: Mapping[str, Sequence[str]]) -> ColumnElement[int]:
    """How many of the programme's required lessons ``Participant`` has done, correlated to her row: a lesson
    counts when completed, and every required lesson of a module counts once the module is complete (the rule
    of ``percent`` in app/progress/service.py ``progress_of``: a new content version takes no completion away)."""
    pairs = [and_(LessonProgress.module == module, LessonProgress.lesson.in_(lessons))
             for module, lessons in required.items() if lessons]
    if not pairs:
        return literal(0)
    completion = aliased(ModuleCompletion)
    loose = (
        select(func.count())
        .select_from(LessonProgress)
        .outerjoin(completion, and_(completion.participant_id == LessonProgress.participant_id,
                                    completion.module == LessonProgress.module))
        .where(LessonProgress.participant_id == Participant.id, LessonProgress.completed_at.is_not(None),
               completion.id.is_(None), or_(*pairs))
        .correlate(Participant)
        .scalar_subquery()
    )
    sizes = {module: len(lessons) for module, lessons in required.items() if lessons}
    whole = (
        select(func.coalesce(func.sum(case(sizes, value=ModuleCompletion.module, else_=0)), 0))
        .where(ModuleCompletion.participant_id == Participant.id, ModuleCompletion.module.in_(sizes))
        .correlate(Participant)
        .scalar_subquery()
    )
    return loose + whole


def programme_completed() -> ColumnElement[bool]:
    """Whether ``Participant`` has completed the programme (her enrolment says so), correlated to her row."""
    other = aliased(Enrolment)  # not the list's own enrolment row: she may have an older, withdrawn one
    return exists().where(other.participant_id == Participant.id, other.status == EnrolmentStatus.COMPLETED
                          ).correlate(Participant)


def progress_key(required: Mapping[str, Sequence[str]]) -> ColumnElement[int]:
    """Orders women by progress percent: the denominator is the same for all, so the count of lessons done is
    enough, with a completed programme at the top."""
    total = sum(len(lessons) for lessons in required.values())
    return case((programme_completed(), total or 1), else_=lessons_done(required))


def progress_counts(
    session: Session, required: Mapping[str, Sequence[str]], participant_ids: Sequence[int]
) -> dict[int, tuple[int, bool]]:
    """(lessons done, programme completed) of each participant, in one query whatever their number."""
    if not participant_ids:
        return {}
    rows = session.execute(
        select(Participant.id, lessons_done(required), programme_completed())
        .where(Participant.id.in_(set(participant_ids)))
    ).all()
    return {row[0]: (int(row[1]), bool(row[2])) for row in rows}


def name_key(session: Session) -> SQLColumnExpression[str]:
    """Names in alphabetical order without regard to accents or case (``search_text`` is folded), the same on
    both databases: PostgreSQL's linguistic collations skip spaces, "C" compares as SQLite does."""
    if session.get_bind().dialect.name == "postgresql":
        return Participant.search_text.collate("C")
    return Participant.search_text


def names_born_on(session: Session, country: str, birth_date: date) -> list[tuple[str, str, str]]:
    """(first name, last name, locality) of the participants of ``country`` born that day: what a bulk
    registration compares a row without document or email to."""
    rows = session.execute(
        select(Participant.first_name, Participant.last_name, Participant.locality)
        .where(Participant.country_code == country, Participant.birth_date == birth_date)
    )
    return [(first, last, locality) for first, last, locality in rows]
