"""Gzip for JSON and HTML answers (Starlette's GZipMiddleware), never for what a client reads by byte ranges:
a ranged request, the content-addressed blobs and the offline zips and manifests are passed through untouched, so
that the bytes (and Content-Range, Content-Length, ETag) are those of the stored file."""

import re

from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

_RAW_PATHS = re.compile(r"^/api/v1/(?:blobs/|modules/[^/]+/offline/[^/]+(?:\.zip|/manifest)$)")


class SelectiveGZipMiddleware:
    def __init__(self, app: ASGIApp, minimum_size: int = 800) -> None:
        self.app = app
        # level 6: nearly level 9's size on JSON at a fraction of the CPU of 2 shared cores
        self.gzip = GZipMiddleware(app, minimum_size=minimum_size, compresslevel=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._raw(scope):
            await self.app(scope, receive, send)
        else:
            await self.gzip(scope, receive, send)

    @staticmethod
    def _raw(scope: Scope) -> bool:
        if _RAW_PATHS.match(scope["path"]):
            return True
        return any(name == b"range" for name, _value in scope["headers"])
