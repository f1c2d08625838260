"""The sign-up pool's rule: the roles a member can be matched in now."""

from __future__ import annotations

import pytest

from bot.domain.pool import roles_open


@pytest.mark.parametrize(
    ("roles", "room", "has_mentor", "open_roles"),
    [
        ("mentor", 1, False, "mentor"),
        ("mentor", 0, False, ""),
        ("mentee", 2, False, "mentee"),
        ("mentee", 2, True, ""),
        ("both", 1, False, "both"),
        ("both", 0, False, "mentee"),
        ("both", 1, True, "mentor"),
        ("both", 0, True, ""),
    ],
)
def test_the_roles_a_pool_member_can_be_matched_in_now(
    roles: str, room: int, has_mentor: bool, open_roles: str
) -> None:
    assert roles_open(roles, room=room, has_mentor=has_mentor) == open_roles
