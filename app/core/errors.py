"""Domain errors carry their HTTP status, and every error answer has one shape (``ErrorBody``). The handlers that
answer with it are in ``app.core.error_handlers``: services raise these errors without importing FastAPI."""

import enum
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel
from sqlalchemy.orm import Session

from app.core.i18n import FIELD_MESSAGES, Locale, translate


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


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error statuses a route can answer."""
    descriptions = {
        400: "Solicitud mal formada", 401: "No autenticada", 403: "Sin permiso", 404: "No encontrado",
        409: "Conflicto", 413: "Demasiado grande", 415: "El cuerpo no es JSON", 416: "Rango no disponible",
        422: "Datos no válidos", 429: "Demasiados intentos", 503: "No disponible",
    }
    return {s: {"model": ErrorBody, "description": descriptions[s]} for s in statuses}
