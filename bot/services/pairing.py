"""Invitations, acceptance, and the life of a pair."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot.domain.errors import Conflict, NotFound, UserError
from bot.domain.permissions import require_invitee, require_member
from bot.store import repo
from bot.store.models import Pair


@dataclass(frozen=True)
class Invitee:
    """What Slack told us about the person being invited (users.info)."""

    user_id: str
    name: str
    tz: str
    is_bot: bool
    deleted: bool


def refuse_self(*, inviter_id: str, invitee_id: str) -> None:
    if invitee_id == inviter_id:
        raise UserError(
            "You can't pair with yourself. Mention the colleague you'd like to mentor "
            "or learn from, e.g. `/mentor start @alex`."
        )


def check_invitee(*, inviter_id: str, invitee: Invitee) -> None:
    refuse_self(inviter_id=inviter_id, invitee_id=invitee.user_id)
    # A mention, not the display name: Slack renders the name, and a name is text its
    # owner typed, which would otherwise have to be escaped for mrkdwn.
    who = f"<@{invitee.user_id}>"
    if invitee.is_bot:
        raise UserError(f"{who} is a bot, and bots make quiet mentors. Mention a person instead.")
    if invitee.deleted:
        raise UserError(
            f"{who}'s account is deactivated, so they can't join a pairing. "
            "Mention someone with an active account."
        )


# After a "no", the same person may not be asked again for this long: an
# invitation is a DM with buttons, and repeating it would be pestering.
DECLINE_COOLDOWN = timedelta(days=30)


def check_invitation_cooldown(*, declined_at: datetime, now: datetime, invitee_id: str) -> None:
    again = declined_at + DECLINE_COOLDOWN
    if now < again:
        raise Conflict(
            f"<@{invitee_id}> declined your invitation on "
            f"<!date^{int(declined_at.timestamp())}^{{date_long}}|{declined_at:%d %B %Y}>, "
            "so I won't ask them again for now. You can invite them again from "
            f"<!date^{int(again.timestamp())}^{{date_long}}|{again:%d %B %Y}>, or ask a "
            "coordinator to match you with someone from the pool."
        )


def invite(
    session: Session,
    *,
    team_id: str,
    inviter_id: str,
    invitee: Invitee,
    inviter_role: str,
    inviter_tz: str | None,
    now: datetime,
) -> Pair:
    check_invitee(inviter_id=inviter_id, invitee=invitee)
    existing = repo.open_pair_between(session, team_id=team_id, a=inviter_id, b=invitee.user_id)
    if existing is not None:
        state = "an invitation waiting" if existing.status == "invited" else "a pairing"
        raise Conflict(
            f"You already have {state} with <@{invitee.user_id}>. "
            "See `/mentor status` for where it stands."
        )
    declined = repo.last_declined(
        session, team_id=team_id, inviter_id=inviter_id, invitee_id=invitee.user_id
    )
    if declined is not None:
        check_invitation_cooldown(declined_at=declined, now=now, invitee_id=invitee.user_id)
    repo.ensure_person(session, team_id=team_id, user_id=inviter_id, tz=inviter_tz, checked_at=now)
    repo.ensure_person(
        session,
        team_id=team_id,
        user_id=invitee.user_id,
        tz=invitee.tz,
        display_name=invitee.name,
        checked_at=now,
    )
    mentor, mentee = (
        (inviter_id, invitee.user_id) if inviter_role == "mentor" else (invitee.user_id, inviter_id)
    )
    pair = Pair(
        team_id=team_id,
        mentor_id=mentor,
        mentee_id=mentee,
        inviter_id=inviter_id,
        status="invited",
        created_at=now,
    )
    session.add(pair)
    session.flush()
    return pair


def record_invitation_message(
    session: Session, *, team_id: str, pair_id: int, channel_id: str, ts: str
) -> None:
    pair = _pair(session, team_id=team_id, pair_id=pair_id)
    pair.invite_channel_id = channel_id
    pair.invite_ts = ts


def withdraw_invitation(session: Session, *, team_id: str, pair_id: int) -> None:
    """The invitation DM could not be delivered; leave no half-made pairing behind."""
    pair = _pair(session, team_id=team_id, pair_id=pair_id)
    if pair.status == "invited":
        session.delete(pair)


def answer_invitation(
    session: Session, *, team_id: str, pair_id: int, user_id: str, accept: bool, now: datetime
) -> Pair:
    pair = _pair(session, team_id=team_id, pair_id=pair_id, lock=True)
    invitee_id = pair.partner_of(pair.inviter_id)
    require_invitee(user_id, invitee_id)
    if pair.status != "invited":
        raise Conflict(f"You already answered this invitation (it is {_describe(pair.status)}).")
    if accept:
        pair.status = "active"
        pair.accepted_at = now
        start_tips_for(session, team_id=team_id, user_ids=pair.members, now=now)
    else:
        pair.status = "declined"
        pair.ended_at = now
    return pair


def set_pair_channel(session: Session, *, team_id: str, pair_id: int, channel_id: str) -> None:
    _pair(session, team_id=team_id, pair_id=pair_id).channel_id = channel_id


def member_pair(
    session: Session, *, team_id: str, pair_id: int, user_id: str, active: bool = True
) -> Pair:
    pair = _pair(session, team_id=team_id, pair_id=pair_id)
    require_member(user_id, pair.members)
    if active and pair.status != "active":
        raise Conflict(f"That pairing is {_describe(pair.status)}, so there's nothing to do here.")
    return pair


def _pair(session: Session, *, team_id: str, pair_id: int, lock: bool = False) -> Pair:
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id, lock=lock)
    if pair is None:
        raise NotFound("I can't find that pairing any more. Try `/mentor status`.")
    return pair


def _describe(status: str) -> str:
    return {
        "invited": "still waiting for an answer",
        "active": "active",
        "declined": "declined",
        "ended": "ended",
    }.get(status, status)


def start_tips_for(
    session: Session, *, team_id: str, user_ids: Sequence[str], now: datetime
) -> None:
    """A pair became active: its members' tips start with the next tip time."""
    for user_id in user_ids:
        person = repo.ensure_person(session, team_id=team_id, user_id=user_id)
        if person.tips_enabled and person.tips_planned_until is None:
            person.tips_planned_until = now
