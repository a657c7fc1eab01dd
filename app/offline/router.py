"""Offline packages of a module: which tier to take, and the zips and manifests themselves (ETag, 304, Range)."""

import logging
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from app.content.dependencies import StudyAccess
from app.core.dependencies import SessionDep
from app.core.errors import NotFound, error_responses
from app.core.files import file_response
from app.offline import service
from app.offline.schemas import ManifestOut, OfflineOut, TierOut
from app.offline.tiers import TIERS, Tier, recommend, seconds_at
from app.storage.dependencies import StorageDep

logger = logging.getLogger("caminos.offline")
router = APIRouter(tags=["offline"])
Slug = Annotated[str, Path(min_length=1, max_length=80, pattern=r"^[a-z0-9-]+$")]
HINTS = "Save-Data, ECT, Downlink"
# the URL names the current version, which a new load replaces: a cache keeps the bytes but asks again (a 304)
_PACKAGE_HEADERS = {"Cache-Control": "private, no-cache", "X-Content-Type-Options": "nosniff"}


@router.get("/modules/{slug}/offline", response_model=OfflineOut, responses=error_responses(401, 403, 404, 422))
def offline_packages(request: Request, response: Response, session: SessionDep, _reader: StudyAccess,
                     slug: Slug) -> OfflineOut:
    """The tiers of the current version, their sizes, and the one this connection should take."""
    version, packages = service.current_packages(session, slug)
    advice = recommend(request.headers)
    response.headers["Accept-CH"] = HINTS
    response.headers["Vary"] = ", ".join(advice.consulted)
    response.headers["Cache-Control"] = "private, no-cache"
    return OfflineOut(version=version, tiers=[
        TierOut(tier=tier, bytes=row.zip_bytes, sha256=row.zip_sha256,
                estimated_seconds=seconds_at(row.zip_bytes, advice.kbps), recommended=tier is advice.tier)
        for tier in TIERS if (row := packages.get(tier.value)) is not None
    ])


def _served(request: Request, session: SessionDep, storage: StorageDep, slug: str, tier: Tier, what: str,
            media_type: str, headers: dict[str, str]) -> Response:
    found = service.package_file(session, slug, tier, what)
    path = storage.path(found.sha256)
    if path is None:
        logger.warning("offline %s %s of %s has no file in the storage; run `caminos packages build`",
                       what, tier, slug)
        raise NotFound("packages_not_built")
    return file_response(request, path, sha256=found.sha256, media_type=media_type, headers=headers)


@router.get(
    "/modules/{slug}/offline/{tier}.zip",
    response_class=Response,
    responses={
        200: {"content": {"application/zip": {}}, "description": "El paquete"},
        206: {"content": {"application/zip": {}}, "description": "La parte pedida con Range"},
        304: {"description": "Sin cambios"},
        **error_responses(400, 401, 403, 404, 416, 422),
    },
)
def offline_zip(request: Request, session: SessionDep, storage: StorageDep, _reader: StudyAccess, slug: Slug,
                tier: Tier) -> Response:
    """The tier as a deterministic zip: the same content gives the same bytes, so a cut download resumes."""
    headers = {**_PACKAGE_HEADERS, "Content-Disposition": f'attachment; filename="{slug}-{tier.value}.zip"'}
    return _served(request, session, storage, slug, tier, "zip", "application/zip", headers)


@router.get(
    "/modules/{slug}/offline/{tier}/manifest",
    response_class=Response,
    responses={
        200: {"model": ManifestOut, "description": "Los archivos del paquete con su SHA-256"},
        206: {"description": "La parte pedida con Range"},
        304: {"description": "Sin cambios"},
        **error_responses(400, 401, 403, 404, 416, 422),
    },
)
def offline_manifest(request: Request, session: SessionDep, storage: StorageDep, _reader: StudyAccess, slug: Slug,
                     tier: Tier) -> Response:
    """Every file of the tier with its SHA-256 and size: compared with the one held, what an update must fetch."""
    return _served(request, session, storage, slug, tier, "manifest", "application/json", _PACKAGE_HEADERS)
