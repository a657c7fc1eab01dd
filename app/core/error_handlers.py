"""One set of handlers turns every error (domain errors, validation, Starlette's HTTP errors, a database that
is not there, anything unexpected) into the API's JSON shape (``app.core.errors.ErrorBody``)."""

import inspect
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import AppError, InvalidInput, NotEligible, ServiceUnavailable, Throttled, field_message, localised
from app.core.i18n import FIELD_MESSAGES, MESSAGES, REASONS, Locale, request_locale, translate, wait_text

logger = logging.getLogger("caminos.errors")


def _field_name(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def invalid_input_body(errors: list[dict[str, Any]], locale: Locale) -> dict[str, Any]:
    fields: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for err in errors:
        loc = tuple(err.get("loc", ()))
        # a tagged union reports the branch name as a path element; it tells the user nothing
        loc = tuple(p for p in loc if not (isinstance(p, str) and p.startswith("function-")))
        name = _field_name(loc)
        message = field_message(str(err.get("type")), locale)
        if (name, message) not in seen:
            seen.add((name, message))
            fields.append({"field": name, "message": message})
    return {"error": "invalid_input", "detail": translate("invalid_input", locale), "fields": fields}


def _app_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, AppError)
    locale = request_locale(request)
    if isinstance(exc, InvalidInput):
        body = {
            "error": "invalid_input",
            "detail": translate("invalid_input", locale),
            "fields": [{"field": exc.field, "message": field_message(
                exc.rule, locale, translate(exc.rule, locale) if exc.rule in MESSAGES else None)}],
        }
    else:
        code = getattr(exc, "specific_code", exc.code)
        detail = wait_text(exc.retry_after, locale) if isinstance(exc, Throttled) else translate(exc.message_key,
                                                                                                  locale)
        body = {"error": code, "detail": detail, **exc.extra}
        if isinstance(exc, NotEligible):
            body["reason_details"] = [
                {"field": r, "message": translate(r, locale, REASONS)} for r in exc.extra.get("reasons", [])
            ]
    return JSONResponse(body, status_code=exc.status_code, headers={**(exc.headers or {}), **localised(locale)})


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    locale = request_locale(request)
    errors = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(
            {"error": "invalid_json", "detail": translate("json_invalid", locale, FIELD_MESSAGES)},
            status_code=400, headers=localised(locale),
        )
    return JSONResponse(invalid_input_body(errors, locale), status_code=422, headers=localised(locale))


def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    locale = request_locale(request)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # FastAPI answers a body it cannot parse (not text, nested past the parser's recursion, an integer past
        # Python's digit limit) with a bare 400: it is not JSON we can read either
        return JSONResponse(
            {"error": "invalid_json", "detail": translate("json_invalid", locale, FIELD_MESSAGES)},
            status_code=400, headers=localised(locale),
        )
    codes = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated", 403: "forbidden",
             413: "payload_too_large", 415: "unsupported_media_type"}
    code = codes.get(exc.status_code, "bad_request")
    return JSONResponse(
        {"error": code, "detail": translate(code, locale)},
        status_code=exc.status_code,
        headers={**(getattr(exc, "headers", None) or {}), **localised(locale)},
    )


def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unhandled error", exc_info=exc)
    locale = request_locale(request)
    return JSONResponse({"error": "internal_error", "detail": translate("internal_error", locale)},
                        status_code=500, headers=localised(locale))


async def _database_unavailable(request: Request, exc: Exception) -> Any:
    """A database that refuses connections (too many clients, restarting), a full pool or a lock wait that ran
    out is not the caller's fault nor a bug of the request: 503 with a time to retry, not 500. Answered by the
    app's AppError handler as it is at request time, so pages that render their errors (the dashboard) do here too."""
    logger.error("database unavailable: %s", type(exc).__name__, exc_info=exc)
    unavailable = ServiceUnavailable("database_busy", headers={"Retry-After": "5"})
    answer = request.app.exception_handlers[AppError](request, unavailable)
    return await answer if inspect.isawaitable(answer) else answer


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, _app_error)
    for kind in (sa_exc.OperationalError, sa_exc.TimeoutError):
        app.add_exception_handler(kind, _database_unavailable)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected_error)
