from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.base import Base, utcnow


class ContentModule(Base):
    """A training module; what it says lives in its versions, ``current_version`` names the one served now."""

    __tablename__ = "content_module"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    position: Mapped[int]
    required: Mapped[bool]
    current_version: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ModuleVersion(Base):
    """One version of a module, named by the hash of its content; kept forever so that progress recorded
    against it still counts and its quizzes can still be scored."""

    __tablename__ = "module_version"
    __table_args__ = (UniqueConstraint("module_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("content_module.id", ondelete="CASCADE"), index=True)
    version: Mapped[str] = mapped_column(String(64))
    number: Mapped[int]
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ContentBlob(Base):
    """A media file, addressed by its SHA-256: immutable, shared by every version that shows it. Its bytes are
    in the file storage (``app.storage``) under the same name; a row is what makes a stored file public."""

    __tablename__ = "content_blob"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int]
