"""What counts as bad input: NUL characters, lone surrogates, non-finite numbers and deep nesting.

PostgreSQL refuses NUL in text and NaN/Infinity in JSON; a lone surrogate (``"\\ud800"`` is valid JSON) cannot
be encoded as UTF-8 for either database or for the answer; deep nesting exhausts the recursion of whatever
walks it next. Plain checks on values: the request dependency that applies them to every route is
``app.core.edge.refuse_bad_input``, and code that reads input of its own (the progress envelope, a spreadsheet
import) calls them itself.
"""

import math
from collections.abc import Iterable
from typing import Any

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
