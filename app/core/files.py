"""Serving a stored file named by its SHA-256 (media now; offline packages and PDFs later): a strong ETag,
``If-None-Match`` → 304, and Starlette's ``FileResponse`` for ``Range`` / ``If-Range`` (206), so that a download
cut by a bad connection resumes where it stopped instead of starting again."""

from collections.abc import Mapping
from pathlib import Path

from fastapi import Request, Response
from fastapi.responses import FileResponse
from starlette.responses import MalformedRangeHeader
from starlette.responses import RangeNotSatisfiable as StarletteRangeNotSatisfiable

from app.core.errors import BadRequest, RangeNotSatisfiable


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison over a list of tags (or ``*``), as If-None-Match asks."""
    if if_none_match is None:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags


def file_response(request: Request, path: Path, *, sha256: str, media_type: str,
                  headers: Mapping[str, str]) -> Response:
    """The file at ``path`` (whose bytes hash to ``sha256``), with ``headers`` (cache policy and the like) on the
    200, 206 and 304 answers alike."""
    etag = f'"{sha256}"'
    common = {**headers, "ETag": etag}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=common)
    stat = path.stat()
    response = FileResponse(path, media_type=media_type, headers=common, stat_result=stat)
    http_range = request.headers.get("range")
    if http_range is not None and _range_applies(request.headers.get("if-range"), response):
        # FileResponse answers a bad range in plain text; check it first with the same parser so that the client
        # gets the API's JSON error (and for 416 the file's size in Content-Range)
        try:
            FileResponse._parse_range_header(http_range, stat.st_size)
        except StarletteRangeNotSatisfiable as exc:
            raise RangeNotSatisfiable(stat.st_size) from exc
        except MalformedRangeHeader as exc:
            raise BadRequest() from exc
    return response


def _range_applies(if_range: str | None, response: FileResponse) -> bool:
    """Whether FileResponse will honour the Range: no If-Range, or one naming this very file (strong ETag or its
    Last-Modified). A stale If-Range gets the whole file with 200."""
    if if_range is None:
        return True
    return not if_range.startswith("W/") and if_range in (response.headers["etag"],
                                                           response.headers.get("last-modified"))
