"""Secrets at rest: bot tokens sealed with the operator's Fernet keys.

``MENTOR_ENCRYPTION_KEY`` holds one or more Fernet keys, comma-separated. The
first one encrypts; every one of them decrypts (``cryptography``'s MultiFernet),
so a key is rotated by putting the new key first and keeping the old one after
it until ``mentor-bot db reencrypt`` has re-encrypted every stored token.

A sealed value is stored as ``fernet:<token>``. A value without that prefix is
plaintext written before a key was set: it is still read, and sealed the next
time it is written or re-encrypted.
"""

from __future__ import annotations

import binascii
from collections.abc import Sequence
from typing import Any

# ``cryptography`` (about 7 MB resident) is imported when a key is used, not when this
# module is: a process without MENTOR_ENCRYPTION_KEY never loads it.

PREFIX = "fernet:"


class SealedTokenError(Exception):
    """A stored token cannot be read with the configured keys (the message says why,
    without the token)."""


def parse_keys(text: str | None) -> tuple[str, ...]:
    """The comma-separated keys of ``MENTOR_ENCRYPTION_KEY``; ValueError names the bad one
    by position, never by value."""
    keys = tuple(k.strip() for k in (text or "").split(",") if k.strip())
    if keys:
        from cryptography.fernet import Fernet
    for position, key in enumerate(keys, start=1):
        try:
            Fernet(key.encode())
        except (ValueError, binascii.Error):
            raise ValueError(
                f"key {position} of {len(keys)} is not a Fernet key (32 url-safe base64-encoded "
                "bytes, as `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'` prints)"
            ) from None
    return keys


class TokenCipher:
    """Seals and opens stored secrets with the operator's keys (first encrypts)."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ValueError("a TokenCipher needs at least one key")
        from cryptography.fernet import Fernet, MultiFernet

        self._fernet = MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])

    def seal(self, value: str | None) -> str | None:
        if value is None:
            return None
        return PREFIX + self._fernet.encrypt(value.encode()).decode()

    def open(self, stored: str | None) -> str | None:
        if stored is None or not stored.startswith(PREFIX):
            return stored
        try:
            return self._fernet.decrypt(stored[len(PREFIX) :].encode()).decode()
        except _invalid_token():
            raise SealedTokenError(
                "a stored bot token was encrypted with a key that is not in "
                "MENTOR_ENCRYPTION_KEY; add that key back (after the current one)"
            ) from None

    def reseal(self, stored: str | None) -> str | None:
        """``stored`` encrypted with the first key (plaintext is sealed too)."""
        if stored is None:
            return None
        if not stored.startswith(PREFIX):
            return self.seal(stored)
        try:
            return PREFIX + self._fernet.rotate(stored[len(PREFIX) :].encode()).decode()
        except _invalid_token():
            raise SealedTokenError(
                "a stored bot token was encrypted with a key that is not in "
                "MENTOR_ENCRYPTION_KEY; add that key back (after the current one)"
            ) from None


def _invalid_token() -> Any:
    from cryptography.fernet import InvalidToken

    return InvalidToken


def seal(cipher: TokenCipher | None, value: str | None) -> str | None:
    return value if cipher is None else cipher.seal(value)


def open_sealed(cipher: TokenCipher | None, stored: str | None) -> str | None:
    if cipher is not None:
        return cipher.open(stored)
    if stored is not None and stored.startswith(PREFIX):
        raise SealedTokenError(
            "the stored bot tokens are encrypted but MENTOR_ENCRYPTION_KEY is not set"
        )
    return stored


def cipher_for(keys: Sequence[str]) -> TokenCipher | None:
    return TokenCipher(keys) if keys else None
