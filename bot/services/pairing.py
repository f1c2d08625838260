"""Invitations, acceptance, and the life of a pair.

Each use case is one transaction that writes its state change together with the
outbox rows of every message it causes (``bot.outgoing``). Nothing half-made is
ever committed: an invitation is a pair ``invited`` plus its ``invitation`` row,
whose delivery asks Slack about the invitee and withdraws the pair if they
cannot be invited; an accepted pair is ``active`` with no ``channel_id`` plus its
``kickoff`` row, whose delivery opens the group DM and records it. Messages for
the group DM wait for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from bot import outgoing
from bot.domain.errors import Conflict, NotFound, UserError
from bot.domain.invitations import (
    INVITATION_LASTS,
    expired_for_invitee,
    expired_for_inviter,
    invitation_expired,
    long_day,
)
from bot.domain.permissions import require_invitee, require_member
from bot.services import calendar
from bot.services.tips import start_tips, stop_tips_unless_paired
from bot.store import outbox, repo
from bot.store import pool as pool_store
from bot.store.models import Meeting, Pair
from bot.store.outbox import PlannedMessage


@dataclass(frozen=True)
class Invitee:
    """What Slack told us about the person being invited (users.info)."""

    user_id: str
    name: str
    tz: str
    is_bot: bool
    deleted: bool


# Re-invitations after withdrawing: how many withdrawals in how long stop another.
WITHDRAWALS_A_DAY = 2
WITHDRAWN_FOR = timedelta(days=1)


def refuse_self(*, inviter_id: str, invitee_id: str) -> None:
    if invitee_id == inviter_id:
        raise UserError(
            "You can't pair with yourself. Mention the colleague you'd like to mentor "
            "or learn from, e.g. `/mentor start @alex`."
        )


def unknown_invitee(invitee_id: str) -> str:
    """What the inviter is told when Slack does not know the person (user_not_found)."""
    return (
        f"I couldn't find <@{invitee_id}> in this workspace. Pick the person from the "
        "@-mention list, e.g. `/mentor start @alex`."
    )


def _bot_invitee(who: str) -> str:
    return f"{who} is a bot, and bots make quiet mentors. Mention a person instead."


def _deactivated_invitee(who: str) -> str:
    return (
        f"{who}'s account is deactivated, so they can't join a pairing. "
        "Mention someone with an active account."
    )


def check_invitee(*, inviter_id: str, invitee: Invitee) -> None:
    refuse_self(inviter_id=inviter_id, invitee_id=invitee.user_id)
    # A mention, not the display name: Slack renders the name, and a name is text its
    # owner typed, which would otherwise have to be escaped for mrkdwn.
    who = f"<@{invitee.user_id}>"
    if invitee.is_bot:
        raise UserError(_bot_invitee(who))
    if invitee.deleted:
        raise UserError(_deactivated_invitee(who))


def undeliverable_invitation(invitee_id: str, error: str, *, checked: bool) -> str:
    """What the inviter is told when Slack refused the invitation DM itself. When the
    invitee was not ``checked`` first (users.info was at its rate limit), the same
    words as that check (``check_invitee``) where Slack's error says which case it is."""
    who = f"<@{invitee_id}>"
    if not checked:
        if error == "cannot_dm_bot":
            return _bot_invitee(who)
        if error == "user_disabled":
            return _deactivated_invitee(who)
        if error in ("user_not_found", "channel_not_found"):
            return unknown_invitee(invitee_id)
    return f"I couldn't send {who} a direct message ({error}), so the invitation was withdrawn."


# After a "no", the same person may not be asked again for this long: an
# invitation is a DM with buttons, and repeating it would be pestering.
DECLINE_COOLDOWN = timedelta(days=30)


def check_invitation_cooldown(*, declined_at: datetime, now: datetime, invitee_id: str) -> None:
    again = declined_at + DECLINE_COOLDOWN
    if now < again:
        raise Conflict(
            f"<@{invitee_id}> declined your invitation on {long_day(declined_at)}, "
            "so I won't ask them again for now. You can invite them again from "
            f"{long_day(again)}, or ask a coordinator to match you with someone from "
            "the pool."
        )


def invite(
    session: Session,
    *,
    team_id: str,
    inviter_id: str,
    invitee_id: str,
    inviter_role: str,
    now: datetime,
    response_url: str | None = None,
) -> int:
    """``/mentor start``: everything the database can tell is checked here, before the
    ack; what only Slack knows (is the invitee a person, still active?) is checked by
    the invitation's delivery, which withdraws the pair if not. The new pair's id."""
    refuse_self(inviter_id=inviter_id, invitee_id=invitee_id)
    between = repo.between(session, team_id=team_id, a=inviter_id, b=invitee_id)
    if (
        between.open_status == "invited"
        and between.open_pair_id is not None
        and between.open_since is not None
        and invitation_expired(asked_at=between.open_since, now=now)
    ):
        # Not yet closed by the care pass: closed now, and this invitation replaces it
        # (its inviter is told, unless it is the one inviting again).
        expire_invitation(
            session,
            team_id=team_id,
            pair_id=between.open_pair_id,
            now=now,
            tell_inviter=between.open_inviter != inviter_id,
        )
    elif between.open_status is not None:
        state = "an invitation waiting" if between.open_status == "invited" else "a pairing"
        if between.open_status != "invited":
            where = "See `/mentor status` for where it stands."
        elif between.open_inviter == inviter_id:
            # A mention inside `code` shows as raw markup in Slack: it stays outside.
            where = f"To withdraw it, type `/mentor end` and mention <@{invitee_id}>."
        else:
            where = "They invited you: press Accept or Decline in our DM or on App Home."
        raise Conflict(f"You already have {state} with <@{invitee_id}>. {where}")
    declined = between.declined_at.get(inviter_id)
    if declined is not None:
        check_invitation_cooldown(declined_at=declined, now=now, invitee_id=invitee_id)
    taken_back = [
        when for who, when in between.withdrawn if who == inviter_id and when > now - WITHDRAWN_FOR
    ]
    if len(taken_back) >= WITHDRAWALS_A_DAY:
        # Invite, withdraw, invite again: each one a new DM with buttons to someone who
        # has not answered. A mistake is mended once a day; more waits for tomorrow.
        raise Conflict(
            f"You have withdrawn {len(taken_back)} invitations to <@{invitee_id}> today. "
            "Invite them again tomorrow."
        )
    # The inviter's time zone is asked of Slack with the invitee's (the delivery skips
    # it when the bot has met them lately).
    return create_pair(
        session,
        team_id=team_id,
        inviter_id=inviter_id,
        invitee_id=invitee_id,
        inviter_role=inviter_role,
        now=now,
        response_url=response_url,
        look_up=[invitee_id, inviter_id],
    )


def create_pair(
    session: Session,
    *,
    team_id: str,
    inviter_id: str,
    invitee_id: str,
    inviter_role: str,
    now: datetime,
    response_url: str | None = None,
    tell: str | None = None,
    look_up: list[str] | None = None,
    matched: bool = False,
) -> int:
    """The one way a pair comes to be: ``invited``, with the invitation to the invitee
    planned in the same transaction (``/mentor start`` and approved matches alike).
    The new pair's id."""
    mentor_id, mentee_id = (
        (inviter_id, invitee_id) if inviter_role == "mentor" else (invitee_id, inviter_id)
    )
    pair_id = repo.add_pair(
        session,
        team_id=team_id,
        mentor_id=mentor_id,
        mentee_id=mentee_id,
        inviter_id=inviter_id,
        status="invited",
        created_at=now,
    )
    outbox.plan(
        session,
        [
            outgoing.invitation(
                team_id=team_id,
                pair_id=pair_id,
                inviter_id=inviter_id,
                invitee_id=invitee_id,
                inviter_role=inviter_role,
                now=now,
                response_url=response_url,
                tell=tell,
                look_up=look_up if look_up is not None else [invitee_id],
                matched=matched,
            )
        ],
        now=now,
    )
    return pair_id


def invitation_wanted(session: Session | Connection, *, team_id: str, pair_id: int) -> bool:
    """Send-time guard: an invitation answered (from App Home) or withdrawn meanwhile
    is not sent."""
    return repo.pair_status(session, team_id=team_id, pair_id=pair_id) == "invited"


def invitation_delivered(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    channel_id: str,
    ts: str,
    zones: dict[str, tuple[str, str]],
    confirmation: tuple[str, str, str] | None,
    now: datetime,
    check_at: datetime | None = None,
    tell: str | None = None,
    matched: bool = False,
) -> None:
    """Settle step of a delivered invitation: where it is (answering it updates it in
    place), the people as Slack described them (``zones``: user -> (tz, name)), and
    the inviter's confirmation (``(user, response_url, text)``) planned. With
    ``check_at`` (it went without asking Slack about the invitee first), the check that
    follows, and ``tell`` is whom it tells if the invitee cannot be invited."""
    members = repo.set_invitation_place(
        session, team_id=team_id, pair_id=pair_id, channel_id=channel_id, ts=ts
    )
    if members is None:
        return
    inviter_id, invitee_id = members
    record_people(session, team_id=team_id, zones=zones, now=now)
    planned = []
    if confirmation is not None:
        user_id, url, text = confirmation
        planned.append(
            outgoing.respond(team_id=team_id, user_id=user_id, response_url=url, text=text, now=now)
        )
    if check_at is not None:
        planned.append(
            outgoing.invitee_check(
                team_id=team_id,
                pair_id=pair_id,
                inviter_id=inviter_id,
                invitee_id=invitee_id,
                tell=tell or inviter_id,
                due_at=check_at,
                matched=matched,
            )
        )
    outbox.plan(session, planned, now=now)


def record_people(
    session: Session, *, team_id: str, zones: dict[str, tuple[str, str]], now: datetime
) -> None:
    """People as Slack described them just now (``zones``: user -> (tz, name))."""
    if zones:
        repo.record_people(session, team_id=team_id, people=zones, now=now)


def withdraw_invitation(session: Session, *, team_id: str, pair_id: int) -> None:
    """The invitee cannot be invited (unknown, a bot, deactivated, no DMs): the pair is
    deleted, and with it its outbox rows, as if it had never been asked for."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id, lock=True)
    if pair is not None and pair.status == "invited":
        outbox.cancel_pending(session, team_id=team_id, pair_id=pair_id)
        repo.delete_pair(session, pair)


def refusal_reason(refusal: str) -> str:
    """Why an invitee could not be invited, in a few words (``check_invitee`` and
    ``undeliverable_invitation`` say it to an inviter, with advice for `/mentor start`)."""
    for words, reason in (
        (" is a bot", "a bot, not a person"),
        ("deactivated", "their account is deactivated"),
        ("couldn't find", "not in this workspace"),
    ):
        if words in refusal:
            return reason
    return "they can't get direct messages from me"


def withdraw_match(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    tell: str | None,
    refusal: str,
    now: datetime,
) -> None:
    """A coordinators' match whose invitee cannot be invited (a bot, deactivated, not
    in the workspace, no DMs): withdrawn like any invitation, and the invitee taken out
    of the pool (each round would propose them again). The mentor, told a match was
    made and an answer would follow, hears it will not; the coordinator who approved
    it (``tell``, None from the command line) hears why. Both by DM."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id, lock=True)
    if pair is None or pair.status != "invited":
        return
    mentor_id, invitee_id = pair.inviter_id, pair.partner_of(pair.inviter_id)
    withdraw_invitation(session, team_id=team_id, pair_id=pair_id)
    pool_store.delete_member(session, team_id=team_id, user_id=invitee_id)
    why = refusal_reason(refusal)
    # The coordinator who approved it may be the mentor: then one note, with the why.
    their_own = f" ({why}; they have left the pool)" if tell == mentor_id else ""
    planned = [
        outgoing.notice(
            team_id=team_id,
            user_id=mentor_id,
            text=f"The coordinators' match with <@{invitee_id}> can't go ahead: I couldn't "
            f"send them the invitation{their_own}. You stay in the pool, and the next round "
            "looks for someone else for you.",
            now=now,
        )
    ]
    if tell is not None and tell != mentor_id:
        planned.append(
            outgoing.notice(
                team_id=team_id,
                user_id=tell,
                text=f"A match you approved, <@{mentor_id}> with <@{invitee_id}>, can't go "
                f"ahead: Slack wouldn't let me send <@{invitee_id}> the invitation "
                f"({why}). The match is withdrawn and <@{invitee_id}> "
                f"has left the pool; <@{mentor_id}> has been told and stays in it.",
                now=now,
            )
        )
    outbox.plan(session, planned, now=now)


def withdraw_sent_invitation(
    session: Session, *, team_id: str, inviter_id: str, invitee_id: str | None, now: datetime
) -> str | None:
    """``/mentor end [@person]`` by someone whose invitation to that person is still
    unanswered (without a name: their only one, when they have no active pair): it is
    withdrawn, the invitation DM closed in place ("withdrawn"), and the inviter may
    invite again (``invite`` holds a third within a day). The invitee's id, or None
    when there is no such invitation (the command then means an active pair)."""
    invited = repo.pairs_of(session, team_id=team_id, user_id=inviter_id, statuses=("invited",))
    # One that lapsed is not waiting: the care pass closes it as expired, not withdrawn.
    waiting = [p for p in invited if not invitation_expired(asked_at=p.created_at, now=now)]
    sent = [pair for pair in waiting if pair.inviter_id == inviter_id]
    # Theirs, past its days, before the care pass has closed it: nothing to withdraw.
    lapsed = [p for p in invited if p not in waiting and p.inviter_id == inviter_id]
    if invitee_id is not None:
        sent = [pair for pair in sent if pair.partner_of(inviter_id) == invitee_id]
        received = [pair for pair in waiting if pair.partner_of(inviter_id) == invitee_id]
        lapsed = [pair for pair in lapsed if pair.partner_of(inviter_id) == invitee_id]
        if lapsed and not sent:
            raise UserError(
                expired_for_inviter(invitee_id=invitee_id, asked_at=lapsed[0].created_at)
            )
        if not sent and received:  # the other way round: theirs to answer, not to end
            raise UserError(
                f"<@{invitee_id}> invited you and waits for your answer: press Accept or "
                "Decline in our DM or on App Home."
            )
    elif repo.pairs_of(session, team_id=team_id, user_id=inviter_id, statuses=("active",)):
        return None  # `end` means their pair
    elif len(sent) > 1:
        names = ", ".join(f"<@{pair.partner_of(inviter_id)}>" for pair in sent)
        raise UserError(
            f"You have invitations waiting for {names}. To withdraw one, type `/mentor end` "
            "and mention the person."
        )
    elif not sent and len(lapsed) == 1:  # their only invitation, expired: say so
        raise UserError(
            expired_for_inviter(
                invitee_id=lapsed[0].partner_of(inviter_id), asked_at=lapsed[0].created_at
            )
        )
    if not sent:
        return None
    pair = _pair(session, team_id=team_id, pair_id=sent[0].id, lock=True)
    if pair.status != "invited":  # answered meanwhile
        return None
    invitee = pair.partner_of(inviter_id)
    pair.status = "withdrawn"
    pair.ended_at = now
    pair.ended_by = inviter_id
    outbox.plan(session, _invitation_over(session, pair, now=now, withdrawn=True), now=now)
    return invitee


def invitations_to_expire(session: Session, *, now: datetime) -> list[tuple[str, int]]:
    """(team, pair) of every invitation unanswered for ``INVITATION_LASTS``, in every
    workspace: the care pass expires each in its own transaction (``expire_invitation``)."""
    return repo.invitations_asked_before(session, before=now - INVITATION_LASTS)


def expire_invitation(
    session: Session, *, team_id: str, pair_id: int, now: datetime, tell_inviter: bool = True
) -> bool:
    """An invitation unanswered for ``INVITATION_LASTS``: ``expired``, its DM closed in
    place (saying how either may invite afresh), and (``tell_inviter``) its inviter told
    once. False when it was answered or withdrawn meanwhile."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id, lock=True)
    if pair is None or pair.status != "invited":
        return False
    pair.status = "expired"
    pair.ended_at = now
    planned = _invitation_over(session, pair, now=now, expired=True, tell_inviter=tell_inviter)
    outbox.plan(session, planned, now=now)
    return True


def answer_invitation(
    session: Session, *, team_id: str, pair_id: int, user_id: str, accept: bool, now: datetime
) -> Pair:
    """Accept or Decline: the answer, the invitation closed in place, the inviter told,
    and on Accept the pair active with its kickoff pending (no group DM yet)."""
    pair = _pair(session, team_id=team_id, pair_id=pair_id, lock=True)
    invitee_id = pair.partner_of(pair.inviter_id)
    require_invitee(user_id, invitee_id)
    if pair.status != "invited":
        raise Conflict(_ANSWERED.get(pair.status, "This invitation was already answered."))
    if invitation_expired(asked_at=pair.created_at, now=now):
        # The care pass closes it within the quarter hour; the answer already says why.
        raise Conflict(
            expired_for_invitee(
                inviter_id=pair.inviter_id,
                invitee_role=pair.role_of(invitee_id),
                asked_at=pair.created_at,
            )
        )
    planned = _invitation_over(session, pair, now=now, accepted=accept, tell_inviter=True)
    if accept:
        pair.status = "active"
        pair.accepted_at = now
        pair.channel_id = None  # until the kickoff has opened the group DM
        start_tips(session, team_id=team_id, user_ids=pair.members, now=now)
        planned.insert(0, _kickoff(pair, now=now))
    else:
        pair.status = "declined"
        pair.ended_at = now
    outbox.plan(session, planned, now=now)
    return pair


def _invitation_over(
    session: Session,
    pair: Pair,
    *,
    now: datetime,
    accepted: bool = False,
    withdrawn: bool = False,
    expired: bool = False,
    tell_inviter: bool = False,
) -> list[PlannedMessage]:
    """An invitation answered, withdrawn or expired: not sent if it has not gone yet
    (answered from App Home, or Slack refused it until now), closed in place if it has,
    and (``tell_inviter``) its inviter told the outcome. The rows to plan."""
    invitee_id = pair.partner_of(pair.inviter_id)
    asked_at = pair.created_at if expired else None
    outbox.cancel_pending(
        session, team_id=pair.team_id, pair_id=pair.id, kinds=(outgoing.INVITATION,)
    )
    planned = [
        outgoing.invitation_closed(
            team_id=pair.team_id,
            pair_id=pair.id,
            invitee_id=invitee_id,
            inviter_id=pair.inviter_id,
            accepted=accepted,
            now=now,
            withdrawn=withdrawn,
            expired_since=asked_at,
            invitee_role=pair.role_of(invitee_id) if expired else None,
        )
    ]
    if tell_inviter:
        planned.append(
            outgoing.invite_answered(
                team_id=pair.team_id,
                pair_id=pair.id,
                inviter_id=pair.inviter_id,
                invitee_id=invitee_id,
                accepted=accepted,
                now=now,
                expired_since=asked_at,
            )
        )
    return planned


def _kickoff(pair: Pair, *, now: datetime, reopened: bool = False) -> PlannedMessage:
    """The pair's kickoff row: its group DM opened (``reopened``: again), then posted."""
    return outgoing.kickoff(
        team_id=pair.team_id,
        pair_id=pair.id,
        mentor_id=pair.mentor_id,
        mentee_id=pair.mentee_id,
        now=now,
        reopened=reopened,
    )


def invitation_message(
    session: Session | Connection, *, team_id: str, pair_id: int
) -> tuple[str, str] | None:
    """Where the invitation DM was posted, to close it in place; None if it never was."""
    return repo.invitation_place(session, team_id=team_id, pair_id=pair_id)


def kickoff_wanted(session: Session | Connection, *, team_id: str, pair_id: int) -> bool:
    return repo.pair_status(session, team_id=team_id, pair_id=pair_id) == "active"


def kickoff_delivered(
    session: Session, *, team_id: str, pair_id: int, channel_id: str, now: datetime
) -> None:
    """Settle step of the kickoff: the pair's group DM exists now, and what waited for
    it follows at once."""
    repo.set_group(session, team_id=team_id, pair_id=pair_id, channel_id=channel_id)
    outbox.release_group_waiters(session, pair_id=pair_id, now=now)


def group_dm_lost(session: Session, *, team_id: str, pair_id: int, now: datetime) -> bool:
    """Slack refused a message in the pair's group DM because of the conversation
    (archived, gone, the bot no longer in it): while the pair is active, the group DM
    is opened again by a kickoff of its own (planned by the first row to find it lost:
    the pair's channel is cleared in the same transaction), and what was for it waits
    for that. False when the pair is no longer active."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id, lock=True)
    if pair is None or pair.status != "active":
        return False
    if pair.channel_id is not None:
        pair.channel_id = None
        outbox.plan(session, [_kickoff(pair, now=now, reopened=True)], now=now)
    return True


def kickoff_waits(
    session: Session, *, team_id: str, pair_id: int, tell: dict[str, str], now: datetime
) -> int:
    """Slack refused a kickoff for the app's own setup (a missing scope): it is tried
    again until it succeeds, and each member is told once, in their DM (``tell``:
    member -> text), that their group DM is not open yet and why (they were told it
    was being opened). The rows planned (none the second time)."""
    return outbox.plan(
        session,
        [
            outgoing.notice(
                team_id=team_id,
                user_id=member,
                text=text,
                now=now,
                key=f"group_dm_waits:{pair_id}:{member}",
            )
            for member, text in sorted(tell.items())
        ],
        now=now,
    )


# ``ended_by`` of a pair whose group DM Slack refused for good: nobody ended it.
ENDED_BY_SLACK = "slack"


def kickoff_refused(
    session: Session, *, team_id: str, pair_id: int, tell: dict[str, str], now: datetime
) -> bool:
    """Settle step of a kickoff Slack refused for good, because of a member (the group
    DM could not be opened, or it was and refuses the kickoff: ``user_disabled``,
    ``is_archived``, ``not_in_channel`` …). A pair is not finished without its group DM,
    so it ends, as any pair ends (its waiting messages, the group DM's included,
    cancelled; tips stopped for a member left with no pair), ``ended_by`` saying Slack;
    and each member hears why in their DM (``tell``: member -> text). False when the
    pair was no longer active."""
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id, lock=True)
    if pair is None or pair.status != "active":
        return False
    end_pair(session, pair=pair, ended_by=ENDED_BY_SLACK, now=now)
    pair.channel_id = None
    outbox.plan(
        session,
        [
            outgoing.notice(team_id=team_id, user_id=member, text=text, now=now)
            for member, text in sorted(tell.items())
            if member in pair.members
        ],
        now=now,
    )
    return True


@dataclass(frozen=True)
class Ended:
    """What ending a pair changed (forget-me reports these counts)."""

    messages_cancelled: int
    meetings_cancelled: int
    # When the meetings it called off would have started (their .ics went to the group).
    called_off: tuple[datetime, ...] = ()
    # Those meetings, cancelled (their SEQUENCE raised): forget-me sends their .ics to
    # the partner's DM instead, as the group DM goes with the forgotten person.
    called_off_meetings: tuple[Meeting, ...] = ()


def end_pair(session: Session, *, pair: Pair, ended_by: str, now: datetime) -> Ended:
    """The one way a pair ends (``/mentor end``, forget-me): ended, its planned messages
    cancelled, its future meetings cancelled, and tips stopped for a member left with
    no active pair. The caller plans what the ending itself says."""
    pair.status = "ended"
    pair.ended_at = now
    pair.ended_by = ended_by
    cancelled = outbox.cancel_pending(session, team_id=pair.team_id, pair_id=pair.id)
    ahead = [m for m in pair.meetings if m.status == "scheduled" and m.starts_at > now]
    for meeting in ahead:
        meeting.status = "cancelled"
    session.flush()
    # The meetings it called off leave the calendars they were added to, whoever ended
    # it (``/mentor end``, a check-in's exit, forget-me).
    for meeting in ahead:
        calendar.change_sequence(session, meeting)
    calendar.send_calendar_files(session, ahead, cancelled=True, now=now)
    meetings = len(ahead)
    for member in pair.members:
        cancelled += stop_tips_unless_paired(session, team_id=pair.team_id, user_id=member)
    return Ended(
        messages_cancelled=cancelled,
        meetings_cancelled=meetings,
        called_off=tuple(m.starts_at for m in ahead),
        called_off_meetings=tuple(ahead),
    )


def end_pair_told(session: Session, *, pair: Pair, ended_by: str, now: datetime) -> PlannedMessage:
    """``end_pair`` by one of its members (``/mentor end``, a check-in's exit), and what
    the group DM is to be told: "has ended" (never why), after the .ics of each meeting
    it called off, which it explains. The caller plans it with its own messages."""
    ended = end_pair(session, pair=pair, ended_by=ended_by, now=now)
    return outgoing.pair_ended(
        team_id=pair.team_id,
        pair_id=pair.id,
        mentor_id=pair.mentor_id,
        mentee_id=pair.mentee_id,
        called_off=ended.called_off,
        now=now,
    )


def member_pair(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    user_id: str,
    active: bool = True,
    lock: bool = False,
) -> Pair:
    """The pair, for one of its members only (anyone else is refused kindly); with
    ``active``, only while it is active; with ``lock``, its row locked for a change."""
    pair = _pair(session, team_id=team_id, pair_id=pair_id, lock=lock)
    require_member(user_id, pair.members)
    if active and pair.status != "active":
        raise Conflict(f"That pairing is {_describe(pair.status)}, so there's nothing to do here.")
    return pair


def _pair(session: Session, *, team_id: str, pair_id: int, lock: bool = False) -> Pair:
    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id, lock=lock)
    if pair is None:
        raise NotFound("I can't find that pairing any more. Try `/mentor status`.")
    return pair


# An Accept or Decline pressed again (an old copy, App Home, a double click): what
# became of the invitation, in words, and where to look.
_ANSWERED = {
    "active": "You already accepted this invitation: your pairing is on. "
    "See `/mentor status` for where it stands.",
    "declined": "You already declined this invitation.",
    "ended": "This pairing has already ended. See `/mentor status` for your pairings.",
    "withdrawn": "This invitation was withdrawn, so there is nothing to answer.",
    "expired": "This invitation expired unanswered, so there is nothing to answer. "
    "Either of you may invite the other again with `/mentor start`.",
}


def _describe(status: str) -> str:
    return {
        "invited": "still waiting for an answer",
        "active": "active",
        "declined": "declined",
        "ended": "ended",
        "withdrawn": "withdrawn",
        "expired": "expired unanswered",
    }.get(status, status)
