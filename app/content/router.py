import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.content import repository, service
from app.content.dependencies import StudyAccess
from app.content.schemas import LessonOut, ModuleDetail, ModuleSummary
from app.core.dependencies import ReadSessionDep, SettingsDep
from app.core.errors import NotFound, error_responses
from app.core.files import file_response
from app.storage.dependencies import StorageDep

logger = logging.getLogger("caminos.content")
router = APIRouter(tags=["content"])
Slug = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$")]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.get("/modules", response_model=list[ModuleSummary])
def list_modules(session: ReadSessionDep) -> list[ModuleSummary]:
    """The curriculum, public: the website shows it to future applicants."""
    return service.list_modules(session)


@router.get("/modules/{slug}", response_model=ModuleDetail, responses=error_responses(401, 403, 404, 422))
def module_detail(session: ReadSessionDep, _reader: StudyAccess, slug: Slug) -> ModuleDetail:
    return service.module_detail(session, slug)


@router.get("/modules/{slug}/lessons/{lesson}", response_model=LessonOut,
            responses=error_responses(401, 403, 404, 422))
def lesson(session: ReadSessionDep, settings: SettingsDep, _reader: StudyAccess, slug: Slug, lesson: Slug) -> LessonOut:
    return service.lesson(session, slug, lesson, settings.public_base_url)


_MEDIA: dict[str, dict[str, object]] = {"image/svg+xml": {}, "image/png": {}, "image/jpeg": {}, "image/webp": {}}
_BLOB_HEADERS = {
    # a capability URL: the hash is only given to readers of the lesson, and the bytes never change, so any
    # cache may keep it and an <img> (which cannot send a token) loads it
    "Cache-Control": "public, max-age=31536000, immutable",
    # an SVG opened on its own must not run anything
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    "X-Content-Type-Options": "nosniff",
}


@router.get(
    "/blobs/{sha256}",
    response_class=Response,
    responses={
        200: {"content": _MEDIA, "description": "El archivo"},
        206: {"content": _MEDIA, "description": "La parte pedida con Range (Content-Range dice cuál)"},
        304: {"description": "Sin cambios"},
        **error_responses(400, 404, 416, 422),
    },
)
def blob(request: Request, session: ReadSessionDep, storage: StorageDep, sha256: Sha256) -> Response:
    """One media file, named by its SHA-256: no login, immutable, resumable with Range."""
    found = repository.blob(session, sha256)
    if found is None:  # only files a blob row names are public: the storage also holds what is not published
        raise NotFound()
    path = storage.path(found.sha256)
    if path is None:
        logger.warning("blob %s has no file in the storage; run `caminos content load`", sha256)
        raise NotFound()
    return file_response(request, path, sha256=found.sha256, media_type=found.media_type, headers=_BLOB_HEADERS)
