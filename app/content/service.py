"""Loading validated content into the database, and reading it back for learners."""

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.content import repository
from app.content.schemas import LessonOut, LessonSummary, ModuleDetail, ModuleSummary, OptionOut, QuestionOut, QuizOut
from app.content.spec import ModuleSpec, QuizSpec, quiz_from_document
from app.core.base import utcnow
from app.core.errors import NotFound
from app.models import ContentBlob, ContentModule, ModuleVersion
from app.storage import Storage


@dataclass(frozen=True)
class LoadedModule:
    slug: str
    version: str
    number: int
    new_version: bool


def load_modules(session: Session, storage: Storage, specs: list[ModuleSpec]) -> list[LoadedModule]:
    """Store each module; unchanged content is a no-op, changed content a new version (earlier ones are kept).

    Every media file is written to the storage before its row is added (so before the caller commits), also
    when the row already exists: loading again restores a file the storage lost (or never had, after the
    migration that moved blobs out of the database) without changing the database."""
    report = []
    for spec in specs:
        for media in spec.media:
            stored = storage.put(media.data)
            if stored != media.sha256:  # the loader hashed the same bytes; a mismatch would publish wrong ones
                raise ValueError(f"{spec.slug}/{media.path}: stored as {stored}, expected {media.sha256}")
            if repository.blob(session, media.sha256) is None:
                session.add(ContentBlob(sha256=media.sha256, media_type=media.media_type, size=len(media.data)))
        version = spec.content_hash()
        module = repository.module_by_slug(session, spec.slug)
        if module is None:
            module = ContentModule(slug=spec.slug, position=spec.position, required=spec.required,
                                   current_version=version)
            session.add(module)
            session.flush()
        existing = repository.version_of(session, module.id, version)
        if existing is None:
            number = repository.last_version_number(session, module.id) + 1
            session.add(ModuleVersion(module_id=module.id, version=version, number=number, document=spec.document()))
        else:
            number = existing.number
        if module.current_version != version or existing is None:
            module.updated_at = utcnow()
        module.current_version, module.position, module.required = version, spec.position, spec.required
        session.flush()
        report.append(LoadedModule(spec.slug, version, number, existing is None))
    return report


def list_modules(session: Session) -> list[ModuleSummary]:
    return [
        ModuleSummary(
            slug=module.slug, title=doc["title"], summary=doc["summary"], version=version.version,
            version_number=version.number, lessons=len(doc["lessons"]), estimated_minutes=doc["estimated_minutes"],
            required=module.required, objectives=doc["objectives"],
        )
        for module, version in repository.modules_with_current_version(session)
        for doc in (version.document,)
    ]


def current_version(session: Session, slug: str) -> tuple[ContentModule, ModuleVersion]:
    module = repository.module_by_slug(session, slug)
    if module is None:
        raise NotFound()
    version = repository.version_of(session, module.id, module.current_version)
    if version is None:
        raise NotFound()
    return module, version


def module_detail(session: Session, slug: str) -> ModuleDetail:
    module, version = current_version(session, slug)
    doc = version.document
    return ModuleDetail(
        slug=module.slug, title=doc["title"], summary=doc["summary"], version=version.version,
        version_number=version.number, estimated_minutes=doc["estimated_minutes"], required=module.required,
        objectives=doc["objectives"],
        lessons=[LessonSummary(slug=lesson["slug"], title=lesson["title"],
                               estimated_minutes=lesson["estimated_minutes"], required=lesson["required"],
                               has_quiz=lesson["quiz"] is not None) for lesson in doc["lessons"]],
    )


def lesson_of(document: dict[str, Any], lesson_slug: str) -> dict[str, Any] | None:
    return next((lesson for lesson in document["lessons"] if lesson["slug"] == lesson_slug), None)


# the loader writes blob addresses relative to this service (app/content/loader.py BLOB_PREFIX)
_RELATIVE_BLOB = re.compile(r'(\s(?:src|href)=")(/api/v1/blobs/[0-9a-f]{64}")')


def absolute_blob_urls(html: str, base_url: str) -> str:
    """Lesson HTML as served: the website shows it on its own host, where ``/api/v1/blobs/…`` is not ours. The
    stored HTML (and so the module's version hash) keeps the relative form: a new base URL is no new content."""
    return _RELATIVE_BLOB.sub(lambda m: m.group(1) + base_url.rstrip("/") + m.group(2), html)


def lesson(session: Session, slug: str, lesson_slug: str, base_url: str | None = None) -> LessonOut:
    module, version = current_version(session, slug)
    found = lesson_of(version.document, lesson_slug)
    if found is None:
        raise NotFound()
    quiz = found["quiz"]
    return LessonOut(
        slug=found["slug"], title=found["title"], module=module.slug, version=version.version,
        estimated_minutes=found["estimated_minutes"], required=found["required"],
        html=absolute_blob_urls(found["html"], base_url) if base_url else found["html"],
        quiz=None if quiz is None else QuizOut(
            pass_mark=quiz["pass_mark"],
            questions=[QuestionOut(id=q["id"], kind=q["kind"], prompt=q["prompt"],
                                   options=[OptionOut(id=o["id"], text=o["text"]) for o in q["options"]])
                       for q in quiz["questions"]],
        ),
    )


@dataclass(frozen=True)
class LessonShape:
    slug: str
    title: str
    required: bool
    quiz: QuizSpec | None


@dataclass(frozen=True)
class ModuleShape:
    """What progress needs of a module version: its lessons, which are required, their quizzes (with answers)."""

    slug: str
    title: str
    version: str
    lessons: tuple[LessonShape, ...]

    def lesson(self, slug: str) -> LessonShape | None:
        return next((lesson for lesson in self.lessons if lesson.slug == slug), None)


@dataclass(frozen=True)
class CurrentModule:
    id: int
    slug: str
    version: str
    required: bool


# A version is named by the hash of its content, so its shape never changes: parse each document once per process.
_SHAPES: dict[tuple[str, str], ModuleShape] = {}


def module_shape(session: Session, module_id: int, slug: str, version: str) -> ModuleShape | None:
    key = (slug, version)
    shape = _SHAPES.get(key)
    if shape is None:
        document = session.scalar(select(ModuleVersion.document).where(
            ModuleVersion.module_id == module_id, ModuleVersion.version == version))
        if document is None:
            return None
        shape = ModuleShape(slug=slug, title=document["title"], version=version, lessons=tuple(
            LessonShape(slug=lesson["slug"], title=lesson["title"], required=lesson["required"],
                        quiz=quiz_from_document(lesson["quiz"]))
            for lesson in document["lessons"]
        ))
        if len(_SHAPES) > 10_000:
            _SHAPES.clear()
        _SHAPES[key] = shape
    return shape


_CURRENT_MODULES = (
    select(ContentModule.id, ContentModule.slug, ContentModule.current_version, ContentModule.required)
    .order_by(ContentModule.position, ContentModule.slug)
)


def current_modules(session: Session) -> list[CurrentModule]:
    # on the connection (Core rows, none of the ORM's per-statement work): every progress read and sync runs it
    rows = session.connection().execute(_CURRENT_MODULES)
    return [CurrentModule(id=r.id, slug=r.slug, version=r.current_version, required=r.required) for r in rows]


def required_lessons(session: Session) -> dict[str, tuple[str, ...]]:
    """What the programme's completion needs: the required lessons of each current required module, by slug.
    (One query for the modules; shapes come from the per-process cache.)"""
    required: dict[str, tuple[str, ...]] = {}
    for module in current_modules(session):
        if not module.required:
            continue
        shape = module_shape(session, module.id, module.slug, module.version)
        if shape is not None:
            required[module.slug] = tuple(lesson.slug for lesson in shape.lessons if lesson.required)
    return required
