"""The stand-in that a forgotten person's kept rows carry instead of their user ID."""

from __future__ import annotations

import uuid

TOMBSTONE_PREFIX = "ANON-"


def new_tombstone() -> str:
    """A random anonymous stand-in for a user ID; unrelated to the ID it replaces."""
    return f"{TOMBSTONE_PREFIX}{uuid.uuid4().hex[:10]}"


def is_forgotten(user_id: str) -> bool:
    """Whether ``user_id`` is a tombstone: someone who used ``/mentor forget-me``, whom
    nothing links to it any more (not even they themselves, viewing figures later)."""
    return user_id.startswith(TOMBSTONE_PREFIX)
