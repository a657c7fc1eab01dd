"""W3C Bitstring Status List v1.0: the bits of a list as its ``encodedList``.

Bit 0 is the left-most (most significant) bit of the first byte; the bitstring is GZIP-compressed and written in
base64url without padding, with the multibase prefix ``u``. 131,072 zero bits compress to about 160 bytes.
"""

import base64
import gzip
from collections.abc import Iterable


def encode(size: int, set_bits: Iterable[int]) -> str:
    bits = bytearray(size // 8)
    for index in set_bits:
        bits[index // 8] |= 0x80 >> (index % 8)
    # mtime=0: the same bits give the same text, whatever the hour
    compressed = gzip.compress(bytes(bits), mtime=0)
    return "u" + base64.urlsafe_b64encode(compressed).rstrip(b"=").decode("ascii")


def decode(encoded: str) -> bytes:
    """The bitstring of an ``encodedList`` (what a verifier does; the tests do it too)."""
    if not encoded.startswith("u"):
        raise ValueError("an encodedList starts with the multibase prefix 'u' (base64url)")
    text = encoded[1:]
    return gzip.decompress(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def is_set(bitstring: bytes, index: int) -> bool:
    return bool(bitstring[index // 8] & (0x80 >> (index % 8)))
