import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Enum, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.core.base import Base, utcnow


class CertificateStatus(enum.StrEnum):
    ISSUED = "issued"
    REVOKED = "revoked"
    SUPERSEDED = "superseded"


class RevokeReason(enum.StrEnum):
    """Public categories: the verification page shows them, so they say what happened, never why in detail
    (the private note does that)."""

    ERROR_DE_EMISION = "error_de_emision"
    A_PEDIDO_DE_LA_TITULAR = "a_pedido_de_la_titular"
    FRAUDE = "fraude"


_ISSUED_SQL = "status = 'issued'"
# bits of the one W3C Bitstring Status List (/api/v1/credentials/status/1): the specification's minimum of 16 KB,
# so that a list says little about how many credentials exist; 650 times the programme's 200 women
STATUS_LIST_SIZE = 16 * 1024 * 8


def _enum(cls: type[enum.StrEnum]) -> Enum:
    return Enum(cls, native_enum=False, length=30, values_callable=lambda e: [m.value for m in e])


class Certificate(Base):
    """A certificate as printed: the name, modules and hours are a snapshot, so that the verification page keeps
    saying what the PDF says even after a rectification or an erasure. Never deleted: revocation and reissue
    change its status."""

    __tablename__ = "certificate"
    __table_args__ = (
        # one valid certificate per woman, decided by the database whatever races between issuers
        Index("uq_certificate_one_issued", "participant_id", unique=True,
              postgresql_where=text(_ISSUED_SQL), sqlite_where=text(_ISSUED_SQL)),
        Index("ix_certificate_country_status", "country", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # normalised: 20 Crockford base-32 characters (100 bits), without dashes
    code: Mapped[str] = mapped_column(String(32), unique=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), index=True)
    country: Mapped[str] = mapped_column(ForeignKey("country.code"))
    status: Mapped[CertificateStatus] = mapped_column(_enum(CertificateStatus))
    holder_name: Mapped[str] = mapped_column(String(220))
    modules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    total_minutes: Mapped[int]
    completed_at: Mapped[datetime]
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None]
    revoke_reason: Mapped[RevokeReason | None] = mapped_column(_enum(RevokeReason))
    revoke_note: Mapped[str | None] = mapped_column(Text)
    superseded_at: Mapped[datetime | None]
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("certificate.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    override_reason: Mapped[str | None] = mapped_column(Text)
    # its bit in the status list of its Open Badges credential: drawn at random when issued (a verifier fetching
    # the list learns nothing from neighbouring positions), never reused, never changed
    status_list_index: Mapped[int] = mapped_column(unique=True)
    # the bulk job that issued it, if any
    job_id: Mapped[int | None] = mapped_column(ForeignKey("job.id", ondelete="SET NULL"))
