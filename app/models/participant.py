from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from app.core.base import Base, utcnow
from app.core.text import alphanumerics, fold


class Participant(Base):
    """A woman who applied. Ethnicity and languages are sensitive: stored only with their own consent."""

    __tablename__ = "participant"
    __table_args__ = (Index("uq_participant_document", "document_type", "document_number", unique=True),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date]
    gender: Mapped[str] = mapped_column(String(10))
    country_code: Mapped[str] = mapped_column(ForeignKey("country.code"), index=True)
    region: Mapped[str] = mapped_column(String(80))
    locality: Mapped[str] = mapped_column(String(120))
    is_rural: Mapped[bool]
    has_internet: Mapped[bool]
    phone: Mapped[str | None] = mapped_column(String(16))
    document_type: Mapped[str | None] = mapped_column(String(4))
    document_number: Mapped[str | None] = mapped_column(String(20))
    ethnicity: Mapped[str | None] = mapped_column(String(100))
    languages: Mapped[list[str] | None] = mapped_column(JSON)
    # her names folded (no accents, lower case) and her document number: what staff search by
    search_text: Mapped[str] = mapped_column(String(400), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


@event.listens_for(Participant, "before_insert")
@event.listens_for(Participant, "before_update")
def _index_for_search(_mapper: Any, _connection: Any, participant: Participant) -> None:
    participant.search_text = " ".join(filter(None, (
        fold(participant.first_name), fold(participant.last_name), alphanumerics(participant.document_number or ""))))


class ConsentRecord(Base):
    """Which privacy notice was accepted, when, through which channel, and whether for sensitive data."""

    __tablename__ = "consent_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"), index=True)
    notice_version: Mapped[str] = mapped_column(String(20))
    sensitive_data: Mapped[bool]
    channel: Mapped[str] = mapped_column(String(20))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    accepted_at: Mapped[datetime] = mapped_column(default=utcnow)
