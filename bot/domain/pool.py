"""Rules of the sign-up pool."""

from __future__ import annotations


def roles_open(roles: str, *, room: int, has_mentor: bool) -> str:
    """The roles a pool member (signed up as ``roles``: "mentor", "mentee" or "both")
    can be matched in now: as a mentor while they have ``room`` (the capacity they
    offered, net of their open pairs as mentor), as a mentee while no open pair gives
    them a mentor. "" when neither."""
    mentor = roles in {"mentor", "both"} and room > 0
    mentee = roles in {"mentee", "both"} and not has_mentor
    if mentor and mentee:
        return "both"
    return "mentor" if mentor else "mentee" if mentee else ""
