from datetime import date

from sqlalchemy import JSON, CheckConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.base import Base


class Country(Base):
    """A country's cohort: its seats and waitlist counters are the quota's single source of truth.

    ``enrolled`` and ``waitlisted`` are changed only by conditional UPDATEs that lock this row, so the cap holds
    under concurrent applications; the CHECK constraints are the backstop.
    """

    __tablename__ = "country"
    __table_args__ = (
        CheckConstraint("enrolled <= capacity", name="enrolled_within_capacity"),
        CheckConstraint("enrolled >= 0", name="enrolled_not_negative"),
        CheckConstraint("waitlisted >= 0", name="waitlisted_not_negative"),
        CheckConstraint("capacity >= 0", name="capacity_not_negative"),
    )

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    capacity: Mapped[int]
    enrolled: Mapped[int] = mapped_column(default=0)
    waitlisted: Mapped[int] = mapped_column(default=0)
    eligible_regions: Mapped[list[str]] = mapped_column(JSON)
    last_participant_number: Mapped[int] = mapped_column(default=0)
    # the day the cohort starts: the programme runs 12 months from it, and reports measure pace against it
    cohort_start: Mapped[date | None]
