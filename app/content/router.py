from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.content import repository, service
from app.content.dependencies import StudyAccess
from app.content.schemas import LessonOut, ModuleDetail, ModuleSummary
from app.core.config import SettingsDep
from app.core.db import SessionDep
from app.core.errors import NotFound, error_responses

router = APIRouter(tags=["content"])
Slug = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$")]
Sha256 = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$")]


@router.get("/modules", response_model=list[ModuleSummary])
def list_modules(session: SessionDep) -> list[ModuleSummary]:
    """The curriculum, public: the website shows it to future applicants."""
    return service.list_modules(session)


@router.get("/modules/{slug}", response_model=ModuleDetail, responses=error_responses(401, 403, 404, 422))
def module_detail(session: SessionDep, _reader: StudyAccess, slug: Slug) -> ModuleDetail:
    return service.module_detail(session, slug)


@router.get("/modules/{slug}/lessons/{lesson}", response_model=LessonOut,
            responses=error_responses(401, 403, 404, 422))
def lesson(session: SessionDep, settings: SettingsDep, _reader: StudyAccess, slug: Slug, lesson: Slug) -> LessonOut:
    return service.lesson(session, slug, lesson, settings.public_base_url)


@router.get(
    "/blobs/{sha256}",
    response_class=Response,
    responses={200: {"content": {"image/svg+xml": {}, "image/png": {}, "image/jpeg": {}, "image/webp": {}},
                     "description": "El archivo"},
               304: {"description": "Sin cambios"}, **error_responses(401, 403, 404, 422)},
)
def blob(request: Request, session: SessionDep, _reader: StudyAccess, sha256: Sha256) -> Response:
    """One media file, named by its SHA-256: immutable, so it may be cached forever."""
    found = repository.blob(session, sha256)
    if found is None:
        raise NotFound()
    etag = f'"{found.sha256}"'
    headers = {
        "ETag": etag,
        "Cache-Control": "private, max-age=31536000, immutable",
        # an SVG opened on its own must not run anything
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        "X-Content-Type-Options": "nosniff",
    }
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(content=found.data, media_type=found.media_type, headers=headers)
