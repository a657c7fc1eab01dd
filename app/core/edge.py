"""Bad bytes at the edge: NUL characters, lone surrogates, non-finite numbers and deep nesting are refused where
input enters, before any dependency or database sees them.

PostgreSQL refuses NUL in text and NaN/Infinity in JSON; a lone surrogate (``"\\ud800"`` is valid JSON) cannot
be encoded as UTF-8 for either database or for the answer; deep nesting exhausts the recursion of whatever
walks it next. ``refuse_bad_input`` is an application-wide dependency, so every route's path parameters,
query string, headers and the body FastAPI parsed for it pass through here first. Routes that read their own
body (the progress envelope) call ``find_bad_value`` themselves.
"""

import math
from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from app.core.errors import BadRequest, InvalidInput

MAX_DEPTH = 32  # our own inputs nest 3 or 4 levels; a quiz's answers 3
INVALID_TEXT, INVALID_NUMBER, TOO_DEEP = "invalid_text", "invalid_number", "too_deep"

Path = tuple[str | int, ...]


def is_bad_text(text: str) -> bool:
    """NUL, or a lone surrogate (only those fail to encode as UTF-8)."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def find_bad_value(value: Any, max_depth: int = MAX_DEPTH) -> tuple[Path, str] | None:
    """The first bad string, key or number in a parsed JSON value, as (path, rule); ``None`` when clean.

    Iterative, so that a value too deep for Python's recursion is reported rather than crashing the walk.
    """
    stack: list[tuple[Any, Path]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if is_bad_text(item):
                return path, INVALID_TEXT
        elif isinstance(item, float):
            if not math.isfinite(item):
                return path, INVALID_NUMBER
        elif isinstance(item, dict | list):
            if len(path) >= max_depth:
                return path, TOO_DEEP
            children: Iterable[tuple[Any, Any]] = item.items() if isinstance(item, dict) else enumerate(item)
            for key, child in reversed(list(children)):
                if isinstance(key, str) and is_bad_text(key):
                    return (*path, key), INVALID_TEXT
                stack.append((child, (*path, key)))
    return None


def field_name(path: Path) -> str:
    """A dotted name for the error body, itself safe to answer with (a bad character becomes U+FFFD)."""
    name = ".".join(str(part) for part in path) or "body"
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in name)


def _refuse_text(pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        if is_bad_text(name) or is_bad_text(value):
            raise InvalidInput(field_name((name,)), INVALID_TEXT)


def _is_json(content_type: str | None) -> bool:
    if content_type is None:
        return True  # FastAPI may be configured to read it as JSON
    media = content_type.split(";")[0].strip().lower()
    return media.startswith("application/") and (media.endswith("/json") or media.endswith("+json"))


def _is_form(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return media in ("application/x-www-form-urlencoded", "multipart/form-data")


async def _parsed_body(request: Request) -> Any:
    """The body as FastAPI parsed it for the route (Starlette caches it: this reads nothing twice)."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or route.body_field is None:
        return None  # no body, or a route that reads and checks its own
    content_type = request.headers.get("content-type")
    if _is_form(content_type):
        form = await request.form()
        _refuse_text((key, item.filename or "" if isinstance(item, UploadFile) else item)
                     for key, item in form.multi_items())
        return None
    if not _is_json(content_type) or not await request.body():
        return None
    try:
        return await request.json()
    except (ValueError, RecursionError):
        return None  # FastAPI has answered it already, or treats it as bytes that validation refuses


async def refuse_bad_input(request: Request) -> None:
    """422 ``invalid_input`` naming the field for bad text or numbers; 400 ``invalid_json`` for deep nesting."""
    _refuse_text(request.path_params.items())
    _refuse_text(request.query_params.multi_items())
    _refuse_text(request.headers.items())
    found = find_bad_value(await _parsed_body(request))
    if found is None:
        return
    path, rule = found
    if rule == TOO_DEEP:
        raise BadRequest("invalid_json")
    raise InvalidInput(field_name(path), rule)
