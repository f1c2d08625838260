"""Every kind of message the bot sends, and how a use case asks for one.

A service never calls Slack: it writes what it changed and, in the same
transaction, one outbox row per message that change causes (``outbox.plan``).
The sender delivers the rows (``bot.scheduling.delivery``), building each
message from its row's payload at send time (``bot.scheduling.render``). This
module holds the kinds and one small constructor per kind, so that the payload a
service writes and the payload the renderer reads are defined side by side.

Recipients: a user ID is that person's DM with the bot; ``pair:<id>`` is the
pair's group DM, which exists only once the pair's kickoff has been delivered
(``conversations.open``). Rows for a group DM wait for it; the sender resolves
the channel at send time, so no row ever falls back to someone's DM.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.store.outbox import PlannedMessage

# ---------------------------------------------------------------- kinds
# Planned ahead by the scheduler or by a use case, due later.
TIP = "tip"
PREP_MENTEE = "prep_mentee"
PREP_MENTOR = "prep_mentor"
FEEDBACK = "feedback"
CLOSING_POLL = "closing_poll"
SCHEDULE_ASK = "schedule_ask"
MATCH_NOTICE = "match_notice"
MATCH_UNMATCHED = "match_unmatched"
SLACK_DELETE = "slack_delete"  # forget-me: one of the bot's messages deleted in Slack
# Caused by what someone just did, due at once.
INVITATION = "invitation"  # checks the invitee (users.info), then DMs them Accept / Decline
# users.info on an invitee whose invitation went unchecked (a burst past users.info's
# limit): withdraws it if they cannot be invited after all, else records their zone.
INVITEE_CHECK = "invitee_check"
INVITATION_CLOSED = "invitation_closed"  # chat.update: the invitation shows the answer
INVITE_ANSWERED = "invite_answered"  # the inviter hears the answer
KICKOFF = "kickoff"  # conversations.open of the pair's group DM, then its first message
SCHEDULE_CONFIRMED = "schedule_confirmed"
MEETING_CHANGED = "meeting_changed"
PREP_SHARED = "prep_shared"  # the mentee's prep notes, to the mentor
PARTNER_FEEDBACK = "partner_feedback"  # "your partner gave feedback": never the answer
RESCHEDULE_PROMPT = "reschedule_prompt"
POLL_UPDATE = "poll_update"  # chat.update: the poll shows what was chosen
TIP_UPDATE = "tip_update"  # chat.update: the tip shows the vote
PAIR_ENDED = "pair_ended"
# A coordinator's nudge as planned before it became a care nudge for the pair's reason
# (``care_nudge(..., asked=True)``): rows planned then still go, as they were.
NUDGE = "nudge"
JOIN_CONFIRMED = "join_confirmed"  # also refreshes the person's time zone (users.info)
MY_DATA = "my_data"
MY_DATA_FILE = "my_data_file"
WEEKLY_CHART = "weekly_chart"  # a coordinator's PNG, shared in their DM
NOTICE = "notice"  # a plain DM
RESPOND = "respond"  # an ephemeral answer through a stored response_url (30 minutes)
VIEW_UPDATE = "view_update"  # views.update of a modal still open (its view id)
AS_COORDINATOR = "as_coordinator"  # a coordinator's request, checked with users.info first
CALENDAR_FILE = "calendar_file"  # the .ics of meetings set, moved or cancelled (a file upload)
GOAL_CARD = "goal_card"  # the pair's goals: posted in its group DM once, then chat.update

# Kinds whose delivery is retried until it succeeds: a pair without its group DM
# is not finished, so its kickoff never fails for good on Slack's transient errors.
RETRY_UNTIL_DONE = frozenset({KICKOFF})
# Kinds that carry a person's own words to someone else: forget-me deletes the row,
# not just the person's ID in it. The value is the payload field naming the author.
WORDS_OF = {PREP_SHARED: "mentee_id"}

PAIR_PREFIX = "pair:"


def pair_recipient(pair_id: int) -> str:
    """The recipient of a message to the pair's group DM."""
    return f"{PAIR_PREFIX}{pair_id}"


def group_pair_id(recipient: str) -> int | None:
    """The pair whose group DM ``recipient`` names; None for a person's DM."""
    if not recipient.startswith(PAIR_PREFIX):
        return None
    number = recipient[len(PAIR_PREFIX) :]
    return int(number) if number.isdigit() else None


def _once() -> str:
    """A key part for a message that is sent each time it is asked for: it names no one."""
    return uuid.uuid4().hex


def _row(
    kind: str,
    *,
    team_id: str,
    recipient: str,
    now: datetime,
    key: str | None = None,
    pair_id: int | None = None,
    meeting_id: int | None = None,
    payload: dict[str, Any] | None = None,
) -> PlannedMessage:
    return PlannedMessage(
        team_id=team_id,
        key=f"{kind}:{key or _once()}",
        kind=kind,
        recipient=recipient,
        due_at=now,
        pair_id=pair_id,
        meeting_id=meeting_id,
        payload=payload or {},
    )


# ---------------------------------------------------------------- pairing


def invitation(
    *,
    team_id: str,
    pair_id: int,
    inviter_id: str,
    invitee_id: str,
    inviter_role: str,
    now: datetime,
    response_url: str | None = None,
    tell: str | None = None,
    look_up: Sequence[str] = (),
    matched: bool = False,
) -> PlannedMessage:
    """The invitee's DM with Accept / Decline. Its delivery first asks Slack about the
    invitee (and anyone in ``look_up``, for their time zone); an invitee who cannot be
    invited withdraws the pair, and ``tell`` (the inviter, or the coordinator who
    approved a match) hears why: on ``response_url`` while it is valid, else by DM.
    ``matched``: an approved match (the invitation says the coordinators matched them)."""
    payload: dict[str, Any] = {
        "pair_id": pair_id,
        "inviter_id": inviter_id,
        "invitee_id": invitee_id,
        "inviter_role": inviter_role,
        "tell": tell or inviter_id,
        "look_up": sorted(set(look_up)),
    }
    if response_url:
        payload["response_url"] = response_url
    if matched:
        payload["matched"] = True
    return _row(
        INVITATION,
        team_id=team_id,
        recipient=invitee_id,
        now=now,
        key=str(pair_id),
        pair_id=pair_id,
        payload=payload,
    )


def invitee_check(
    *,
    team_id: str,
    pair_id: int,
    inviter_id: str,
    invitee_id: str,
    tell: str,
    due_at: datetime,
    matched: bool = False,
) -> PlannedMessage:
    """The check an invitation skipped to go at once: at ``due_at`` (spaced at
    users.info's pace), Slack is asked about the invitee; someone who cannot be invited
    (a bot, a deactivated account, unknown) has the pair withdrawn and ``tell`` hears
    why by DM; anyone else has their time zone and name recorded."""
    return _row(
        INVITEE_CHECK,
        team_id=team_id,
        recipient=invitee_id,
        now=due_at,
        key=str(pair_id),
        pair_id=pair_id,
        payload={
            "pair_id": pair_id,
            "inviter_id": inviter_id,
            "invitee_id": invitee_id,
            "tell": tell,
            "matched": matched,
        },
    )


def invitation_closed(
    *,
    team_id: str,
    pair_id: int,
    invitee_id: str,
    inviter_id: str,
    accepted: bool,
    now: datetime,
    withdrawn: bool = False,
    expired_since: datetime | None = None,
    invitee_role: str | None = None,
) -> PlannedMessage:
    """The invitation DM, closed in place: answered, withdrawn by the inviter, or
    expired unanswered (``expired_since``: when it was sent; ``invitee_role``: theirs,
    for the command that asks afresh)."""
    payload: dict[str, Any] = {"pair_id": pair_id, "inviter_id": inviter_id, "accepted": accepted}
    if withdrawn:
        payload["withdrawn"] = True
    if expired_since is not None:
        payload["expired_since"] = expired_since.isoformat()
        payload["invitee_role"] = invitee_role
    return _row(
        INVITATION_CLOSED,
        team_id=team_id,
        recipient=invitee_id,
        now=now,
        key=str(pair_id),
        pair_id=pair_id,
        payload=payload,
    )


def invite_answered(
    *,
    team_id: str,
    pair_id: int,
    inviter_id: str,
    invitee_id: str,
    accepted: bool,
    now: datetime,
    expired_since: datetime | None = None,
) -> PlannedMessage:
    """The inviter told of the answer, or (``expired_since``: when it was sent) that
    there was none in time."""
    payload: dict[str, Any] = {"invitee_id": invitee_id, "accepted": accepted}
    if expired_since is not None:
        payload["expired_since"] = expired_since.isoformat()
    return _row(
        INVITE_ANSWERED,
        team_id=team_id,
        recipient=inviter_id,
        now=now,
        key=str(pair_id),
        pair_id=pair_id,
        payload=payload,
    )


def kickoff(
    *,
    team_id: str,
    pair_id: int,
    mentor_id: str,
    mentee_id: str,
    now: datetime,
    reopened: bool = False,
) -> PlannedMessage:
    """The pair's group DM opened and its first message posted; ``reopened``: opened
    again because Slack refused a message in it (archived, gone), with a short note
    instead of the welcome. Each reopening is a row of its own: Slack may give the same
    channel back, and lose it again later (``pairing.group_dm_lost`` plans one per loss,
    under the pair's lock)."""
    payload: dict[str, Any] = {"pair_id": pair_id, "mentor_id": mentor_id, "mentee_id": mentee_id}
    if reopened:
        payload["reopened"] = True
    return _row(
        KICKOFF,
        team_id=team_id,
        recipient=pair_recipient(pair_id),
        now=now,
        key=f"{pair_id}:reopened:{_once()}" if reopened else str(pair_id),
        pair_id=pair_id,
        payload=payload,
    )


def to_group(
    kind: str,
    *,
    team_id: str,
    pair_id: int,
    now: datetime,
    payload: dict[str, Any],
    meeting_id: int | None = None,
) -> PlannedMessage:
    """A message in the pair's group DM (sent once the kickoff has opened it)."""
    return _row(
        kind,
        team_id=team_id,
        recipient=pair_recipient(pair_id),
        now=now,
        pair_id=pair_id,
        meeting_id=meeting_id,
        payload={"pair_id": pair_id, **payload},
    )


def to_person(
    kind: str,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    payload: dict[str, Any],
    pair_id: int | None = None,
    meeting_id: int | None = None,
) -> PlannedMessage:
    """A message in one person's DM with the bot."""
    return _row(
        kind,
        team_id=team_id,
        recipient=user_id,
        now=now,
        pair_id=pair_id,
        meeting_id=meeting_id,
        payload=payload,
    )


def reschedule_prompt(
    *,
    team_id: str,
    user_id: str,
    pair_id: int,
    meeting_id: int,
    partner_id: str,
    starts_at: datetime | None,
    key: str,
    now: datetime,
) -> PlannedMessage:
    """ "Let's find a new time" for a meeting that did not happen (with whom, when it
    was), once per ``key``."""
    return _row(
        RESCHEDULE_PROMPT,
        team_id=team_id,
        recipient=user_id,
        now=now,
        key=key,
        pair_id=pair_id,
        payload={
            "meeting_id": meeting_id,
            "partner_id": partner_id,
            "starts_at": starts_at.isoformat() if starts_at else None,
        },
    )


def slack_delete(
    *, team_id: str, channel: str | None, now: datetime, ts: str | None = None, file: str = ""
) -> PlannedMessage:
    """One of the bot's messages (``channel`` + ``ts``) or files deleted in Slack, due
    now. The key is random and the row names only where: no one."""
    payload = {"file": file, "channel": channel or ""} if file else {"channel": channel, "ts": ts}
    return _row(
        SLACK_DELETE,
        team_id=team_id,
        recipient=channel or "files",
        now=now,
        key=_once(),
        payload=payload,
    )


def notice(
    *, team_id: str, user_id: str, text: str, now: datetime, key: str | None = None
) -> PlannedMessage:
    """A plain DM; with ``key``, planned once whatever asks for it again."""
    return _row(
        NOTICE, team_id=team_id, recipient=user_id, now=now, key=key, payload={"text": text}
    )


def respond(
    *,
    team_id: str,
    user_id: str,
    response_url: str,
    now: datetime,
    text: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    delete_original: bool = False,
    replace_original: bool = False,
    dm_fallback: bool = True,
) -> PlannedMessage:
    """An ephemeral answer on the request's response_url; once Slack has it (or the URL
    has expired) the row is deleted: ephemeral messages leave nothing to keep. When the
    URL no longer works and ``dm_fallback``, the text comes as a DM instead."""
    body: dict[str, Any] = {}
    if delete_original:
        body["delete_original"] = True
    else:
        body.update(response_type="ephemeral", replace_original=replace_original)
        if text is not None:
            body["text"] = text
        if blocks is not None:
            body["blocks"] = blocks
    return to_person(
        RESPOND,
        team_id=team_id,
        user_id=user_id,
        now=now,
        payload={"url": response_url, "body": body, "dm_fallback": dm_fallback and bool(text)},
    )


def answer(
    *, team_id: str, user_id: str, text: str, response_url: str | None, now: datetime
) -> PlannedMessage:
    """An answer to what someone just did: on its response_url when there is one (the
    message they pressed a button in), else as a DM."""
    if response_url:
        return respond(
            team_id=team_id, user_id=user_id, response_url=response_url, text=text, now=now
        )
    return notice(team_id=team_id, user_id=user_id, text=text, now=now)


def view_update(
    *, team_id: str, user_id: str, view_id: str, title: str, text: str, now: datetime
) -> PlannedMessage:
    return to_person(
        VIEW_UPDATE,
        team_id=team_id,
        user_id=user_id,
        now=now,
        payload={"view_id": view_id, "title": title, "text": text},
    )


def as_coordinator(
    request: str,
    *,
    team_id: str,
    by: str,
    listed: bool,
    now: datetime,
    args: dict[str, Any],
    response_url: str | None = None,
    view_id: str | None = None,
    due_at: datetime | None = None,
) -> PlannedMessage:
    """A request only a coordinator may make. Whether ``by`` coordinates this workspace
    only Slack knows (users.info: admin or owner, member of this team), so the request
    is written now and checked at delivery; its effect happens in that delivery's
    settle step, and a refusal is told where the person asked. ``due_at`` (later than
    ``now``): it waits for the modal it answers in (``/mentor match``)."""
    payload: dict[str, Any] = {"request": request, "by": by, "listed": listed, "args": args}
    if response_url:
        payload["response_url"] = response_url
    if view_id:
        payload["view_id"] = view_id
    planned = to_person(AS_COORDINATOR, team_id=team_id, user_id=by, now=now, payload=payload)
    return planned if due_at is None else replace(planned, due_at=due_at)


def goal_card(*, team_id: str, pair_id: int, now: datetime) -> PlannedMessage:
    """The pair's goal card, brought up to date. It carries no words: its delivery reads
    the goals and agreement as they are then, and posts the card in the group DM the
    first time, ``chat.update``s it afterwards."""
    return to_group(GOAL_CARD, team_id=team_id, pair_id=pair_id, now=now, payload={})


# ---------------------------------------------------------------- care before a pair fails
# (bot.services.care). Planned by the scheduler pass, each once: the key is the marker.
CARE_NUDGE = "care_nudge"  # the pair's group DM: kindly, with one button to schedule
CHECKIN = "checkin"  # the private 30-day match check-in, to each member
CHECKIN_UPDATE = "checkin_update"  # chat.update: the check-in shows the answer
EXIT_OFFER = "exit_offer"  # after "this isn't working for me"
EXIT_ANSWERED = "exit_answered"  # chat.update of the offer (a DM when it can't be found)
EXIT_PARTNER = "exit_partner"  # the partner, told kindly, never why; the way back to the pool
EXIT_COORDINATOR = "exit_coordinator"  # a coordinator's DM, once Slack says they are one here


def care_nudge(
    *,
    team_id: str,
    pair_id: int,
    reason: str,
    since: datetime,
    mentor_id: str,
    mentee_id: str,
    now: datetime,
    asked: bool = False,
) -> PlannedMessage:
    """One nudge per reason and episode (``since``: when the reason began to hold), so
    every pass, in every process, plans the same row and only the first one counts.
    A coordinator's nudge of a pair at risk (``asked``) is one more, once a day at most
    (two coordinators, or a double click, plan the same row)."""
    episode = since.astimezone(UTC).strftime("%Y%m%dT%H%M%S")
    if asked:
        episode += now.astimezone(UTC).strftime(":asked:%Y%m%d")
    return _row(
        CARE_NUDGE,
        team_id=team_id,
        recipient=pair_recipient(pair_id),
        now=now,
        key=f"{pair_id}:{reason}:{episode}",
        pair_id=pair_id,
        payload={
            "pair_id": pair_id,
            "reason": reason,
            "mentor_id": mentor_id,
            "mentee_id": mentee_id,
        },
    )


def _once_per_member(
    kind: str, *, team_id: str, pair_id: int, user_id: str, partner_id: str, now: datetime
) -> PlannedMessage:
    return _row(
        kind,
        team_id=team_id,
        recipient=user_id,
        now=now,
        key=f"{pair_id}:{user_id}",
        pair_id=pair_id,
        payload={"pair_id": pair_id, "partner_id": partner_id},
    )


def checkin(
    *, team_id: str, pair_id: int, user_id: str, partner_id: str, now: datetime
) -> PlannedMessage:
    """The 30-day check-in: once per member of a pair."""
    return _once_per_member(
        CHECKIN, team_id=team_id, pair_id=pair_id, user_id=user_id, partner_id=partner_id, now=now
    )


def exit_offer(
    *, team_id: str, pair_id: int, user_id: str, partner_id: str, now: datetime
) -> PlannedMessage:
    """The blame-free way out, once per member of a pair."""
    return _once_per_member(
        EXIT_OFFER,
        team_id=team_id,
        pair_id=pair_id,
        user_id=user_id,
        partner_id=partner_id,
        now=now,
    )


def pair_ended(
    *,
    team_id: str,
    pair_id: int,
    mentor_id: str,
    mentee_id: str,
    called_off: Sequence[datetime],
    now: datetime,
) -> PlannedMessage:
    """The "has ended" message in the group DM, after the cancelled .ics of the meetings it
    called off (``called_off``: when they would have started), which it explains."""
    return to_group(
        PAIR_ENDED,
        team_id=team_id,
        pair_id=pair_id,
        now=now,
        payload={
            "mentor_id": mentor_id,
            "mentee_id": mentee_id,
            "called_off": [when.isoformat() for when in called_off],
        },
    )


# ---------------------------------------------------------------- calendars

CALENDAR_KEY_ROOM = 120
# Files shared in one message at most (Slack's clients attach up to ten to a message).
CALENDAR_FILES_PER_MESSAGE = 10


def calendar_entry(
    *, meeting_id: int, starts_at: datetime, minutes: int, sequence: int, cancelled: bool = False
) -> dict[str, Any]:
    """One meeting's version in a calendar file's payload (its .ics is built at send time)."""
    return {
        "meeting_id": meeting_id,
        "starts_at": starts_at.isoformat(),
        "minutes": minutes,
        "sequence": sequence,
        "cancelled": cancelled,
    }


def calendar_file(
    *,
    team_id: str,
    pair_id: int,
    events: Sequence[dict[str, Any]],
    now: datetime,
    to_user: str | None = None,
) -> PlannedMessage:
    """The ``.ics`` files of these meeting versions (``calendar_entry``), shared in the
    pair's group DM as one message (or in ``to_user``'s DM: a partner of someone who
    used forget-me, whose group DM went with them). Keyed by meeting and SEQUENCE, so
    one version is never planned twice; a row for one meeting that still stands names
    that meeting, so a cancellation before it goes out skips it (the cancellation's file
    follows)."""
    cancelled = any(e["cancelled"] for e in events)
    versions = ",".join(f"{e['meeting_id']}.{e['sequence']}" for e in events)
    versions += ":cancel" if cancelled else ""
    if len(versions) > CALENDAR_KEY_ROOM:  # the key column holds 200 characters
        versions = hashlib.sha256(versions.encode()).hexdigest()
    single = len(events) == 1 and not cancelled
    return _row(
        CALENDAR_FILE,
        team_id=team_id,
        recipient=to_user or pair_recipient(pair_id),
        now=now,
        key=f"{team_id}:{versions}" + (f":to:{to_user}" if to_user else ""),
        pair_id=pair_id,
        meeting_id=events[0]["meeting_id"] if single else None,
        payload={"pair_id": pair_id, "events": list(events)},
    )


# ---------------------------------------------------------------- what a person is looking at
# (views and answers that used to be Slack calls of the listener after its ack).
HOME_REFRESH = "home_refresh"  # views.publish of the person's App Home, built at send time
MATCH_REVIEW = "match_review"  # views.update of the "Proposed matches" modal: the proposal
FORGOTTEN = "forgotten"  # forget-me's confirmation as a DM (no response_url); row deleted
# Kinds deleted, not failed, when their delivery is given up: a Home refresh is worth
# nothing later (the next change or visit publishes it), and forget-me's own answer and
# Home name the person who asked to be forgotten.
GONE_WHEN_GIVEN_UP = frozenset({HOME_REFRESH, FORGOTTEN})


def home_refresh(*, team_id: str, user_id: str, listed: bool, now: datetime) -> PlannedMessage:
    """Publish the person's Home as the database holds it when the row is sent. One key
    per person: a burst of changes while a refresh is waiting plans nothing more, and the
    one refresh shows them all (its delivery frees the key before it reads, so a change
    made meanwhile plans a refresh of its own). ``listed``: in ``MENTOR_ADMINS``."""
    return _row(
        HOME_REFRESH,
        team_id=team_id,
        recipient=user_id,
        now=now,
        key=f"{team_id}:{user_id}",
        payload={"listed": listed},
    )


def match_review(
    *, team_id: str, user_id: str, view_id: str, proposal_id: int, pool_size: int, now: datetime
) -> PlannedMessage:
    """The proposal, shown in the modal ``/mentor match`` opened (built at send time)."""
    return to_person(
        MATCH_REVIEW,
        team_id=team_id,
        user_id=user_id,
        now=now,
        payload={"view_id": view_id, "proposal_id": proposal_id, "pool_size": pool_size},
    )


def forgotten(
    *, team_id: str, user_id: str, text: str, blocks: list[dict[str, Any]], now: datetime
) -> PlannedMessage:
    """forget-me's answer when it has no response_url to answer on: a DM, whose row is
    deleted once sent (no row may name a forgotten person)."""
    return to_person(
        FORGOTTEN,
        team_id=team_id,
        user_id=user_id,
        now=now,
        payload={"text": text, "blocks": blocks},
    )
