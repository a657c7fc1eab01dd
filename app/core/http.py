"""HTTP manners applied to every route: UTF-8 query strings, and 415 for a body that is not JSON where JSON is
expected."""

import email.message
import re
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import UnsupportedMediaType, localised
from app.core.i18n import request_locale, translate

# everything printable in ASCII stays as sent: only the bytes >= 0x80 are percent-encoded
_ASCII_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


class Utf8QueryStringMiddleware:
    """Starlette reads a raw query string as Latin-1, so ``?q=Apurímac`` sent unencoded (curl, some phone
    libraries) would search for 'ApurÃ\xadmac'. Percent-encode raw UTF-8 so that it decodes as sent; bytes that
    are not UTF-8 answer 400 in the API's error shape instead of reaching a query as mojibake."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw: bytes = scope.get("query_string", b"") if scope["type"] == "http" else b""
        if raw and not raw.isascii():
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                locale = request_locale(Request(scope))
                response = JSONResponse({"error": "invalid_query_string",
                                         "detail": translate("invalid_query_string", locale)},
                                        status_code=400, headers=localised(locale))
                await response(scope, receive, send)
                return
            scope = {**scope, "query_string": quote(text, safe=_ASCII_SAFE).encode("ascii")}
        await self.app(scope, receive, send)


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _expected_media_type(route: APIRoute) -> str | None:
    """``application/json``, a form type, or None when the route takes no body."""
    extra_body: Any = (route.openapi_extra or {}).get("requestBody", {})
    if isinstance(extra_body, dict) and "application/json" in extra_body.get("content", {}):
        return "application/json"  # a route that reads its JSON body itself (progress events)
    if route.body_field is None:
        return None
    return str(getattr(route.body_field.field_info, "media_type", "application/json"))


def _acceptable(content_type: str, expected: str) -> bool:
    message = email.message.Message()
    message["content-type"] = content_type
    given = message.get_content_type() if content_type else ""
    if expected in _FORM_TYPES:
        return given in _FORM_TYPES
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (subtype == "json" or subtype.endswith("+json"))


async def require_json_content_type(request: Request) -> None:
    """An app-wide dependency: a body must come in the type its route reads (415), rather than failing validation
    as if its fields were missing (422). A JSON body that does not parse stays 400."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or request.method in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return
    expected = _expected_media_type(route)
    has_body = request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers
    if expected and has_body and not _acceptable(request.headers.get("content-type", ""), expected):
        raise UnsupportedMediaType("form_expected" if expected in _FORM_TYPES else "unsupported_media_type")


class RateLimitPolicyMiddleware:
    """Sends ``RateLimit-Policy`` (IETF draft-ietf-httpapi-ratelimit-headers) on every answer of a throttled route,
    so that a client knows the quota before it hits it. ``policies``: (method, path) → header value; a path may
    hold ``{parameters}`` as the route declares them (``/coordinacion/{code}/inscribir``)."""

    def __init__(self, app: ASGIApp, policies: dict[tuple[str, str], str]) -> None:
        self.app = app
        self.policies = {key: value for key, value in policies.items() if "{" not in key[1]}
        self.templates = [(method, re.compile("^" + re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)) + "$"), value)
                          for (method, path), value in policies.items() if "{" in path]

    def _policy(self, method: str, path: str) -> str | None:
        exact = self.policies.get((method, path))
        if exact is not None:
            return exact
        return next((value for m, pattern, value in self.templates if m == method and pattern.match(path)), None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        policy = self._policy(scope.get("method", ""), scope.get("path", ""))
        if scope["type"] != "http" or policy is None:
            await self.app(scope, receive, send)
            return

        async def send_with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(name.lower() == b"ratelimit-policy" for name, _ in headers):
                    headers.append((b"ratelimit-policy", policy.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_policy)
