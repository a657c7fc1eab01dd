from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.base import Base, utcnow


class ProgressEvent(Base):
    """Append-only log of what a participant did, online or offline, each event stored once under the id her
    device made for it. Summaries are derived from it; nothing here is ever updated."""

    __tablename__ = "progress_event"
    __table_args__ = (
        UniqueConstraint("participant_id", "event_id"),
        Index("ix_progress_event_participant_id_module", "participant_id", "module"),
        # a woman's last activity and her events of the last weeks, read by the reports without touching rows
        Index("ix_progress_event_participant_id_effective_at", "participant_id", "effective_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    event_id: Mapped[str] = mapped_column(String(36))
    content_hash: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(20))
    module: Mapped[str] = mapped_column(String(80))
    module_version: Mapped[str] = mapped_column(String(64))
    lesson: Mapped[str] = mapped_column(String(80))
    occurred_at: Mapped[datetime]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    # the event's time, but never later than its arrival: what completions are dated by
    effective_at: Mapped[datetime]
    seconds: Mapped[int] = mapped_column(default=0)  # viewed time, capped per event
    score: Mapped[float | None]
    passed: Mapped[bool | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    device_id: Mapped[str | None] = mapped_column(String(100))


class LessonProgress(Base):
    """Per participant and lesson, merged by order-independent rules: seconds add up, completion is the earliest,
    the best score is the maximum. A completion, once reached, is never taken away."""

    __tablename__ = "lesson_progress"
    __table_args__ = (UniqueConstraint("participant_id", "module", "lesson"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    module: Mapped[str] = mapped_column(String(80))
    lesson: Mapped[str] = mapped_column(String(80))
    seconds: Mapped[int] = mapped_column(default=0)
    viewed_completed_at: Mapped[datetime | None]
    quiz_passed_at: Mapped[datetime | None]
    quiz_best_score: Mapped[float | None]
    quiz_attempts: Mapped[int] = mapped_column(default=0)
    completed_at: Mapped[datetime | None]


class ModuleCompletion(Base):
    __tablename__ = "module_completion"
    __table_args__ = (UniqueConstraint("participant_id", "module"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    module: Mapped[str] = mapped_column(String(80))
    completed_at: Mapped[datetime]
