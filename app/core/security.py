"""Password hashing (argon2id), opaque tokens and one-time codes."""

import hashlib
import secrets
from functools import lru_cache

from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from app.core.config import Settings

# Crockford-like alphabet without look-alike characters, read aloud over a phone
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


@lru_cache
def password_hasher(time_cost: int, memory_kib: int, parallelism: int) -> PasswordHash:
    return PasswordHash((Argon2Hasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism),))


def _hasher(settings: Settings) -> PasswordHash:
    return password_hasher(settings.password_time_cost, settings.password_memory_kib,
                           settings.password_parallelism)


def hash_password(settings: Settings, password: str) -> str:
    return _hasher(settings).hash(password)


def verify_password(settings: Settings, password: str, password_hash: str | None) -> bool:
    """Constant work whether or not the account exists: an unknown user is checked against a dummy hash."""
    hasher = _hasher(settings)
    if password_hash is None:
        hasher.verify(password, _dummy_hash(settings.password_time_cost, settings.password_memory_kib,
                                            settings.password_parallelism))
        return False
    try:
        return hasher.verify(password, password_hash)
    except Exception:  # a malformed stored hash is a failed login, not a 500
        return False


@lru_cache
def _dummy_hash(time_cost: int, memory_kib: int, parallelism: int) -> str:
    return password_hasher(time_cost, memory_kib, parallelism).hash(secrets.token_hex(16))


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Tokens and codes are stored only as their SHA-256: a database leak yields no usable credential."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_activation_code() -> str:
    # 12 characters of a 31-letter alphabet: ~59 bits, ample for a 14-day code behind throttling
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())
