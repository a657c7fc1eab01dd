"""The report's queries: a fixed number of statements per report, whatever the number of women (each query
groups or lists a whole country at once; nothing is read per participant)."""

from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.auth import scope
from app.auth.principal import Principal
from app.core.errors import NotFound
from app.models import (
    Certificate,
    CertificateStatus,
    Country,
    Enrolment,
    EnrolmentStatus,
    LessonProgress,
    ModuleCompletion,
    Participant,
    ProgressEvent,
    User,
)


def manageable_country(session: Session, principal: Principal, code: str) -> Country:
    """The country, if the caller reports on it: another coordinator's country does not exist for her."""
    stmt = scope.manageable(principal, select(Country).where(Country.code == code.upper()), country=Country.code)
    country = session.scalars(stmt).one_or_none()
    if country is None:
        raise NotFound()
    return country


def _enrolments(principal: Principal, code: str) -> Any:
    stmt = select(Enrolment).where(Enrolment.country_code == code)
    return scope.readable(principal, stmt, country=Enrolment.country_code, participant=Enrolment.participant_id)


def status_counts(session: Session, principal: Principal, code: str) -> dict[EnrolmentStatus, int]:
    stmt = _enrolments(principal, code).with_only_columns(Enrolment.status, func.count()).group_by(Enrolment.status)
    return {row[0]: row[1] for row in session.execute(stmt)}


def certified_count(session: Session, principal: Principal, code: str) -> int:
    """The country's women with a completed enrolment who hold a valid certificate. Counted among the completed
    (an admin may issue one by override to a woman who is not) so that the funnel never has certified > completed;
    a revoked or superseded certificate is not valid, its reissue is (one issued per woman, a unique index)."""
    stmt = (select(func.count(func.distinct(Certificate.participant_id))).select_from(Enrolment)
            .join(Certificate, Certificate.participant_id == Enrolment.participant_id)
            .where(Enrolment.country_code == code, Enrolment.status == EnrolmentStatus.COMPLETED,
                   Certificate.status == CertificateStatus.ISSUED))
    stmt = scope.readable(principal, stmt, country=Enrolment.country_code, participant=Enrolment.participant_id)
    return session.scalar(stmt) or 0


def region_status_counts(session: Session, principal: Principal, code: str) -> list[tuple[str, str, int]]:
    stmt = (_enrolments(principal, code).with_only_columns(Participant.region, Enrolment.status, func.count())
            .join(Participant, Participant.id == Enrolment.participant_id)
            .group_by(Participant.region, Enrolment.status))
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def enrolments_with_people(session: Session, principal: Principal, code: str) -> list[
        tuple[Enrolment, Participant, User]]:
    """Every enrolment made in the country, oldest first, with her record and account."""
    stmt = (
        select(Enrolment, Participant, User)
        .join(Participant, Participant.id == Enrolment.participant_id)
        .join(User, User.id == Participant.user_id)
        .where(Enrolment.country_code == code)
        .order_by(Enrolment.id)
    )
    stmt = scope.readable(principal, stmt, country=Enrolment.country_code, participant=Enrolment.participant_id)
    return [(r[0], r[1], r[2]) for r in session.execute(stmt)]


def _of_country(code: str) -> Any:
    return select(Participant.id).where(Participant.country_code == code).scalar_subquery()


def lesson_rows(session: Session, code: str) -> list[Any]:
    lp = LessonProgress
    # thousands of plain rows: executed on the connection, without the ORM's per-row loading (half the time)
    return list(session.connection().execute(
        select(lp.participant_id, lp.module, lp.lesson, lp.seconds, lp.completed_at, lp.quiz_best_score,
               lp.quiz_attempts, lp.quiz_passed_at)
        .where(lp.participant_id.in_(_of_country(code)))
    ).all())


def module_completions(session: Session, code: str) -> list[tuple[int, str]]:
    return [(r[0], r[1]) for r in session.execute(
        select(ModuleCompletion.participant_id, ModuleCompletion.module)
        .where(ModuleCompletion.participant_id.in_(_of_country(code)))
    )]


def last_activity(session: Session, code: str) -> dict[int, datetime]:
    """Each woman's latest event: one backward step in the (participant, time) index per woman, where grouping
    all her events would read every one of them."""
    latest = (select(func.max(ProgressEvent.effective_at)).where(ProgressEvent.participant_id == Participant.id)
              .correlate(Participant).scalar_subquery())
    return {row[0]: row[1] for row in session.execute(
        select(Participant.id, latest).where(Participant.country_code == code)) if row[1] is not None}


def weekly_activity(session: Session, code: str, starts: list[datetime]) -> dict[int, tuple[int, int]]:
    """Week index (0 = the week beginning ``starts[0]``) → (active women, events), counted by the database: the
    rows of 12 weeks (100,000 events for a cohort) never travel to Python."""
    pe = ProgressEvent
    week = case(*[(pe.effective_at >= start, i) for i, start in reversed(list(enumerate(starts)))], else_=-1)
    # grouped in an outer query: PostgreSQL would not see a CASE of bound parameters as the one selected
    inner = (select(week.label("week"), pe.participant_id)
             .where(pe.participant_id.in_(_of_country(code)), pe.effective_at >= starts[0]).subquery())
    stmt = (select(inner.c.week, func.count(func.distinct(inner.c.participant_id)), func.count())
            .group_by(inner.c.week))
    return {row[0]: (row[1], row[2]) for row in session.execute(stmt)}
