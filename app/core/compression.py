"""Brotli, or gzip as the fallback, for JSON and HTML answers (``starlette-compress``, a maintained middleware
that picks by ``Accept-Encoding``), never for what a client reads by byte ranges: a ranged request, the
content-addressed blobs and the offline zips and manifests are passed through untouched, so that the bytes (and
Content-Range, Content-Length, ETag) are those of the stored file."""

import re

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette_compress import CompressMiddleware

_RAW_PATHS = re.compile(r"^/api/v1/(?:blobs/|modules/[^/]+/offline/[^/]+(?:\.zip|/manifest)$)")


class SelectiveCompressMiddleware:
    def __init__(self, app: ASGIApp, minimum_size: int = 800) -> None:
        self.app = app
        # brotli 5 / gzip 6: nearly their best size on JSON at a fraction of the CPU of 2 shared cores. No zstd:
        # the phones' browsers (Samsung Internet, older Chrome) do not all have it, and brotli is as small here.
        self.compress = CompressMiddleware(app, minimum_size=minimum_size, zstd=False, brotli_quality=5,
                                           gzip_level=6)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._raw(scope):
            await self.app(scope, receive, send)
        else:
            await self.compress(scope, receive, send)

    @staticmethod
    def _raw(scope: Scope) -> bool:
        if _RAW_PATHS.match(scope["path"]):
            return True
        return any(name == b"range" for name, _value in scope["headers"])
