from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

EventStatus = Literal["accepted", "duplicate", "conflict", "rejected"]
# why an event was rejected (or, different_content, why it is a conflict); app/core/i18n.py EVENT_REASONS words them
EventReason = Literal[
    "malformed", "invalid_event_id", "unknown_type", "unknown_module", "unknown_version", "unknown_lesson",
    "invalid_occurred_at", "invalid_payload", "invalid_seconds", "lesson_has_no_quiz", "invalid_answers",
    "invalid_text", "invalid_number", "too_deep", "different_content",
]


class EventIn(BaseModel):
    """Documentation of one event; events are validated one by one in the service so that a bad one never fails
    the others."""

    event_id: str = Field(description="UUID made by the device")
    type: Literal["lesson_viewed", "lesson_completed", "quiz_submitted"]
    module: str
    module_version: str | None = Field(default=None, description="Omitted: the current version")
    lesson: str
    occurred_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)


class EventsIn(BaseModel):
    device_id: str | None = None
    events: list[EventIn] = Field(max_length=500)


class EventResult(BaseModel):
    event_id: str | None
    status: EventStatus
    reason: EventReason | None = None
    detail: str | None = Field(default=None, description="The reason in the request's language (Accept-Language)")
    score: float | None = None
    passed: bool | None = None


class EventsOut(BaseModel):
    results: list[EventResult]


class LessonProgressOut(BaseModel):
    slug: str
    title: str
    required: bool
    completed_at: datetime | None
    seconds: int
    quiz_best_score: float | None
    quiz_passed: bool | None
    quiz_attempts: int


class ModuleProgressOut(BaseModel):
    slug: str
    title: str
    required: bool
    completed_lessons: int
    total_lessons: int
    percent: int
    completed_at: datetime | None
    lessons: list[LessonProgressOut]


class ProgressOut(BaseModel):
    participant_id: int
    modules: list[ModuleProgressOut]
    programme_completed: bool
    programme_completed_at: datetime | None
