"""Domain errors carry their HTTP status; one set of handlers turns every error into the API's JSON shape."""

import enum
import inspect
import logging
from collections.abc import Callable
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.i18n import FIELD_MESSAGES, MESSAGES, REASONS, Locale, request_locale, translate, wait_text

logger = logging.getLogger("caminos.errors")


class ErrorCode(enum.StrEnum):
    """Every value of an error body's ``error``: clients switch on these, so they are an enum in the schema
    (tests/test_openapi.py checks that every code raised in app/ is listed)."""

    BAD_REQUEST = "bad_request"
    INVALID_JSON = "invalid_json"
    EVENTS_LIST_REQUIRED = "events_list_required"
    INVALID_DEVICE_ID = "invalid_device_id"
    INVALID_QUERY_STRING = "invalid_query_string"
    INVALID_ACTIVATION_CODE = "invalid_activation_code"
    NOT_AUTHENTICATED = "not_authenticated"
    INVALID_CREDENTIALS = "invalid_credentials"
    WRONG_PASSWORD = "wrong_password"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    CONFLICT = "conflict"
    EMAIL_TAKEN = "email_taken"
    DUPLICATE_APPLICATION = "duplicate_application"
    ALREADY_WITHDRAWN = "already_withdrawn"
    INVALID_TRANSITION = "invalid_transition"
    NOT_PROMOTED = "not_promoted"
    NOT_A_SPREADSHEET = "not_a_spreadsheet"
    FILE_TOO_LARGE = "file_too_large"
    CAPACITY_BELOW_ENROLLED = "capacity_below_enrolled"
    LAST_ADMIN = "last_admin"
    PROGRESS_OF_ANOTHER_PERSON = "progress_of_another_person"
    INVALID_USERNAME = "invalid_username"
    RANGE_NOT_SATISFIABLE = "range_not_satisfiable"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    IDEMPOTENCY_IN_PROGRESS = "idempotency_in_progress"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    NOT_ELIGIBLE = "not_eligible"
    NOT_COMPLETE = "not_complete"
    CERTIFICATE_NOT_ISSUED = "certificate_not_issued"
    INVALID_INPUT = "invalid_input"
    THROTTLED = "throttled"
    INTERNAL_ERROR = "internal_error"
    UNAVAILABLE = "unavailable"


def localised(locale: Locale) -> dict[str, str]:
    """Headers of an answer whose text depends on ``Accept-Language``."""
    return {"Content-Language": locale, "Vary": "Accept-Language"}


class AppError(Exception):
    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message_key: str | None = None, *, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        self.message_key = message_key or self.code
        self.headers = headers
        self.extra = extra
        # written after the request's rollback, in a transaction of its own: the audit of a refusal
        self.trace: Callable[[Session], None] | None = None
        super().__init__(self.message_key)


class BadRequest(AppError):
    status_code, code = 400, "bad_request"

    def __init__(self, code: str = "bad_request", **extra: Any) -> None:
        super().__init__(code, **extra)
        self.specific_code = code


class NotAuthenticated(AppError):
    status_code, code = 401, "not_authenticated"

    def __init__(self, message_key: str | None = None, **extra: Any) -> None:
        super().__init__(message_key, headers={"WWW-Authenticate": "Bearer"}, **extra)


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class Forbidden(AppError):
    status_code, code = 403, "forbidden"


class NotFound(AppError):
    status_code, code = 404, "not_found"


class Conflict(AppError):
    status_code, code = 409, "conflict"

    def __init__(self, code: str, **extra: Any) -> None:
        super().__init__(code, **extra)
        self.specific_code = code


class PayloadTooLarge(AppError):
    status_code, code = 413, "payload_too_large"


class RangeNotSatisfiable(AppError):
    """416: the requested byte range starts past the end of the file, whose size the header tells."""

    status_code, code = 416, "range_not_satisfiable"

    def __init__(self, size: int) -> None:
        super().__init__(headers={"Content-Range": f"bytes */{size}"})


class UnsupportedMediaType(AppError):
    status_code, code = 415, "unsupported_media_type"


class NotEligible(AppError):
    status_code, code = 422, "not_eligible"


class InvalidInput(AppError):
    """422 with the same shape as a schema validation error, for rules checked by services."""

    status_code, code = 422, "invalid_input"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__("invalid_input")
        self.field, self.rule = field, rule


class Throttled(AppError):
    """429 saying how long to wait, with ``Retry-After`` and the IETF ``RateLimit`` headers
    (draft-ietf-httpapi-ratelimit-headers: ``RateLimit-Policy: "login";q=5;w=900``, ``RateLimit: "login";r=0;t=840``).
    """

    status_code, code = 429, "throttled"

    def __init__(self, retry_after_seconds: int, *, limit: int | None = None, window_seconds: int | None = None,
                 policy: str = "default") -> None:
        self.retry_after = max(1, int(retry_after_seconds))
        headers = {"Retry-After": str(self.retry_after), "RateLimit": f'"{policy}";r=0;t={self.retry_after}'}
        if limit is not None and window_seconds is not None:
            headers["RateLimit-Policy"] = f'"{policy}";q={limit};w={window_seconds}'
        super().__init__("throttled", headers=headers)


class ServiceUnavailable(AppError):
    status_code, code = 503, "unavailable"


class FieldError(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer: a stable code, a localised text, and per-code extras."""

    error: ErrorCode
    detail: str
    fields: list[FieldError] | None = None
    reasons: list[str] | None = None
    reason_details: list[FieldError] | None = None


def field_message(rule: str, locale: Locale, fallback: str | None = None) -> str:
    if rule in FIELD_MESSAGES:
        return translate(rule, locale, FIELD_MESSAGES)
    return fallback or translate("value_error", locale, FIELD_MESSAGES)


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


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer."""
    descriptions = {
        400: "Solicitud mal formada", 401: "No autenticada", 403: "Sin permiso", 404: "No encontrado",
        409: "Conflicto", 413: "Demasiado grande", 415: "El cuerpo no es JSON", 416: "Rango no disponible",
        422: "Datos no válidos", 429: "Demasiados intentos", 503: "No disponible",
    }
    return {s: {"model": ErrorBody, "description": descriptions[s]} for s in statuses}
