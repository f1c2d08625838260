"""The right to be forgotten and the right of access: a person's data, erased or shown.

``forget_person`` deletes what belongs to one person and keeps only anonymous
aggregates: wherever another person's history needs a row (a pair, a tip vote),
the user ID is replaced by a tombstone — a random token drawn afresh for every
call, so it cannot be derived from the user ID nor linked to a later forget of
the same person. What they wrote is deleted, and so are their poll answers:
a rating kept under a tombstone would still be tied to a named partner and a
meeting (the figures coordinators were shown are frozen per closed week, so they
do not move). No column keeps their DM or group DM channel IDs, message
timestamps, name or time zone. Their partner's history stays whole.

The bot's own messages that carry their words or name them are deleted from
Slack too: every outbox message sent to them or about them, the invitations of
their pairs, and what the ledger (``bot.store.posted``) recorded. The
deletions are outbox rows of kind ``slack_delete``, written in the same
transaction and sent by the next scheduler pass, so a Slack failure can only
delay them, never undo the database deletion; each row is deleted once Slack
has deleted its message.

``personal_data`` returns everything stored about one person, as a plain
JSON-able dict — their own words included, never anyone else's.

No Slack here, and ``now`` is a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot import outgoing
from bot.domain.forgotten import new_tombstone
from bot.services import calendar
from bot.services.pairing import ENDED_BY_SLACK, end_pair
from bot.store import checkins, export, forget, goals, outbox, posted, questions, received, repo
from bot.store import pool as pool_store
from bot.store.forget import ANONYMISE, DELETE, Step
from bot.store.models import (
    Feedback,
    InsightPerson,
    MatchExclusion,
    PairAgreement,
    PairGoal,
    Person,
    PoolMember,
    PrepAnswer,
    TipReceived,
    TipVote,
)
from bot.store.outbox import PlannedMessage

OPEN_STATUSES = ("invited", "active")

# What the partner of someone who used forget-me is told, by DM: their pairing (or the
# invitation between them) is gone, and what to do next. It names no one: the bot posts
# nothing that names a forgotten person.
PARTNER_LEFT = {
    "active": "One of your mentoring pairings has ended: your partner left the program, "
    "and what I posted in your group DM went with them. Whenever you want a new "
    "pairing, `/mentor join` puts you in the pool, or `/mentor start @person` pairs you "
    "directly.",
    "invited": "An invitation between you and someone who has since left the program "
    "was withdrawn. `/mentor status` shows where you stand.",
}
# Added to an active pair's PARTNER_LEFT when meetings were still ahead.
MEETINGS_CALLED_OFF = (
    " The meetings you had planned together are called off: the calendar files I'm "
    "sending you take them out of your calendar."
)
# The outbox kind that deletes one of the bot's messages (or files) in Slack.
SLACK_DELETE = outgoing.SLACK_DELETE


@dataclass(frozen=True)
class ForgetReport:
    """How many rows each step touched, per table (``deleted`` vs ``anonymised``)."""

    pairs_ended: int = 0
    pairs_anonymised: int = 0
    meetings_cancelled: int = 0
    feedback_deleted: int = 0  # ratings and words: no row ties them to a named partner
    prep_answers_deleted: int = 0
    tip_votes_anonymised: int = 0
    tips_received_deleted: int = 0  # which practices they were sent: orders their tips only
    insight_people_anonymised: int = 0  # their part in frozen weekly figures
    people_deleted: int = 0
    pool_members_deleted: int = 0
    match_exclusions_deleted: int = 0
    match_exclusions_anonymised: int = 0
    match_proposals_deleted: int = 0
    match_proposals_anonymised: int = 0
    scheduled_messages_cancelled: int = 0
    scheduled_messages_deleted: int = 0
    scheduled_messages_anonymised: int = 0
    parked_questions_deleted: int = 0
    match_checkins_deleted: int = 0  # 30-day check-in answers: tied to a named partner
    goal_words_forgotten: int = 0  # goal and agreement rows of their pairs emptied
    mentions_scrubbed: int = 0  # their ID quoted in other people's free text
    posted_messages_deleted: int = 0
    slack_deletions_planned: int = 0
    partners_told: int = 0  # a notice, naming no one, to each partner of an open pair
    # App Homes published again: their partners' and the listed coordinators'.
    homes_refreshed: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(asdict(self).values())


def _scrub(value: Any, user_id: str, tombstone: str) -> Any:
    """``value`` (JSON) with every occurrence of ``user_id`` replaced, keys included."""
    if isinstance(value, str):
        return value.replace(user_id, tombstone) if user_id in value else value
    if isinstance(value, dict):
        return {
            _scrub(key, user_id, tombstone): _scrub(item, user_id, tombstone)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item, user_id, tombstone) for item in value]
    return value


def _without_reasons(data: Any, user_id: str) -> Any:
    """A proposal's data with the reasons of the lines naming ``user_id`` dropped: they
    quote their sign-up (words of their goals, the hours they work)."""
    if not isinstance(data, dict) or not isinstance(data.get("pairs"), list):
        return data
    pairs = [
        {**line, "reasons": []}
        if isinstance(line, dict) and "reasons" in line and user_id in _line_people(line)
        else line
        for line in data["pairs"]
    ]
    return {**data, "pairs": pairs}


def _mentions(value: Any, user_id: str) -> bool:
    if isinstance(value, str):
        return user_id in value
    if isinstance(value, dict):
        return any(_mentions(k, user_id) or _mentions(v, user_id) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(item, user_id) for item in value)
    return False


# What goes and what stays, table by table (run in this order, after the pairs).
# Feedback: their answers go, ratings and words alike. A row kept under a tombstone
# would still tie a rating to a named partner and a meeting; what coordinators were
# shown is frozen per closed week (insight_people, anonymised), so deleting the
# answers moves no published figure. Frozen weekly figures keep their part (yes/no per
# question, no rating, no words) under the tombstone: deleting it would move a
# published figure by exactly them. Match exclusions about them have no one left to
# protect; ones they set stay, anonymously.
STEPS: tuple[Step, ...] = (
    Step("feedback_deleted", Feedback, ("user_id",), DELETE),
    Step("prep_answers_deleted", PrepAnswer, ("user_id",), DELETE),
    Step("tip_votes_anonymised", TipVote, ("user_id",), ANONYMISE),
    Step("tips_received_deleted", TipReceived, ("user_id",), DELETE),
    Step("insight_people_anonymised", InsightPerson, ("user_id",), ANONYMISE),
    Step("people_deleted", Person, ("user_id",), DELETE),
    Step("pool_members_deleted", PoolMember, ("user_id",), DELETE),
    Step("match_exclusions_deleted", MatchExclusion, ("user_a", "user_b"), DELETE),
    Step("match_exclusions_anonymised", MatchExclusion, ("created_by",), ANONYMISE),
)

# Others' free text that may quote their ID (e.g. "<@U123>"): it loses just the ID.
# (Parked questions: ``bot.store.questions.forget`` does the same.)
MENTION_COLUMNS = (
    Feedback.helped,
    Feedback.change,
    PrepAnswer.focus,
    PrepAnswer.questions,
    PoolMember.goals,
    PairGoal.what,
    PairGoal.why,
    PairAgreement.contact,
    PairAgreement.confidential,
)


def forget_person(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    coordinators: Collection[str] = (),
) -> ForgetReport:
    """Delete one person's data in one workspace, keeping only anonymous aggregates.

    Runs in the caller's transaction: either everything below happens or nothing.
    The Slack deletions it plans go out with the next scheduler pass, and so do the App
    Homes that showed them (each partner's, and those of ``coordinators``,
    ``MENTOR_ADMINS``, whose lists of pairs at risk may name them), published again as
    the database holds them now. (Their own is ``forget_me``'s: no row left here names
    them.)
    """
    tombstone = new_tombstone()
    counts: dict[str, int] = {}
    deletions = _SlackDeletions()

    def bump(name: str, by: int = 1) -> None:
        counts[name] = counts.get(name, 0) + by

    # Pairs: open ones end; every row naming them keeps its shape with the tombstone.
    pairs = forget.pairs_naming(session, team_id=team_id, user_id=user_id)
    their_pairs: set[int] = set()
    group_dms: set[str] = set()
    partners_told: list[PlannedMessage] = []
    # Meetings called off, by partner: their calendars still hold them.
    calendars: list[tuple[str, tuple[Any, ...]]] = []
    homes = dict.fromkeys(coordinators, True)
    for pair in pairs:
        if user_id not in pair.members:
            continue
        their_pairs.add(pair.id)
        partner = pair.partner_of(user_id)
        homes.setdefault(partner, partner in coordinators)
        if pair.status in OPEN_STATUSES:
            was = pair.status
            # Ended as any pair ends: its messages and meetings cancelled, and a partner
            # left with no active pair gets no more tips.
            ended = end_pair(session, pair=pair, ended_by=tombstone, now=now)
            called_off = ended.called_off_meetings
            partners_told.append(
                outgoing.notice(
                    team_id=team_id,
                    user_id=partner,
                    text=PARTNER_LEFT[was] + (MEETINGS_CALLED_OFF if called_off else ""),
                    now=now,
                )
            )
            if called_off:
                calendars.append((partner, called_off))
            bump("pairs_ended")
            bump("scheduled_messages_cancelled", ended.messages_cancelled)
            bump("meetings_cancelled", ended.meetings_cancelled)
    for pair in pairs:
        for column in ("mentor_id", "mentee_id", "inviter_id", "ended_by"):
            if getattr(pair, column) == user_id:
                setattr(pair, column, tombstone)
        if pair.id in their_pairs:
            # The group DM and the invitation DM had them in it: in Slack the invitation
            # goes, and no column keeps either channel.
            if pair.channel_id:
                group_dms.add(pair.channel_id)
            deletions.add(channel=pair.invite_channel_id, ts=pair.invite_ts)
            pair.channel_id = pair.invite_channel_id = pair.invite_ts = None
        bump("pairs_anonymised")
    session.flush()

    for name, touched in forget.apply(
        session, STEPS, team_id=team_id, user_id=user_id, tombstone=tombstone
    ).items():
        bump(name, touched)

    # Coaching. Their parked questions and check-in answers go. A pair's goals and
    # agreement are the pair's own words, which either member may have typed: so
    # forgetting either member empties them, keeping dates, statuses and taps as
    # anonymous program figures (goal counts); the goal card goes from Slack.
    bump(
        "parked_questions_deleted",
        questions.forget(session, team_id=team_id, user_id=user_id, tombstone=tombstone),
    )
    bump("match_checkins_deleted", checkins.forget(session, team_id=team_id, user_id=user_id))
    emptied, cards = goals.forget_words(session, team_id=team_id, pair_ids=sorted(their_pairs))
    bump("goal_words_forgotten", emptied)
    for channel, ts in cards:
        deletions.add(channel=channel, ts=ts)

    # Match proposals: an open one naming them is stale, so it goes; a closed one is
    # history and keeps its shape with the tombstone.
    for proposal in forget.proposals_naming(session, team_id=team_id, user_id=user_id):
        names_them = _mentions(proposal.data, user_id)
        if names_them and proposal.status == "open":
            forget.remove(session, proposal)
            bump("match_proposals_deleted")
            continue
        if names_them:
            proposal.data = _scrub(_without_reasons(proposal.data, user_id), user_id, tombstone)
        if proposal.created_by == user_id:
            proposal.created_by = tombstone
        bump("match_proposals_anonymised")

    # The outbox. Messages to them, or to their pairs' group DMs, or that carry their
    # words (prep notes shared with the mentor), go from the database, and from Slack
    # where they were sent; messages to others that name them (a partner's poll, prep
    # prompt, match notice) are deleted in Slack and rewritten here.
    group_recipients = {outgoing.pair_recipient(pair_id) for pair_id in their_pairs}
    their_dms: set[str] = set()
    outbox_rows = forget.messages_about(
        session,
        team_id=team_id,
        user_id=user_id,
        channels=sorted(group_dms),
        pair_ids=sorted(their_pairs),
    )
    for message in outbox_rows:
        if message.status == "sending":
            # On its way to Slack: where it lands is known only when its worker settles
            # it, which then deletes it there (``forgotten_in_flight``).
            outbox.forget_in_flight(message, tombstone=tombstone)
            bump("scheduled_messages_deleted")
            continue
        if message.recipient == user_id and message.channel_id:
            their_dms.add(message.channel_id)
        deletions.add(channel=message.channel_id, ts=message.message_ts)
        author = outgoing.WORDS_OF.get(message.kind)
        if (
            message.recipient == user_id
            or message.recipient in group_dms
            or message.recipient in group_recipients
            or (author is not None and (message.payload or {}).get(author) == user_id)
        ):
            forget.remove(session, message)
            bump("scheduled_messages_deleted")
            continue
        message.payload = _scrub(message.payload, user_id, tombstone)
        message.key = _scrub(message.key, user_id, tombstone)
        message.last_error = _scrub(message.last_error, user_id, tombstone)
        if message.message_ts:
            message.channel_id = message.message_ts = None  # deleted in Slack below
        bump("scheduled_messages_anonymised")

    # What the ledger recorded: their DM, their words quoted to a partner, their group DMs.
    for entry in posted.about(
        session, team_id=team_id, user_id=user_id, channels=group_dms | their_dms
    ):
        deletions.add(channel=entry.channel_id, ts=entry.ts, file=entry.file_id)
        forget.remove(session, entry)
        bump("posted_messages_deleted")

    bump(
        "mentions_scrubbed",
        forget.scrub_mentions(
            session, MENTION_COLUMNS, team_id=team_id, user_id=user_id, tombstone=tombstone
        ),
    )
    session.flush()
    bump("slack_deletions_planned", deletions.plan(session, team_id=team_id, now=now))
    # Last, so that nothing above takes them for messages about the person.
    bump("partners_told", outbox.plan(session, partners_told, now=now))
    for partner, meetings in calendars:  # the cancellations, to their own DM
        calendar.send_calendar_files(session, meetings, cancelled=True, now=now, to_user=partner)
    # Each Home as it is now (their own is forget_me's: no row here names them).
    refreshes = [
        outgoing.home_refresh(team_id=team_id, user_id=who, listed=listed, now=now)
        for who, listed in sorted(homes.items())
        if who not in (user_id, tombstone)
    ]
    outbox.plan(session, refreshes, now=now)
    bump("homes_refreshed", len(refreshes))
    return ForgetReport(**counts)


class _SlackDeletions:
    """The bot's messages (channel + ts) and files to delete in Slack, each once."""

    def __init__(self) -> None:
        self._targets: dict[tuple[str, str], dict[str, str]] = {}

    def add(self, *, channel: str | None, ts: str | None = None, file: str | None = None) -> None:
        if file:
            self._targets.setdefault(("file", file), {"file": file, "channel": channel or ""})
        if channel and ts:
            self._targets.setdefault((channel, ts), {"channel": channel, "ts": ts})

    def plan(self, session: Session, *, team_id: str, now: datetime) -> int:
        """Outbox rows that delete them, due now. Keys are random: they name no one."""
        rows = [
            outgoing.slack_delete(
                team_id=team_id,
                channel=target.get("channel"),
                ts=target.get("ts"),
                file=target.get("file", ""),
                now=now,
            )
            for target in self._targets.values()
        ]
        return outbox.plan(session, rows, now=now)


def forgotten_in_flight(
    session: Session,
    *,
    team_id: str,
    message_id: int,
    worker: str,
    channel: str,
    now: datetime,
    ts: str | None = None,
    files: Sequence[str] = (),
) -> bool:
    """A message (``ts``) or files Slack has just taken whose row forget-me emptied while
    it was on its way (``outbox.forget_in_flight``): where they went was known only
    now, so they are deleted in Slack like the rest of theirs, and the emptied row goes;
    True if so."""
    if not outbox.take_forgotten(session, message_id=message_id, worker=worker):
        return False
    deletions = (
        [outgoing.slack_delete(team_id=team_id, channel=channel, ts=ts, now=now)] if ts else []
    )
    deletions += [
        outgoing.slack_delete(team_id=team_id, channel=channel, file=file_id, now=now)
        for file_id in files
    ]
    outbox.plan(session, deletions, now=now)
    return True


# ---------------------------------------------------------------- access


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _line_people(line: dict[str, Any]) -> set[Any]:
    return {line.get(k) for k in ("mentor", "mentee", "mentor_id", "mentee_id")}


def _role_in(line: dict[str, Any], user_id: str) -> str:
    """A proposal line's role for one of its two people (old lines say ``mentee_id``)."""
    return "mentee" if user_id == line.get("mentee", line.get("mentee_id")) else "mentor"


def personal_data(session: Session, *, team_id: str, user_id: str) -> dict[str, Any]:
    """Everything stored about one person in one workspace, as plain JSON-able data.

    Their own prep notes and feedback are included with their text; their
    partners' never are.
    """
    person = repo.get_person(session, team_id=team_id, user_id=user_id)
    pool = pool_store.get_member(session, team_id=team_id, user_id=user_id)
    pairs = export.pairs_of(session, team_id=team_id, user_id=user_id)
    pair_of_meeting: dict[int, int] = {}
    pair_rows = []
    for pair in pairs:
        meetings = []
        for meeting in pair.meetings:
            pair_of_meeting[meeting.id] = pair.id
            meetings.append(
                {
                    "id": meeting.id,
                    "number": meeting.number,
                    "starts_at": _iso(meeting.starts_at),
                    "minutes": meeting.minutes,
                    "status": meeting.status,
                }
            )
        pair_rows.append(
            {
                "id": pair.id,
                "role": pair.role_of(user_id),
                "partner_id": pair.partner_of(user_id),
                "invited_by": "you" if pair.inviter_id == user_id else "partner",
                "status": pair.status,
                "created_at": _iso(pair.created_at),
                "accepted_at": _iso(pair.accepted_at),
                "ended_at": _iso(pair.ended_at),
                "ended_by": (
                    None
                    if pair.ended_by is None
                    else "you"
                    if pair.ended_by == user_id
                    else "slack"
                    if pair.ended_by == ENDED_BY_SLACK
                    else "partner"
                ),
                "meetings": meetings,
            }
        )

    prep = [
        {
            "meeting_id": answer.meeting_id,
            "pair_id": pair_of_meeting.get(answer.meeting_id),
            "focus": answer.focus,
            "questions": answer.questions,
            "answered_at": _iso(answer.answered_at),
        }
        for answer in export.prep_answers(session, team_id=team_id, user_id=user_id)
    ]
    feedback = [
        {
            "pair_id": row.pair_id,
            "meeting_id": row.meeting_id,
            "happened": row.happened,
            "usefulness": row.usefulness,
            "helped": row.helped,
            "change": row.change,
            "updated_at": _iso(row.updated_at),
        }
        for row in export.feedback(session, team_id=team_id, user_id=user_id)
    ]
    votes = [
        {"tip_id": vote.tip_id, "vote": vote.vote, "voted_at": _iso(vote.voted_at)}
        for vote in export.tip_votes(session, team_id=team_id, user_id=user_id)
    ]
    tips_received = [
        {"tip_id": (row.payload or {}).get("tip_id"), "sent_at": _iso(row.sent_at)}
        for row in export.tips_sent(session, team_id=team_id, user_id=user_id)
    ]
    messages = export.message_counts(session, team_id=team_id, user_id=user_id)
    exclusions = [
        {
            "never_matched_with": row.user_b if row.user_a == user_id else row.user_a,
            "set_by": "you" if row.created_by == user_id else "a coordinator",
            "created_at": _iso(row.created_at),
        }
        for row in export.exclusions_about(session, team_id=team_id, user_id=user_id)
    ]
    exclusions_set = [
        {"between": [row.user_a, row.user_b], "created_at": _iso(row.created_at)}
        for row in export.exclusions_set_by(session, team_id=team_id, user_id=user_id)
    ]
    proposals = []
    for proposal in export.proposals_mentioning(session, team_id=team_id, user_id=user_id):
        data = proposal.data or {}
        approved = set(data.get("approved") or []) if proposal.status == "approved" else set()
        # Their part in each line, not the other person on it: who that was, and the
        # line's score and reasons (words of their goals, hours they work), come from
        # the other person's sign-up, which only coordinators see. An approved line
        # became an invitation, listed under "pairs".
        lines = [
            {"as": _role_in(line, user_id), "approved": index in approved}
            for index, line in enumerate(data.get("pairs") or [])
            if isinstance(line, dict) and user_id in _line_people(line)
        ]
        unmatched = user_id in (data.get("unmatched") or [])
        if lines or unmatched:
            proposals.append(
                {
                    "id": proposal.id,
                    "status": proposal.status,
                    "created_at": _iso(proposal.created_at),
                    "your_lines": lines,
                    "left_unmatched": unmatched,
                }
            )
    copies = [
        {"kind": row.kind, "posted_at": _iso(row.posted_at)}
        for row in export.kept_messages(session, team_id=team_id, user_id=user_id)
        # Not the entries of someone else's message that names them (a partner's own
        # export): when another person asked for their data is that person's to know.
        if row.kind != posted.NAMES_THEM
    ]
    return {
        "team_id": team_id,
        "user_id": user_id,
        "person": None
        if person is None
        else {
            "display_name": person.display_name,
            "tz": person.tz,
            "tz_checked_at": _iso(person.tz_checked_at),
            "tips_enabled": person.tips_enabled,
            "tip_minute": person.tip_minute,
            # Tips planned for them so far (the last may still be to come); the ones
            # that reached them are "tips_received".
            "tips_planned": person.tips_sent,
            "tips_planned_until": _iso(person.tips_planned_until),
            "blocked_at": _iso(person.blocked_at),
            "blocked_reason": person.blocked_reason,
            "paused_until": _iso(person.paused_until),
        },
        "pool": None
        if pool is None
        else {
            "roles": pool.roles,
            "topics": list((pool.topics or {}).get("ids", [])),
            "goals": pool.goals,
            "capacity": pool.capacity,
            "work_start": pool.work_start,
            "work_end": pool.work_end,
            "paused_until": _iso(pool.paused_until),
            "joined_at": _iso(pool.joined_at),
            "updated_at": _iso(pool.updated_at),
        },
        "pairs": pair_rows,
        "prep_answers": prep,
        "feedback": feedback,
        "tip_votes": votes,
        "weekly_figures": [
            {
                "week_start": row.week_start.isoformat(),
                "answered": row.answered,
                "met": row.met,
                "useful": row.useful,
                "prepared": row.prepared,
                "liked_tips": row.liked_tips,
            }
            for row in export.weekly_parts(session, team_id=team_id, user_id=user_id)
        ],
        "tips_received": tips_received,
        # What orders their next tips: each practice's turn, how often, and a 👎.
        "tip_rotation": [
            {
                "tip_id": row.practice_id,
                "turn": row.cycle,
                "times": row.times,
                "last_sent_at": _iso(row.last_sent_at),
                "not_for_me": row.disliked,
            }
            for row in received.received_by(session, team_id=team_id, user_id=user_id)
        ],
        "scheduled_messages": messages,
        "match_exclusions": exclusions,
        "match_exclusions_you_set": exclusions_set,
        "match_proposals": proposals,
        "messages_kept_for_deletion": copies,
        # Coaching: the goals and agreement of their pairs (the pair's own words, which
        # either member may have typed), the questions they parked, their check-ins.
        "goals": goals.plans_data(session, team_id=team_id, pair_ids=[p.id for p in pairs]),
        "parked_questions": questions.questions_by(session, team_id=team_id, user_id=user_id),
        "match_checkins": checkins.answers_of(session, team_id=team_id, user_id=user_id),
    }


def forget_me(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    now: datetime,
    response_url: str | None,
    text: str,
    blocks: list[dict[str, Any]],
    coordinators: Collection[str] = (),
) -> ForgetReport:
    """``/mentor forget-me``, confirmed: ``forget_person``, and the answer that replaces
    the question, in the same transaction. The answer's row is deleted once sent."""
    report = forget_person(
        session, team_id=team_id, user_id=user_id, now=now, coordinators=coordinators
    )
    # Their own Home, published again as it is now (showing nothing of theirs); like the
    # answer below, its row names them only until it is sent, and then goes.
    outbox.plan(
        session,
        [
            outgoing.home_refresh(
                team_id=team_id, user_id=user_id, listed=user_id in coordinators, now=now
            )
        ],
        now=now,
    )
    if response_url:
        outbox.plan(
            session,
            [
                outgoing.respond(
                    team_id=team_id,
                    user_id=user_id,
                    response_url=response_url,
                    now=now,
                    text=text,
                    blocks=blocks,
                    replace_original=True,
                    # Nothing new in their DM after they asked to be forgotten.
                    dm_fallback=False,
                )
            ],
            now=now,
        )
    else:  # not from the ephemeral question: the answer comes as a DM, its row deleted
        outbox.plan(
            session,
            [
                outgoing.forgotten(
                    team_id=team_id, user_id=user_id, text=text, blocks=blocks, now=now
                )
            ],
            now=now,
        )
    return report


def request_export(session: Session, *, team_id: str, user_id: str, now: datetime) -> None:
    """``/mentor my-data``: the record, as stored now, planned as a DM to the person (and
    as a file in that DM when it is too long for one message). The row holds the record
    only until it is sent."""
    data = personal_data(session, team_id=team_id, user_id=user_id)
    payload = {"data": data, "names": people_named(data, besides=user_id)}
    outbox.plan(
        session,
        [
            outgoing.to_person(
                outgoing.MY_DATA, team_id=team_id, user_id=user_id, now=now, payload=payload
            )
        ],
        now=now,
    )


# A Slack user ID as it appears in stored data: a plain value ("UABC12345") or in a
# mention typed into someone's words ("<@UABC12345>").
_USER_ID = re.compile(r"(?<![A-Z0-9])[UW][A-Z0-9]{7,}(?![A-Z0-9])")


def people_named(data: Any, *, besides: str) -> list[str]:
    """Everyone but ``besides`` whom an export names (a partner, an exclusion, a mention
    in the pair's words): their forget-me deletes the export from Slack too."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            found.update(_USER_ID.findall(value))
        elif isinstance(value, dict):
            for key, item in value.items():
                walk(key)
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(data)
    found.discard(besides)
    return sorted(found)


__all__ = [
    "SLACK_DELETE",
    "ForgetReport",
    "forget_me",
    "forget_person",
    "new_tombstone",
    "personal_data",
    "request_export",
]
