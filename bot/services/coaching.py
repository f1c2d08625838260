"""Meetings, prep, feedback, tips and the end of a pair: the coaching loop's use cases.

Each one is a single transaction: the change and every message it causes, as
outbox rows (``bot.outgoing``). Messages to the pair go to its group DM
(``pair:<id>``), delivered once the kickoff has opened it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from bot import outgoing
from bot.content import Content
from bot.domain.answers import FOCUS_MAX, NOTE_MAX, check_feedback_allowed, check_text
from bot.domain.errors import Conflict, NotFound, TimesTaken, UserError
from bot.domain.meetings import change_refused, feedback_due, places, prep_due
from bot.domain.permissions import require_member
from bot.services import calendar, pairing
from bot.services.pairing import member_pair
from bot.services.tips import start_tips
from bot.store import meetings, outbox, received, repo
from bot.store import questions as parked_questions
from bot.store.models import Feedback, Meeting, Pair, PrepAnswer, TipVote
from bot.store.outbox import PlannedMessage

MEETING_PROMPTS = ("prep_mentee", "prep_mentor", "feedback")
PREP_KINDS = ("prep_mentee", "prep_mentor")
# After "has ended" in the group DM, each member's closing poll (the two leave from
# different conversations, side by side, so the poll waits a moment).
CLOSING_POLL_AFTER = timedelta(minutes=1)


@dataclass(frozen=True)
class MeetingInfo:
    id: int
    pair_id: int
    starts_at: datetime
    minutes: int
    number: int


def _info(meeting: Meeting) -> MeetingInfo:
    return MeetingInfo(
        id=meeting.id,
        pair_id=meeting.pair_id,
        starts_at=meeting.starts_at,
        minutes=meeting.minutes,
        number=meeting.number,
    )


def schedule_meetings(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    user_id: str,
    times: Sequence[datetime],
    minutes: int,
    content: Content,
    now: datetime,
) -> list[MeetingInfo]:
    """The next meetings, their prompts, and the confirmation in the pair's group DM;
    ``TimesTaken`` (nothing saved) when a time clashes with a meeting already set."""
    pair = member_pair(session, team_id=team_id, pair_id=pair_id, user_id=user_id)
    calendar.refuse_clashes(session, pair, times, minutes=minutes, now=now)
    count = meetings.count_meetings(session, pair_id=pair.id)
    created = []
    new_meetings = []
    for offset, starts_at in enumerate(times, start=1):
        meeting = Meeting(
            team_id=team_id,
            pair_id=pair.id,
            starts_at=starts_at,
            minutes=minutes,
            status="scheduled",
            number=count + offset,
            created_at=now,
        )
        session.add(meeting)
        session.flush()
        _plan_meeting_prompts(session, pair, meeting, content=content, now=now)
        created.append(_info(meeting))
        new_meetings.append(meeting)
    _replan_schedule_ask(session, pair, content=content, now=now)
    # Their .ics files first, so the confirmation, which explains them and carries each
    # meeting's calendar links, is the latest message in the group DM.
    calendar.send_calendar_files(session, new_meetings, now=now)
    # Numbered as App Home numbers them: their place among the pair's meetings in time
    # (``number`` counts every meeting ever created, cancelled ones too).
    place = places(repo.meeting_starts(session, team_id=team_id, pair_id=pair.id))
    outbox.plan(
        session,
        [
            outgoing.to_group(
                outgoing.SCHEDULE_CONFIRMED,
                team_id=team_id,
                pair_id=pair.id,
                now=now,
                payload={
                    "meetings": [
                        [m.id, place[m.id], m.starts_at.isoformat(), m.minutes] for m in created
                    ]
                },
            )
        ],
        now=now,
    )
    return created


def move_meeting(
    session: Session,
    *,
    team_id: str,
    meeting_id: int,
    user_id: str,
    starts_at: datetime,
    content: Content,
    now: datetime,
) -> MeetingInfo:
    meeting = _meeting_to_change(
        session, team_id=team_id, meeting_id=meeting_id, user_id=user_id, now=now
    )
    if starts_at <= now:
        raise UserError("That time is in the past. Pick a time that is still ahead.")
    if starts_at == meeting.starts_at:  # saved twice, or the partner moved it here first
        raise TimesTaken(
            {0: "That is the time it has already: nothing to move. Pick another, or close this."}
        )
    calendar.refuse_clashes(
        session, meeting.pair, [starts_at], minutes=meeting.minutes, now=now, leaving_out=meeting.id
    )
    outbox.cancel_pending(
        session,
        team_id=team_id,
        meeting_id=meeting.id,
        kinds=(*MEETING_PROMPTS, outgoing.CALENDAR_FILE),
    )
    was = meeting.starts_at
    meeting.starts_at = starts_at
    session.flush()
    # The new .ics replaces the one imported; the prompts' keys carry it too.
    sequence = calendar.change_sequence(session, meeting)
    _plan_meeting_prompts(
        session, meeting.pair, meeting, content=content, now=now, version=sequence
    )
    calendar.send_calendar_files(session, [meeting], now=now)  # the note below explains it
    _announce_change(session, meeting, by=user_id, cancelled=False, now=now, was=was)
    # After the change is told: rows to the group DM leave in the order planned.
    _replan_schedule_ask(session, meeting.pair, content=content, now=now)
    return _info(meeting)


def cancel_meeting(
    session: Session,
    *,
    team_id: str,
    meeting_id: int,
    user_id: str,
    content: Content,
    now: datetime,
) -> MeetingInfo:
    meeting = _meeting_to_change(
        session, team_id=team_id, meeting_id=meeting_id, user_id=user_id, now=now, cancelling=True
    )
    meeting.status = "cancelled"
    outbox.cancel_pending(session, team_id=team_id, meeting_id=meeting.id)
    calendar.change_sequence(session, meeting)  # METHOD:CANCEL at a higher SEQUENCE
    calendar.send_calendar_files(session, [meeting], cancelled=True, now=now)
    _announce_change(session, meeting, by=user_id, cancelled=True, now=now)
    # "Set your next three" after "cancelled the meeting": the group DM's rows leave
    # in the order planned.
    _replan_schedule_ask(session, meeting.pair, content=content, now=now)
    return _info(meeting)


def _announce_change(
    session: Session,
    meeting: Meeting,
    *,
    by: str,
    cancelled: bool,
    now: datetime,
    was: datetime | None = None,
) -> None:
    """ "X moved / cancelled the meeting", in the pair's group DM (``was``: a moved
    meeting's time before, so that the pair can tell which). It names who did it, so
    forget-me deletes it with the pair's messages."""
    outbox.plan(
        session,
        [
            outgoing.to_group(
                outgoing.MEETING_CHANGED,
                team_id=meeting.team_id,
                pair_id=meeting.pair_id,
                now=now,
                payload={
                    "starts_at": meeting.starts_at.isoformat(),
                    "was": was.isoformat() if was is not None else None,
                    "cancelled": cancelled,
                    "by": by,
                    # The meeting's calendar links (a move) and the file's note.
                    "meeting_id": meeting.id,
                    "minutes": meeting.minutes,
                    "sequence": meeting.calendar_sequence or 0,
                },
            )
        ],
        now=now,
    )


def _member_meeting(session: Session, *, team_id: str, meeting_id: int, user_id: str) -> Meeting:
    meeting = meetings.get_meeting(session, team_id=team_id, meeting_id=meeting_id)
    if meeting is None:
        raise NotFound("I can't find that meeting any more. Try `/mentor status`.")
    require_member(user_id, meeting.pair.members)
    if meeting.pair.status != "active":
        raise Conflict("That pairing has ended, so there is nothing more to do for its meetings.")
    if meeting.status != "scheduled":
        raise Conflict("That meeting was cancelled already.")
    return meeting


def _meeting_to_change(
    session: Session,
    *,
    team_id: str,
    meeting_id: int,
    user_id: str,
    now: datetime,
    cancelling: bool = False,
) -> Meeting:
    """A member's meeting that may still be moved (or ``cancelling``, cancelled) now: an
    old message's menu or "Pick a new time" must not change a meeting that took place."""
    meeting = _member_meeting(session, team_id=team_id, meeting_id=meeting_id, user_id=user_id)
    happened = meeting.starts_at <= now and any(
        _said_yes(session, pair=meeting.pair, meeting_id=meeting.id, user_id=member)
        for member in meeting.pair.members
    )
    refused = change_refused(
        starts_at=meeting.starts_at,
        minutes=meeting.minutes,
        now=now,
        cancelling=cancelling,
        happened=happened,
    )
    if refused is not None:
        raise Conflict(refused)
    return meeting


def meeting_to_move(
    session: Session, *, team_id: str, meeting_id: int, user_id: str, now: datetime
) -> MeetingInfo:
    """The meeting whose "move" form a member opens (refused as ``move_meeting`` would)."""
    meeting = _meeting_to_change(
        session, team_id=team_id, meeting_id=meeting_id, user_id=user_id, now=now
    )
    return _info(meeting)


def _plan_meeting_prompts(
    session: Session,
    pair: Pair,
    meeting: Meeting,
    *,
    content: Content,
    now: datetime,
    version: int = 0,
) -> None:
    """The meeting's prep prompts and polls. ``version``: its calendar SEQUENCE after a
    move, in their keys: moved back to a time it had, its rows of then (cancelled, or
    its poll sent) would otherwise keep the keys, and nothing new would be planned."""
    settings = content.settings
    stamp_key = f"{int(meeting.starts_at.timestamp())}" + (f":v{version}" if version else "")
    base = {
        "pair_id": pair.id,
        "meeting_id": meeting.id,
        "starts_at": meeting.starts_at.isoformat(),
        "minutes": meeting.minutes,
        "number": meeting.number,
        "mentor_id": pair.mentor_id,
        "mentee_id": pair.mentee_id,
    }
    planned = []
    prep_at = prep_due(meeting.starts_at, lead=settings.prep_lead, now=now)
    if prep_at is not None:
        for kind, recipient in (("prep_mentee", pair.mentee_id), ("prep_mentor", pair.mentor_id)):
            planned.append(
                PlannedMessage(
                    team_id=pair.team_id,
                    key=f"{kind}:{meeting.id}:{stamp_key}",
                    kind=kind,
                    recipient=recipient,
                    due_at=prep_at,
                    pair_id=pair.id,
                    meeting_id=meeting.id,
                    payload=base,
                )
            )
    poll_at = feedback_due(meeting.starts_at, meeting.minutes, delay=settings.feedback_delay)
    for recipient in pair.members:
        planned.append(
            PlannedMessage(
                team_id=pair.team_id,
                key=f"feedback:{meeting.id}:{stamp_key}:{recipient}",
                kind="feedback",
                recipient=recipient,
                due_at=poll_at,
                pair_id=pair.id,
                meeting_id=meeting.id,
                payload={**base, "partner_id": pair.partner_of(recipient)},
            )
        )
    outbox.plan(session, planned, now=now)


def _replan_schedule_ask(session: Session, pair: Pair, *, content: Content, now: datetime) -> None:
    """Ask the pair to set the next three once fewer than the threshold remain ahead:
    when the meeting that brings the count below it starts, or at once when a meeting
    cancelled (or moved) has already done so. A threshold of 0 turns the ask off."""
    outbox.cancel_pending(
        session, team_id=pair.team_id, pair_id=pair.id, kinds=(outgoing.SCHEDULE_ASK,)
    )
    threshold = content.settings.reschedule_when_fewer_than
    if threshold == 0:
        return
    upcoming = repo.upcoming_meetings(session, team_id=pair.team_id, pair_id=pair.id, now=now)
    if len(upcoming) < threshold:
        due, trigger_id, mark = now, None, f"now:{int(now.timestamp() * 1_000_000)}"
    else:
        trigger = upcoming[len(upcoming) - threshold]
        due, trigger_id = trigger.starts_at, trigger.id
        mark = f"{trigger.id}:{int(trigger.starts_at.timestamp())}"
    outbox.plan(
        session,
        [
            PlannedMessage(
                team_id=pair.team_id,
                key=f"schedule_ask:{pair.id}:{mark}",
                kind=outgoing.SCHEDULE_ASK,
                recipient=outgoing.pair_recipient(pair.id),
                due_at=due,
                pair_id=pair.id,
                meeting_id=trigger_id,
                payload={"pair_id": pair.id},
            )
        ],
        now=now,
    )


def meeting_for_member(
    session: Session, *, team_id: str, meeting_id: int, user_id: str
) -> tuple[MeetingInfo, Pair]:
    meeting = _member_meeting(session, team_id=team_id, meeting_id=meeting_id, user_id=user_id)
    return _info(meeting), meeting.pair


@dataclass(frozen=True)
class PrepForm:
    """What the mentee's prep form shows: the meeting, who will read it, and what they
    sent for it already (so a second press edits, rather than starts again)."""

    meeting: MeetingInfo
    mentor_id: str
    focus: str = ""
    questions: str = ""


def prep_for_mentee(session: Session, *, team_id: str, meeting_id: int, user_id: str) -> PrepForm:
    """The meeting whose prep form the mentee opens, and their notes for it so far."""
    meeting, pair = meeting_for_member(
        session, team_id=team_id, meeting_id=meeting_id, user_id=user_id
    )
    if user_id != pair.mentee_id:
        raise UserError("Prep notes come from the mentee; your mentee's notes will reach you here.")
    sent = meetings.prep_answer(session, meeting_id=meeting.id, user_id=user_id)
    return PrepForm(
        meeting=meeting,
        mentor_id=pair.mentor_id,
        focus=sent.focus or "" if sent else "",
        questions=sent.questions or "" if sent else "",
    )


def save_prep(
    session: Session,
    *,
    team_id: str,
    meeting_id: int,
    user_id: str,
    focus: str,
    questions: str,
    now: datetime,
) -> MeetingInfo:
    """The mentee's prep notes, saved and shared with the mentor (a DM, escaped)."""
    focus = check_text(focus, limit=FOCUS_MAX, what="Your area of focus")
    questions = check_text(questions, limit=NOTE_MAX, what="Your questions")
    meeting = _member_meeting(session, team_id=team_id, meeting_id=meeting_id, user_id=user_id)
    pair = meeting.pair
    if user_id != pair.mentee_id:
        raise UserError("Prep notes come from the mentee; your mentee's notes will reach you here.")
    answer = meetings.prep_answer(session, meeting_id=meeting.id, user_id=user_id)
    updated = answer is not None  # the mentor hears it replaces what came before
    if answer is None:
        answer = PrepAnswer(team_id=team_id, meeting_id=meeting.id, user_id=user_id)
        session.add(answer)
    answer.focus, answer.questions, answer.answered_at = focus, questions, now
    outbox.mark_answered(
        session, team_id=team_id, meeting_id=meeting.id, user_id=user_id, kind="prep_mentee"
    )
    outbox.plan(
        session,
        [
            outgoing.to_person(
                outgoing.PREP_SHARED,
                team_id=team_id,
                user_id=pair.mentor_id,
                now=now,
                pair_id=pair.id,
                payload={
                    "mentee_id": user_id,
                    "focus": focus,
                    "questions": questions,
                    "starts_at": meeting.starts_at.isoformat(),
                    "updated": updated,
                },
            )
        ],
        now=now,
    )
    return _info(meeting)


@dataclass(frozen=True)
class FeedbackState:
    pair_id: int
    meeting_id: int | None
    user_id: str
    partner_id: str
    happened: str | None
    usefulness: int | None
    has_details: bool
    first_answer: bool
    starts_at: datetime | None
    # The poll message the bot sent this person, as recorded when it was sent:
    # what a change of answer updates in place (never what a form claims).
    poll: tuple[str, str] | None = None
    # The meeting was moved to a time still ahead after this person's poll about it
    # went out: no new time is asked for (it has one); ``starts_at`` is the time asked.
    moved_ahead: bool = False
    # The pair has ended since the poll went out: the answer is kept, and nothing
    # follows from it (no notice to the former partner, no new time asked for).
    pair_ended: bool = False
    # The partner answered "Yes, it happened": the meeting keeps its place (a move is
    # refused), so no new time is asked for.
    partner_said_yes: bool = False


HAPPENED = ("yes", "rescheduled", "no")
DID_NOT_HAPPEN = ("rescheduled", "no")


def record_feedback(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    meeting_id: int | None,
    user_id: str,
    now: datetime,
    happened: str | None = None,
    usefulness: int | None = None,
    helped: str | None = None,
    change: str | None = None,
) -> FeedbackState:
    """One press or the notes form: the answer saved, the poll updated in place to show
    it, the partner told that feedback was given (first answer only, never what), and
    a meeting that did not happen asks for a new time."""
    pair = pairing.member_pair(
        session, team_id=team_id, pair_id=pair_id, user_id=user_id, active=False
    )
    meeting = None
    if meeting_id is not None:
        meeting = meetings.get_meeting(session, team_id=team_id, meeting_id=meeting_id)
        if meeting is None or meeting.pair_id != pair.id:
            raise NotFound("I can't find that meeting any more.")
    # Their partner may have moved a meeting that did not happen to a new time while
    # this person's poll about it was open: the answer about that time still counts.
    moved_ahead = meeting is not None and meeting.starts_at > now
    asked_about = (
        outbox.poll_asked_about(
            session, team_id=team_id, user_id=user_id, pair_id=pair.id, meeting_id=meeting.id
        )
        if meeting is not None and moved_ahead
        else None
    )
    check_feedback_allowed(
        pair_status=pair.status,
        meeting_starts_at=meeting.starts_at if meeting is not None else None,
        now=now,
        asked=asked_about is not None and asked_about <= now,
    )
    if happened is not None and happened not in HAPPENED:
        raise UserError("Choose yes, rescheduled or no.")
    if usefulness is not None and not 1 <= usefulness <= 5:
        raise UserError("Rate usefulness from 1 to 5.")
    if helped is not None:
        helped = check_text(helped, limit=NOTE_MAX, what="What helped")
    if change is not None:
        change = check_text(change, limit=NOTE_MAX, what="What you would change")
    row = meetings.feedback_of(session, pair_id=pair.id, meeting_id=meeting_id, user_id=user_id)
    if (
        row is not None
        and meeting is not None
        and not moved_ahead
        and row.updated_at < meeting.starts_at
    ):
        # An answer about an earlier time of this meeting (it did not happen, and was
        # moved since): the poll about its new time starts afresh.
        row.happened = row.usefulness = row.helped = row.change = None
        first_for_this_time = True
    else:
        first_for_this_time = row is None
    said = happened or (row.happened if row is not None else None)
    if usefulness is not None and said in DID_NOT_HAPPEN:
        raise UserError(
            "You said this meeting didn't happen, so there is nothing to rate. If it did, "
            "press *Yes* first."
        )
    first = first_for_this_time
    if row is None:
        row = Feedback(
            team_id=team_id, pair_id=pair.id, meeting_id=meeting_id, user_id=user_id, updated_at=now
        )
        session.add(row)
    if happened is not None:
        row.happened = happened
        if happened in DID_NOT_HAPPEN:
            # A rating given before is of no meeting: it leaves the figures too.
            row.usefulness = None
    if usefulness is not None:
        row.usefulness = usefulness
    if helped is not None:
        row.helped = helped.strip() or None
    if change is not None:
        row.change = change.strip() or None
    row.updated_at = now
    if happened == "yes" and meeting is not None:
        # Held: the questions its prep prompt listed were for it (parking lot).
        shown_at = outbox.first_sent(
            session, team_id=team_id, meeting_id=meeting.id, kinds=PREP_KINDS
        )
        if shown_at is not None:
            parked_questions.clear_for_meeting(
                session, team_id=team_id, pair_id=pair.id, prep_sent_at=shown_at
            )
    if meeting_id is not None:
        outbox.mark_answered(
            session, team_id=team_id, meeting_id=meeting_id, user_id=user_id, kind="feedback"
        )
    state = FeedbackState(
        pair_id=pair.id,
        meeting_id=meeting_id,
        user_id=user_id,
        partner_id=pair.partner_of(user_id),
        happened=row.happened,
        usefulness=row.usefulness,
        has_details=bool(row.helped or row.change),
        first_answer=first,
        starts_at=asked_about or (meeting.starts_at if meeting is not None else None),
        moved_ahead=moved_ahead,
        pair_ended=pair.status != "active",
        partner_said_yes=meeting is not None
        and _said_yes(session, pair=pair, meeting_id=meeting.id, user_id=pair.partner_of(user_id)),
        poll=outbox.sent_poll(
            session, team_id=team_id, user_id=user_id, pair_id=pair.id, meeting_id=meeting_id
        ),
    )
    outbox.plan(session, _after_feedback(team_id, state, happened=happened, now=now), now=now)
    return state


def _said_yes(session: Session, *, pair: Pair, meeting_id: int, user_id: str) -> bool:
    answer = meetings.feedback_of(session, pair_id=pair.id, meeting_id=meeting_id, user_id=user_id)
    return answer is not None and answer.happened == "yes"


def _after_feedback(
    team_id: str, state: FeedbackState, *, happened: str | None, now: datetime
) -> list[PlannedMessage]:
    planned = []
    if state.poll is not None:
        channel, ts = state.poll
        planned.append(
            outgoing.to_person(
                outgoing.POLL_UPDATE,
                team_id=team_id,
                user_id=state.user_id,
                now=now,
                pair_id=state.pair_id,
                payload={
                    "channel": channel,
                    "ts": ts,
                    "pair_id": state.pair_id,
                    "meeting_id": state.meeting_id,
                    "partner_id": state.partner_id,
                    "starts_at": state.starts_at.isoformat() if state.starts_at else None,
                    "happened": state.happened,
                    "usefulness": state.usefulness,
                    "has_details": state.has_details,
                },
            )
        )
    if state.pair_ended:
        return planned
    if state.first_answer and state.meeting_id is not None:
        # It names the person in their partner's DM: forget-me deletes it. Not for the
        # closing poll: the pairing is over, and "shared feedback on your last meeting"
        # would be about something else.
        planned.append(
            outgoing.to_person(
                outgoing.PARTNER_FEEDBACK,
                team_id=team_id,
                user_id=state.partner_id,
                now=now,
                pair_id=state.pair_id,
                payload={"user_id": state.user_id},
            )
        )
    # A meeting that did not happen asks for a new time, unless it has one already;
    # once for each time it was set to (No, then Rescheduled, then No: one ask).
    wants_time = happened in DID_NOT_HAPPEN and state.meeting_id is not None
    if wants_time and not state.moved_ahead and not state.partner_said_yes:
        asked = int(state.starts_at.timestamp()) if state.starts_at else 0
        planned.append(
            outgoing.reschedule_prompt(
                team_id=team_id,
                user_id=state.user_id,
                pair_id=state.pair_id,
                meeting_id=state.meeting_id,
                partner_id=state.partner_id,
                starts_at=state.starts_at,
                key=f"{state.meeting_id}:{state.user_id}:{asked}",
                now=now,
            )
        )
    return planned


def feedback_details(
    session: Session, *, team_id: str, pair_id: int, meeting_id: int | None, user_id: str
) -> tuple[str, str]:
    """The person's own notes, to prefill the modal; nobody else's are ever read here."""
    pair = pairing.member_pair(
        session, team_id=team_id, pair_id=pair_id, user_id=user_id, active=False
    )
    row = meetings.feedback_of(session, pair_id=pair.id, meeting_id=meeting_id, user_id=user_id)
    return (row.helped or "", row.change or "") if row else ("", "")


def record_tip_vote(
    session: Session, *, team_id: str, user_id: str, message_id: int, vote: int, now: datetime
) -> tuple[str, str]:
    """👍 / 👎 on a tip: stored, remembered for the order of later tips, and shown on
    the tip itself (updated in place)."""
    message = outbox.get_message(session, team_id=team_id, message_id=message_id)
    if message is None or message.kind != "tip" or message.recipient != user_id:
        raise UserError("That tip isn't yours to rate, so I left it as it was.")
    tip_id, role = message.payload["tip_id"], message.payload.get("role", "mentor")
    existing = meetings.tip_vote(session, outbox_id=message.id, user_id=user_id)
    if existing is None:
        session.add(
            TipVote(
                team_id=team_id,
                user_id=user_id,
                tip_id=tip_id,
                outbox_id=message.id,
                vote=vote,
                voted_at=now,
            )
        )
    else:
        existing.vote, existing.voted_at = vote, now
    # The person's latest vote on the practice orders their later tips (👎: last).
    received.record_vote(
        session, team_id=team_id, user_id=user_id, practice_id=tip_id, vote=vote, now=now
    )
    if message.channel_id and message.message_ts:
        outbox.plan(
            session,
            [
                outgoing.to_person(
                    outgoing.TIP_UPDATE,
                    team_id=team_id,
                    user_id=user_id,
                    now=now,
                    payload={
                        "channel": message.channel_id,
                        "ts": message.message_ts,
                        "message_id": message.id,
                        "tip_id": tip_id,
                        "role": role,
                        "vote": vote,
                    },
                )
            ],
            now=now,
        )
    return tip_id, role


def end_pair(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    user_id: str,
    now: datetime,
    response_url: str | None = None,
) -> Pair:
    """``/mentor end``, confirmed: the pair ends, the group DM hears it (after the .ics
    of each meeting called off, which it explains), each member gets a closing poll,
    and the ephemeral confirmation goes away."""
    pair = member_pair(session, team_id=team_id, pair_id=pair_id, user_id=user_id)
    planned = [pairing.end_pair_told(session, pair=pair, ended_by=user_id, now=now)]
    planned += [
        PlannedMessage(
            team_id=team_id,
            key=f"closing_poll:{pair.id}:{member}",
            kind=outgoing.CLOSING_POLL,
            recipient=member,
            due_at=now + CLOSING_POLL_AFTER,
            pair_id=pair.id,
            payload={"pair_id": pair.id, "partner_id": pair.partner_of(member)},
        )
        for member in pair.members
    ]
    if response_url:
        planned.append(
            outgoing.respond(
                team_id=team_id,
                user_id=user_id,
                response_url=response_url,
                now=now,
                delete_original=True,
            )
        )
    outbox.plan(session, planned, now=now)
    return pair


def pair_for_command(
    session: Session, *, team_id: str, user_id: str, verb: str, partner_id: str | None = None
) -> Pair:
    """The pair a `/mentor schedule` or `/mentor end` (``verb``) means: the caller's
    active pair with ``partner_id``, or without one their only active pair."""
    pairs = repo.pairs_of(session, team_id=team_id, user_id=user_id, statuses=("active",))
    if not pairs:
        raise UserError(
            "You're not in an active mentoring pair. Start one with `/mentor start @person`."
        )
    if partner_id is not None:
        chosen = [p for p in pairs if p.partner_of(user_id) == partner_id]
        if not chosen:
            raise UserError(
                f"You're not in an active pair with <@{partner_id}>. "
                "See `/mentor status` for your pairs."
            )
        return chosen[0]
    if len(pairs) > 1:
        raise UserError(
            "You're in more than one pair, so I can't tell which one you mean. Name your "
            f"partner: `/mentor {verb} @partner`."
        )
    return pairs[0]


def resume_if_paused(session: Session, *, team_id: str, user_id: str, now: datetime) -> bool:
    """Slack refused to DM this person earlier; now they are talking to us, so resume."""
    person = repo.get_person(session, team_id=team_id, user_id=user_id)
    if person is None or person.blocked_at is None:
        return False
    person.blocked_at = None
    person.blocked_reason = None
    outbox.resume_recipient(
        session, team_id=team_id, recipient=user_id, stale_before=now - timedelta(days=1)
    )
    if repo.pairs_of(session, team_id=team_id, user_id=user_id, statuses=("active",)):
        start_tips(session, team_id=team_id, user_ids=[user_id], now=now)
    return True
