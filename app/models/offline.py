from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.base import Base, utcnow


class OfflinePackage(Base):
    """One tier (text, light, full) of one module version, built into the file storage: its manifest and its
    deterministic zip are both stored files named by their SHA-256."""

    __tablename__ = "offline_package"
    __table_args__ = (UniqueConstraint("module_version_id", "tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_version_id: Mapped[int] = mapped_column(ForeignKey("module_version.id", ondelete="CASCADE"), index=True)
    tier: Mapped[str] = mapped_column(String(8))
    zip_sha256: Mapped[str] = mapped_column(String(64))
    zip_bytes: Mapped[int]
    manifest_sha256: Mapped[str] = mapped_column(String(64))
    manifest_bytes: Mapped[int]
    # lessons with a spoken narration (full tier); fewer than the lessons when built without a synthesiser,
    # so that a later build with one fills them in
    narrated_lessons: Mapped[int] = mapped_column(default=0)
    lessons: Mapped[int]
    built_at: Mapped[datetime] = mapped_column(default=utcnow)


class Narration(Base):
    """A synthesised narration, once per (text, voice): Ogg streams carry random serial numbers, so synthesising
    again would give other bytes, another zip and another ETag for the same content."""

    __tablename__ = "narration"

    text_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    voice: Mapped[str] = mapped_column(String(40), primary_key=True)
    audio_sha256: Mapped[str] = mapped_column(String(64))
    bytes: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
