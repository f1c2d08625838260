"""How long an invitation stands, and what the two people read when it lapsed.

An invitation left unanswered for ``INVITATION_LASTS`` expires: its buttons no longer
pair the two (an Accept months later would start a pairing its inviter has long given
up on), and either of them may invite the other afresh.
"""

from __future__ import annotations

from datetime import datetime, timedelta

INVITATION_LASTS = timedelta(days=30)


def invitation_expired(*, asked_at: datetime, now: datetime) -> bool:
    return now >= asked_at + INVITATION_LASTS


def long_day(when: datetime) -> str:
    """A day as Slack shows it in each reader's own time zone (UTC as the fallback)."""
    return f"<!date^{int(when.timestamp())}^{{date_long}}|{when:%d %B %Y}>"


def expired_for_invitee(*, inviter_id: str, invitee_role: str, asked_at: datetime) -> str:
    """The invitee's side: when it was sent, and how to ask afresh in the same roles
    (``as mentee`` makes the caller the mentee)."""
    return (
        f"This invitation from <@{inviter_id}> expired unanswered: it was sent on "
        f"{long_day(asked_at)}, and invitations last {INVITATION_LASTS.days} days. If "
        "you'd still like to pair, invite them yourself: type `/mentor start`, mention "
        f"them and add `as {invitee_role}`."
    )


def expired_for_inviter(*, invitee_id: str, asked_at: datetime) -> str:
    """The inviter's side, told once when it expires."""
    return (
        f"Your mentoring invitation to <@{invitee_id}>, sent on {long_day(asked_at)}, "
        f"expired without an answer (invitations last {INVITATION_LASTS.days} days). You "
        "can invite them again with `/mentor start`."
    )
