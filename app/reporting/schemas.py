from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

from app.enrolment.schemas import CountryCode

# a count of sensitive data: exact from 5 up; "<5" below; "≥5" when hidden only so that a small one cannot be
# worked out from the total
SuppressedCount = int | Literal["<5", "≥5"]


class StatusCounts(BaseModel):
    applied: int  # every enrolment ever made in the country, re-applications included
    enrolled: int
    waitlisted: int
    withdrawn: int
    completed: int
    certified: int  # of the completed: those holding a valid (issued, neither revoked nor superseded) certificate


class RegionCounts(BaseModel):
    region: str
    applied: int
    enrolled: int
    waitlisted: int
    withdrawn: int
    completed: int


class ModuleStats(BaseModel):
    slug: str
    title: str
    required: bool
    started: int
    completed: int
    mean_best_quiz_score: float | None
    median_active_seconds: int | None


class WeekActivity(BaseModel):
    week_start: date  # a Monday (UTC)
    active_participants: int
    events: int


class SensitiveCount(BaseModel):
    value: str
    count: SuppressedCount


class SensitiveAggregates(BaseModel):
    """Ethnicity and languages of the cohort, only as counts (API.md: never one woman's)."""

    ethnicity: list[SensitiveCount]
    languages: list[SensitiveCount]


AttentionReason = Literal["inactive_14_days", "quiz_failed_3_times", "behind_pace", "promoted_not_notified"]


class AttentionItem(BaseModel):
    participant_id: int
    enrolment_id: int
    participant_code: str | None
    full_name: str
    region: str
    phone: str | None
    reasons: list[AttentionReason]
    last_activity_at: datetime | None
    failed_quizzes: list[str]  # "module/lesson"
    required_share_done: float
    expected_share: float | None


class CountryReport(BaseModel):
    country: CountryCode
    generated_at: datetime
    cohort_start: date | None
    programme_end: date | None
    statuses: StatusCounts
    regions: list[RegionCounts]
    modules: list[ModuleStats]
    weekly_activity: list[WeekActivity]
    sensitive: SensitiveAggregates
    attention: list[AttentionItem]
