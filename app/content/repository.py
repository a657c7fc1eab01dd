from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import ContentBlob, ContentModule, ModuleVersion


def modules_with_current_version(session: Session) -> list[tuple[ContentModule, ModuleVersion]]:
    rows = session.execute(
        select(ContentModule, ModuleVersion)
        .join(ModuleVersion, (ModuleVersion.module_id == ContentModule.id)
              & (ModuleVersion.version == ContentModule.current_version))
        .order_by(ContentModule.position, ContentModule.slug)
    ).all()
    return [(module, version) for module, version in rows]


def module_by_slug(session: Session, slug: str) -> ContentModule | None:
    return session.scalars(select(ContentModule).where(ContentModule.slug == slug)).one_or_none()


def version_of(session: Session, module_id: int, version: str) -> ModuleVersion | None:
    return session.scalars(
        select(ModuleVersion).where(ModuleVersion.module_id == module_id, ModuleVersion.version == version)
    ).one_or_none()


def last_version_number(session: Session, module_id: int) -> int:
    return session.scalar(select(func.max(ModuleVersion.number)).where(ModuleVersion.module_id == module_id)) or 0


def blob(session: Session, sha256: str) -> ContentBlob | None:
    return session.get(ContentBlob, sha256)
