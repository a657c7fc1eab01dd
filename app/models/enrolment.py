import enum
from datetime import datetime

from sqlalchemy import CheckConstraint, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.base import Base, utcnow


class EnrolmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"


ACTIVE_STATUSES = (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED, EnrolmentStatus.COMPLETED)


_ACTIVE_SQL = "status IN ('enrolled', 'waitlisted', 'completed')"


class Enrolment(Base):
    __tablename__ = "enrolment"
    __table_args__ = (
        CheckConstraint(
            "(status = 'waitlisted') = (waitlist_position IS NOT NULL)", name="position_iff_waitlisted"
        ),
        Index("ix_enrolment_country_code_status", "country_code", "status"),
        # at most one active enrolment per woman, whatever races between two applications
        Index("uq_enrolment_one_active", "participant_id", unique=True,
              postgresql_where=text(_ACTIVE_SQL), sqlite_where=text(_ACTIVE_SQL)),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"))
    status: Mapped[EnrolmentStatus] = mapped_column(
        Enum(EnrolmentStatus, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])
    )
    waitlist_position: Mapped[int | None]
    applied_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    # a seat given from the waitlist, and when her coordinator told her (reports list those not yet told)
    promoted_at: Mapped[datetime | None]
    notified_at: Mapped[datetime | None]
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(20))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
