"""Bad bytes at the edge: NUL characters, lone surrogates, non-finite numbers and deep nesting (the checks of
``app.core.bad_input``) are refused where input enters, before any dependency or database sees them.

``refuse_bad_input`` is an application-wide dependency, so every route's path parameters, query string, headers
and the body FastAPI parsed for it pass through here first. Routes that read their own body (the progress
envelope) call ``find_bad_value`` themselves.
"""

from collections.abc import Iterable
from typing import Any

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.datastructures import UploadFile

from app.core.bad_input import INVALID_TEXT, TOO_DEEP, field_name, find_bad_value, is_bad_text
from app.core.errors import BadRequest, InvalidInput


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
