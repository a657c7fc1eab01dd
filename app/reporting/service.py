"""A country's report: who applied and where they are, how each module goes, and who needs a call.

Everything is computed from a fixed set of country-wide queries (``repository``), so a report costs the same
number of statements for 5 women or 50. Ethnicity and languages leave here only as suppressed counts.
"""

import statistics
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Principal
from app.content import service as content_service
from app.content.service import ModuleShape
from app.core.base import utcnow
from app.models import Country, Enrolment, EnrolmentStatus, Participant, User
from app.reporting import repository
from app.reporting.schemas import (
    AttentionItem,
    AttentionReason,
    CountryReport,
    ModuleStats,
    RegionCounts,
    SensitiveAggregates,
    SensitiveCount,
    StatusCounts,
    SuppressedCount,
    WeekActivity,
)

INACTIVE_AFTER = timedelta(days=14)
FAILED_ATTEMPTS = 3
# behind when her share of required lessons done is more than 25 points below the share of the year elapsed
PACE_TOLERANCE = 0.25
WEEKS = 12
SMALL = 5
NOT_DECLARED = "no declarado"


def programme_end(start: date) -> date:
    """12 months after the cohort's start (29 February ends on 28 February)."""
    try:
        return start.replace(year=start.year + 1)
    except ValueError:
        return start.replace(year=start.year + 1, day=28)


def expected_share(start: date | None, today: date) -> float | None:
    if start is None:
        return None
    total = (programme_end(start) - start).days
    return min(1.0, max(0.0, (today - start).days / total))


def suppress(counts: dict[str, int], *, sums_to_known_total: bool) -> list[SensitiveCount]:
    """Counts of 1–4 become "<5". When the cells add up to a published total and only one is hidden, the
    smallest shown one is hidden too ("≥5"), so that no small count is the difference of two published ones."""
    shown: dict[str, SuppressedCount] = {k: ("<5" if 0 < v < SMALL else v) for k, v in counts.items()}
    hidden = [k for k, v in shown.items() if v == "<5"]
    if sums_to_known_total and len(hidden) == 1:
        others = sorted((v, k) for k, v in counts.items() if k not in hidden and v > 0)
        if others:
            shown[others[0][1]] = "≥5"
    return [SensitiveCount(value=k, count=shown[k]) for k in sorted(counts, key=lambda k: (-counts[k], k))]


@dataclass
class Cohort:
    """The country's women as of now: each one's latest enrolment there, with her record and account."""

    latest: list[tuple[Enrolment, Participant, User]]
    all_enrolments: list[Enrolment] = field(default_factory=list)

    @classmethod
    def load(cls, session: Session, principal: Principal, code: str) -> "Cohort":
        rows = repository.enrolments_with_people(session, principal, code)
        latest: dict[int, tuple[Enrolment, Participant, User]] = {}
        for row in rows:  # oldest first: the last one seen is her current enrolment
            latest[row[1].id] = row
        return cls(latest=list(latest.values()), all_enrolments=[r[0] for r in rows])

    def active(self) -> list[tuple[Enrolment, Participant, User]]:
        return [r for r in self.latest if r[0].status is not EnrolmentStatus.WITHDRAWN]


@dataclass
class Learning:
    """The country's progress summaries, grouped by participant."""

    lessons: dict[int, list[Any]]
    completions: dict[str, set[int]]
    last_event: dict[int, datetime]
    required_lessons: set[tuple[str, str]]
    shapes: list[tuple[bool, ModuleShape]]

    @classmethod
    def load(cls, session: Session, code: str) -> "Learning":
        lessons: dict[int, list[Any]] = defaultdict(list)
        for row in repository.lesson_rows(session, code):
            lessons[row.participant_id].append(row)
        completions: dict[str, set[int]] = defaultdict(set)
        for pid, module in repository.module_completions(session, code):
            completions[module].add(pid)
        shapes = []
        for current in content_service.current_modules(session):
            shape = content_service.module_shape(session, current.id, current.slug, current.version)
            if shape is not None:
                shapes.append((current.required, shape))
        required = {(shape.slug, lesson.slug) for module_required, shape in shapes if module_required
                    for lesson in shape.lessons if lesson.required}
        return cls(lessons=lessons, completions=completions, last_event=repository.last_activity(session, code),
                   required_lessons=required, shapes=shapes)

    def required_share(self, participant_id: int) -> float:
        if not self.required_lessons:
            return 0.0
        done = {(r.module, r.lesson) for r in self.lessons.get(participant_id, ()) if r.completed_at is not None}
        return len(done & self.required_lessons) / len(self.required_lessons)

    def failed_quizzes(self, participant_id: int) -> list[str]:
        return sorted(f"{r.module}/{r.lesson}" for r in self.lessons.get(participant_id, ())
                      if r.quiz_attempts >= FAILED_ATTEMPTS and r.quiz_passed_at is None)


def _statuses(session: Session, principal: Principal, code: str) -> StatusCounts:
    counts = repository.status_counts(session, principal, code)
    return StatusCounts(
        applied=sum(counts.values()), enrolled=counts.get(EnrolmentStatus.ENROLLED, 0),
        waitlisted=counts.get(EnrolmentStatus.WAITLISTED, 0), withdrawn=counts.get(EnrolmentStatus.WITHDRAWN, 0),
        completed=counts.get(EnrolmentStatus.COMPLETED, 0),
        certified=repository.certified_count(session, principal, code),
    )


def _regions(session: Session, principal: Principal, code: str) -> list[RegionCounts]:
    by_region: dict[str, Counter[str]] = defaultdict(Counter)
    for region, status, n in repository.region_status_counts(session, principal, code):
        by_region[region][str(status)] += n
    return [RegionCounts(region=region, applied=sum(c.values()), enrolled=c["enrolled"], waitlisted=c["waitlisted"],
                         withdrawn=c["withdrawn"], completed=c["completed"])
            for region, c in sorted(by_region.items())]


def _modules(learning: Learning, cohort_ids: set[int]) -> list[ModuleStats]:
    # one pass over the lesson rows, not one per module
    seconds_of: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    scores_of: dict[str, list[float]] = defaultdict(list)
    for pid in cohort_ids:
        for r in learning.lessons.get(pid, ()):
            seconds_of[r.module][pid] += r.seconds
            if r.quiz_best_score is not None:
                scores_of[r.module].append(r.quiz_best_score)
    out = []
    for required, shape in learning.shapes:
        seconds, scores = seconds_of.get(shape.slug, {}), scores_of.get(shape.slug, [])
        out.append(ModuleStats(
            slug=shape.slug, title=shape.title, required=required, started=len(seconds),
            completed=len(learning.completions.get(shape.slug, set()) & cohort_ids),
            mean_best_quiz_score=round(statistics.fmean(scores), 4) if scores else None,
            median_active_seconds=round(statistics.median(seconds.values())) if seconds else None,
        ))
    return out


def week_start(moment: datetime) -> date:
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def _weekly(session: Session, code: str, now: datetime) -> list[WeekActivity]:
    first = week_start(now) - timedelta(weeks=WEEKS - 1)
    weeks = [first + timedelta(weeks=i) for i in range(WEEKS)]
    counted = repository.weekly_activity(session, code, [datetime(w.year, w.month, w.day, tzinfo=UTC) for w in weeks])
    return [WeekActivity(week_start=w, active_participants=counted.get(i, (0, 0))[0], events=counted.get(i, (0, 0))[1])
            for i, w in enumerate(weeks)]


def _sensitive(cohort: Cohort) -> SensitiveAggregates:
    ethnicity: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    for _e, participant, _u in cohort.active():
        ethnicity[participant.ethnicity or NOT_DECLARED] += 1
        for language in set(participant.languages or ()):
            languages[language] += 1
    # ethnicity cells (with "no declarado") add up to the active cohort, which the statuses publish
    return SensitiveAggregates(ethnicity=suppress(dict(ethnicity), sums_to_known_total=True),
                               languages=suppress(dict(languages), sums_to_known_total=False))


def _attention(cohort: Cohort, learning: Learning, country: Country, now: datetime) -> list[AttentionItem]:
    expected = expected_share(country.cohort_start, now.date())
    items = []
    for enrolment, participant, user in cohort.active():
        if enrolment.status is EnrolmentStatus.WAITLISTED:
            continue
        reasons: list[AttentionReason] = []
        last = learning.last_event.get(participant.id)
        last = last.replace(tzinfo=UTC) if last and last.tzinfo is None else last
        share = learning.required_share(participant.id)
        failed = learning.failed_quizzes(participant.id)
        if enrolment.status is EnrolmentStatus.ENROLLED:
            since = max(t for t in (last, enrolment.enrolled_at, enrolment.applied_at) if t is not None)
            if now - since > INACTIVE_AFTER:
                reasons.append("inactive_14_days")
            if failed:
                reasons.append("quiz_failed_3_times")
            if expected is not None and share < expected - PACE_TOLERANCE:
                reasons.append("behind_pace")
            if enrolment.promoted_at is not None and enrolment.notified_at is None:
                reasons.append("promoted_not_notified")
        if reasons:
            items.append(AttentionItem(
                participant_id=participant.id, enrolment_id=enrolment.id, participant_code=user.participant_code,
                full_name=participant.full_name, region=participant.region, phone=participant.phone,
                reasons=reasons, last_activity_at=last, failed_quizzes=failed,
                required_share_done=round(share, 4),
                expected_share=round(expected, 4) if expected is not None else None,
            ))
    return sorted(items, key=lambda i: (-len(i.reasons), i.full_name, i.participant_id))


def country_report(session: Session, principal: Principal, code: str) -> CountryReport:
    country = repository.manageable_country(session, principal, code)
    now = utcnow()
    cohort = Cohort.load(session, principal, country.code)
    learning = Learning.load(session, country.code)
    seated = {p.id for e, p, _u in cohort.active() if e.status is not EnrolmentStatus.WAITLISTED}
    report = CountryReport(
        country=country.code,
        generated_at=now, cohort_start=country.cohort_start,
        programme_end=programme_end(country.cohort_start) if country.cohort_start else None,
        statuses=_statuses(session, principal, country.code), regions=_regions(session, principal, country.code),
        modules=_modules(learning, seated), weekly_activity=_weekly(session, country.code, now),
        sensitive=_sensitive(cohort), attention=_attention(cohort, learning, country, now),
    )
    # it names women (those needing attention): a view of personal data, so it is audited
    audit.record(session, principal, "report.viewed", "country", country.code, country=country.code,
                 listed_participants=[i.participant_id for i in report.attention])
    session.flush()
    return report
