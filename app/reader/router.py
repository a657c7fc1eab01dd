"""``/aprender/``: the reader, an installable web app on this service's own origin (a page opened from storage
cannot register a service worker, and fetches from it with ``Origin: null``). Plain files, nothing from a CDN."""

import hashlib
import json
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import RedirectResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from app.core.errors import NotFound, error_responses
from app.core.files import etag_matches

router = APIRouter(tags=["reader"], include_in_schema=False)
HERE = Path(__file__).resolve().parent
STATIC = {
    "app.js": "text/javascript; charset=utf-8", "queue.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
    "manifest.webmanifest": "application/manifest+json", "icon.svg": "image/svg+xml",
    "icon-192.png": "image/png", "icon-512.png": "image/png",
}
# strict: only this origin's own scripts, styles, images (blob: for a picked zip) and API; nothing inline
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; "
       "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            # the service worker keeps its own copy; the browser's cache must ask again so updates arrive
            "Cache-Control": "no-cache"}


_TEMPLATES = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html"]),
                        undefined=StrictUndefined, keep_trailing_newline=True)
BASE = "/aprender/"
SHELL_PATHS = [BASE, *(f"{BASE}{name}" for name in STATIC)]
_STATIC_BYTES = {name: (HERE / "static" / name).read_bytes() for name in STATIC}
# a new shell, script or style is a new version, hence a new service worker, which replaces the old cache on
# activation; rendered once at start (nothing in them depends on the request)
VERSION = hashlib.sha256(b"".join(
    hashlib.sha256(data).digest() for data in [
        *(_STATIC_BYTES[name] for name in sorted(_STATIC_BYTES)),
        *((HERE / "templates" / name).read_bytes() for name in ("reader.html", "sw.js"))])).hexdigest()[:16]
_BYTES = {"": _TEMPLATES.get_template("reader.html").render(base=BASE, version=VERSION).encode(),
          **_STATIC_BYTES}
# sw.js is JavaScript, not HTML: nothing is escaped, the list goes in as JSON
_SW = _TEMPLATES.get_template("sw.js").render(base=BASE, version=VERSION, files=json.dumps(SHELL_PATHS)).encode()


def served_files() -> dict[str, bytes]:
    """Path → the bytes the reader's own files are served as (its weight, for `make bench`)."""
    return {f"{BASE}{name}": data for name, data in _BYTES.items()} | {f"{BASE}sw.js": _SW}


def _answer(request: Request, data: bytes, media_type: str, extra: dict[str, str] | None = None) -> Response:
    etag = f'"{hashlib.sha256(data).hexdigest()}"'
    headers = {**_HEADERS, "ETag": etag, **(extra or {})}
    if etag_matches(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type=media_type, headers=headers)


@router.get("/aprender")
def reader_redirect() -> RedirectResponse:
    return RedirectResponse("/aprender/", status_code=308)


@router.get("/aprender/")
def reader(request: Request) -> Response:
    """The shell: login, modules, lessons; everything else is done by app.js."""
    return _answer(request, _BYTES[""], "text/html; charset=utf-8")


@router.get("/aprender/sw.js")
def reader_service_worker(request: Request) -> Response:
    return _answer(request, _SW, "text/javascript; charset=utf-8", {"Service-Worker-Allowed": "/aprender/"})


@router.get("/aprender/{name}", responses=error_responses(404))
def reader_file(request: Request, name: str) -> Response:
    if name not in STATIC:
        raise NotFound()
    return _answer(request, _BYTES[name], STATIC[name])
