"""Who may act on what."""

from __future__ import annotations

from bot.domain.errors import NotAllowed


def require_member(user_id: str, members: tuple[str, str]) -> None:
    if user_id not in members:
        raise NotAllowed("That belongs to a pairing you're not part of, so I left it as it was.")


def require_invitee(user_id: str, invitee_id: str) -> None:
    if user_id != invitee_id:
        raise NotAllowed("Only the person who was invited can answer this invitation.")


def is_coordinator(
    user_id: str, *, admins: frozenset[str], slack_admin: bool, member: bool
) -> bool:
    """In MENTOR_ADMINS or a Slack admin/owner -- and in either case a member of
    the workspace asked about: one listed ID is not a coordinator of every
    workspace the app is installed in, nor of one it visits through Slack Connect."""
    return member and (user_id in admins or slack_admin)
