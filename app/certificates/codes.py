"""Verification codes: 100 random bits from ``secrets`` in Crockford base 32, printed in groups of four.

Crockford's alphabet leaves out I, L, O and U, so a code read aloud or typed from paper survives the usual
confusions: reading accepts any case, with or without dashes and spaces, and takes O for 0 and I or L for 1.
"""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BITS = 100
LENGTH = BITS // 5  # 20 characters
GROUP = 4
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
_VALID = frozenset(ALPHABET)


def new_code() -> str:
    """A fresh code, normalised (20 characters, no dashes): what the database stores."""
    number = secrets.randbits(BITS)
    return "".join(ALPHABET[(number >> (5 * i)) & 31] for i in reversed(range(LENGTH)))


def formatted(code: str) -> str:
    """``XXXX-XXXX-XXXX-XXXX-XXXX``: what the PDF, the page and the URL show."""
    return "-".join(code[i:i + GROUP] for i in range(0, len(code), GROUP))


def normalise(text: str) -> str | None:
    """The stored form of what someone typed, or None if it cannot be a code (then nothing is looked up)."""
    if len(text) > 64:
        return None
    cleaned = "".join(ch for ch in text.upper() if ch not in "- ").translate(_CONFUSABLE)
    if len(cleaned) != LENGTH or not set(cleaned) <= _VALID:
        return None
    return cleaned
