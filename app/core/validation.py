"""Small validators shared by input schemas; their error codes have messages in ``i18n.FIELD_MESSAGES``."""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    EmailStr,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)
from pydantic_core import PydanticCustomError


def non_blank(value: str) -> str:
    """Collapse runs of whitespace; refuse a value that is only whitespace."""
    collapsed = " ".join(value.split())
    if not collapsed:
        raise PydanticCustomError("blank", "must not be blank")
    return collapsed


def _email(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    # EmailStr reports a bad address as a generic "value_error"; report it as "email" so the message says so
    try:
        return handler(value)
    except ValidationError as exc:
        if any(e["type"] == "value_error" for e in exc.errors()):
            raise PydanticCustomError("email", "not a valid email address") from exc
        raise


Email = Annotated[EmailStr, WrapValidator(_email)]
# why something was done (a withdrawal, an erasure, a revocation): written by a person, kept in the record
Reason = Annotated[str, Field(min_length=1, max_length=1000), AfterValidator(non_blank)]


def _not_a_number(error_type: str) -> Callable[[Any], Any]:
    """Pydantic reads a number, or text that parses as one, as a Unix timestamp (``0`` is 1970-01-01);
    the API documents ISO 8601 text only."""

    def check(value: Any) -> Any:
        if isinstance(value, bool | int | float):
            raise PydanticCustomError(error_type, "ISO 8601 text, not a number")
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return value
            raise PydanticCustomError(error_type, "ISO 8601 text, not a number")
        return value

    return check


IsoDate = Annotated[date, BeforeValidator(_not_a_number("date_type"))]
IsoAwareDatetime = Annotated[AwareDatetime, BeforeValidator(_not_a_number("datetime_parsing"))]
