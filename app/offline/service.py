"""Building the offline packages of the current module versions into the storage, and reading them back."""

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.content import repository as content_repository
from app.content import service as content_service
from app.core.base import utcnow
from app.core.errors import NotFound
from app.models import ContentBlob, ModuleVersion, Narration, OfflinePackage
from app.offline import repository
from app.offline.archive import deterministic_zip
from app.offline.builder import MANIFEST, build, media_type_of, recorded_narration
from app.offline.narration import Synthesiser, lesson_text, text_sha256
from app.offline.tiers import BUDGET_BYTES, TIERS, Tier
from app.storage import Storage


@dataclass(frozen=True)
class BuiltTier:
    slug: str
    version: str
    tier: Tier
    bytes: int
    sha256: str
    files: int
    narrated_lessons: int
    lessons: int
    rebuilt: bool  # False: it was there already, nothing changed
    seconds: float

    @property
    def within_budget(self) -> bool:
        return self.bytes <= BUDGET_BYTES[self.tier]

    @property
    def missing_narration(self) -> bool:
        return self.tier is Tier.FULL and self.narrated_lessons < self.lessons


def build_packages(session: Session, storage: Storage, synthesiser: Synthesiser | None,
                   slugs: list[str] | None = None, force: bool = False) -> list[BuiltTier]:
    """Every tier of every current module version (or of ``slugs``). A tier already built is kept, unless its
    files left the storage, or it lacks narration that a synthesiser now present can give; ``force`` rebuilds
    (the same content gives the same bytes, so only a change of the builder shows)."""
    report = []
    for module, version in repository.current_versions(session, slugs):
        existing = repository.packages_of(session, version.id)
        for tier in TIERS:
            started = time.perf_counter()
            row = existing.get(tier.value)
            if row is not None and not force and _still_good(row, storage, synthesiser):
                report.append(_report(module.slug, version.version, tier, row, False, started))
                continue
            row = _build_tier(session, storage, synthesiser, module.slug, version, tier, row)
            report.append(_report(module.slug, version.version, tier, row, True, started))
    return report


def _still_good(row: OfflinePackage, storage: Storage, synthesiser: Synthesiser | None) -> bool:
    if not (storage.exists(row.zip_sha256) and storage.exists(row.manifest_sha256)):
        return False
    return row.tier != Tier.FULL or row.narrated_lessons >= row.lessons or synthesiser is None


def _report(slug: str, version: str, tier: Tier, row: OfflinePackage, rebuilt: bool, started: float) -> BuiltTier:
    return BuiltTier(slug=slug, version=version, tier=tier, bytes=row.zip_bytes, sha256=row.zip_sha256,
                     files=0, narrated_lessons=row.narrated_lessons, lessons=row.lessons, rebuilt=rebuilt,
                     seconds=time.perf_counter() - started)


def _build_tier(session: Session, storage: Storage, synthesiser: Synthesiser | None, slug: str,
                version: ModuleVersion, tier: Tier, row: OfflinePackage | None) -> OfflinePackage:
    document = version.document
    media_types = {blob.sha256: blob.media_type for sha in document.get("media", {}).values()
                   if (blob := content_repository.blob(session, sha)) is not None}

    def read_media(sha256: str) -> bytes:
        with storage.open(sha256) as file:
            return file.read()

    def narrate(lesson_slug: str, title: str, html: str) -> bytes | None:
        recorded = recorded_narration(document, lesson_slug)
        if recorded is not None:
            return read_media(recorded)
        return _synthesised(session, storage, synthesiser, lesson_text(title, html))

    package = build(slug, version.version, document, tier, media_types, read_media, narrate)
    # each file on its own too (public by its hash, like lesson images): a holder of an older version fetches
    # only the files whose hash she lacks
    for path, data in package.files.items():
        sha256 = storage.put(data)
        if content_repository.blob(session, sha256) is None:
            session.add(ContentBlob(sha256=sha256, media_type=media_type_of(path), size=len(data)))
    session.flush()
    archive = deterministic_zip({**package.files, MANIFEST: package.manifest})
    zip_sha, manifest_sha = storage.put(archive), storage.put(package.manifest)
    if row is None:
        row = OfflinePackage(module_version_id=version.id, tier=tier.value, zip_sha256=zip_sha,
                             zip_bytes=len(archive), manifest_sha256=manifest_sha,
                             manifest_bytes=len(package.manifest), narrated_lessons=package.narrated_lessons,
                             lessons=package.lessons)
        session.add(row)
    else:
        row.zip_sha256, row.zip_bytes = zip_sha, len(archive)
        row.manifest_sha256, row.manifest_bytes = manifest_sha, len(package.manifest)
        row.narrated_lessons, row.lessons, row.built_at = package.narrated_lessons, package.lessons, utcnow()
    session.flush()
    return row


def _synthesised(session: Session, storage: Storage, synthesiser: Synthesiser | None, text: str) -> bytes | None:
    """The narration of ``text``, synthesised at most once per (text, voice) and then read from the storage."""
    if synthesiser is None:
        return None
    key = text_sha256(text)
    cached = repository.narration(session, key, synthesiser.voice)
    if cached is not None and storage.exists(cached.audio_sha256):
        with storage.open(cached.audio_sha256) as file:
            return file.read()
    audio = synthesiser.synthesise(text)
    sha256 = storage.put(audio)
    if cached is None:
        session.add(Narration(text_sha256=key, voice=synthesiser.voice, audio_sha256=sha256, bytes=len(audio)))
    else:
        cached.audio_sha256, cached.bytes = sha256, len(audio)
    session.flush()
    return audio


@dataclass(frozen=True)
class ServedFile:
    sha256: str
    bytes: int


def current_packages(session: Session, slug: str) -> tuple[str, dict[str, OfflinePackage]]:
    """(version, tier → package) of the module's current version; 404 when the module has none built."""
    _module, version = content_service.current_version(session, slug)
    packages = repository.packages_of(session, version.id)
    if not packages:
        raise NotFound("packages_not_built")
    return version.version, packages


def package_file(session: Session, slug: str, tier: Tier, what: str) -> ServedFile:
    _module, version = content_service.current_version(session, slug)
    row = repository.package(session, version.id, tier.value)
    if row is None:
        raise NotFound("packages_not_built")
    if what == "zip":
        return ServedFile(row.zip_sha256, row.zip_bytes)
    return ServedFile(row.manifest_sha256, row.manifest_bytes)


def summary_line(built: BuiltTier) -> dict[str, Any]:
    return {"module": built.slug, "tier": built.tier.value, "bytes": built.bytes, "within_budget": built.within_budget}
