"""Small validators shared by input schemas; their error codes have messages in ``i18n.FIELD_MESSAGES``."""

from pydantic_core import PydanticCustomError


def non_blank(value: str) -> str:
    """Collapse runs of whitespace; refuse a value that is only whitespace."""
    collapsed = " ".join(value.split())
    if not collapsed:
        raise PydanticCustomError("blank", "must not be blank")
    return collapsed
