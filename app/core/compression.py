"""Brotli, or gzip as the fallback, for JSON and HTML answers (``starlette-compress``, a maintained middleware
that picks by ``Accept-Encoding``), never for what a client reads by byte ranges: a ranged request, the
content-addressed blobs and the offline zips and manifests are passed through untouched, so that the bytes (and
Content-Range, Content-Length, ETag) are those of the stored file.

A compressed answer is another representation with other bytes, so it gets its own validator: the app's ETag with
the encoding appended (``"abc"`` → ``"abc-br"``), as Apache does. Otherwise a cache holding the brotli bytes under
``"abc"`` would answer a client that asked for identity with them (``Vary: Accept-Encoding`` stays as well). A
revalidation with ``If-None-Match: "abc-br"`` from a client that still accepts brotli reaches the app as ``"abc"``,
and its 304 goes back under the tag the client holds."""

import re

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette_compress import CompressMiddleware

# the same parser the middleware chooses its encoding with, so that a tag is only ever unwrapped for an encoding
# this client accepts now
from starlette_compress._utils import parse_accept_encoding

_RAW_PATHS = re.compile(r"^/api/v1/(?:blobs/|modules/[^/]+/offline/[^/]+(?:\.zip|/manifest)$)")
_ENCODINGS = ("br", "gzip")  # the ones configured below (no zstd, no deflate)
_SUFFIXED = re.compile(r'^(W/)?"(.*)-(br|gzip)"$')


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
            return
        scope, held = _unwrap_if_none_match(scope)

        async def send_with_validator(message: Message) -> None:
            if message["type"] == "http.response.start":
                _rewrite_etag(message, held)
            await send(message)

        await self.compress(scope, receive, send_with_validator)

    @staticmethod
    def _raw(scope: Scope) -> bool:
        if _RAW_PATHS.match(scope["path"]):
            return True
        return any(name == b"range" for name, _value in scope["headers"])


def _unwrap_if_none_match(scope: Scope) -> tuple[Scope, dict[str, str]]:
    """The request with each ``"x-<enc>"`` tag of an encoding it accepts turned back into the app's ``"x"``, and
    app tag → the tag the client sent. Tags of an encoding it no longer accepts stay as they are, so they match
    nothing and she gets the bytes she can read."""
    headers = scope["headers"]
    wanted = [value.decode("latin-1") for name, value in headers if name == b"if-none-match"]
    if not wanted:
        return scope, {}
    accepted = parse_accept_encoding(",".join(
        value.decode("latin-1") for name, value in headers if name == b"accept-encoding"))
    held: dict[str, str] = {}
    tags = []
    for tag in ",".join(wanted).split(","):
        tag = tag.strip()
        match = _SUFFIXED.match(tag)
        if match and match[3] in accepted:
            app_tag = f'"{match[2]}"'
            held.setdefault(app_tag, tag)
            tags.append(f"{match[1] or ''}{app_tag}")
        else:
            tags.append(tag)
    rest = [(name, value) for name, value in headers if name != b"if-none-match"]
    return {**scope, "headers": [*rest, (b"if-none-match", ", ".join(tags).encode("latin-1"))]}, held


def _rewrite_etag(message: Message, held: dict[str, str]) -> None:
    headers = MutableHeaders(scope=message)
    etag = headers.get("etag")
    if etag is None:
        return
    if message.get("status") == 304:
        sent = held.get(etag.removeprefix("W/"))
        if sent is not None:
            headers["ETag"] = sent
            headers.add_vary_header("Accept-Encoding")
        return
    encoding = headers.get("content-encoding", "").strip().lower()
    if encoding in _ENCODINGS and etag.endswith('"'):
        headers["ETag"] = f'{etag[:-1]}-{encoding}"'
