from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ContentModule, ModuleVersion, Narration, OfflinePackage


def packages_of(session: Session, module_version_id: int) -> dict[str, OfflinePackage]:
    rows = session.scalars(select(OfflinePackage).where(OfflinePackage.module_version_id == module_version_id))
    return {row.tier: row for row in rows}


def package(session: Session, module_version_id: int, tier: str) -> OfflinePackage | None:
    return session.scalars(select(OfflinePackage).where(
        OfflinePackage.module_version_id == module_version_id, OfflinePackage.tier == tier)).one_or_none()


def current_versions(session: Session, slugs: list[str] | None = None) -> list[tuple[ContentModule, ModuleVersion]]:
    statement = (
        select(ContentModule, ModuleVersion)
        .join(ModuleVersion, (ModuleVersion.module_id == ContentModule.id)
              & (ModuleVersion.version == ContentModule.current_version))
        .order_by(ContentModule.position, ContentModule.slug)
    )
    if slugs is not None:
        statement = statement.where(ContentModule.slug.in_(slugs))
    return [(module, version) for module, version in session.execute(statement).all()]


def narration(session: Session, text_sha256: str, voice: str) -> Narration | None:
    return session.get(Narration, (text_sha256, voice))
