"""Text as people type it."""

import unicodedata


def fold(text: str) -> str:
    """Lower case without accents or repeated spaces: how people type a name or a place on a phone."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


def alphanumerics(text: str) -> str:
    """A document number as typed with or without its dots, dashes and spaces."""
    return "".join(ch for ch in text if ch.isalnum()).lower()
