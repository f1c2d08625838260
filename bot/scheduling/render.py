"""What each kind of outbox message looks like, built at send time from its payload.

Pure: the payload and the content in, blocks out (``bot.views`` builds them); no
database and no Slack. ``bot.outgoing`` defines the payload each kind carries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from bot import outgoing
from bot.content import Content, source_line
from bot.domain.goals import (
    AGREEMENT_MAX,
    MAX_GOALS,
    PROGRESS,
    WHAT_MAX,
    WHY_MAX,
    Agreement,
    GoalState,
)
from bot.domain.invitations import expired_for_invitee, expired_for_inviter
from bot.domain.questions import PREP_SHOWN, QUESTION_MAX, PrepQuestions, Question
from bot.store.outbox import ClaimedMessage
from bot.views import calendar as calendar_views
from bot.views import care as care_views
from bot.views import coaching
from bot.views import goals as goal_views
from bot.views.coaching import Outgoing
from bot.views.common import (
    MESSAGE_TEXT_BUDGET,
    CopyTooLong,
    as_dicts,
    context,
    mention,
    refusing_cuts,
    section,
    text_length,
)
from bot.views.insights import nudge_message
from bot.views.pairing import (
    help_blocks,
    invitation_answered_blocks,
    invitation_blocks,
    kickoff_blocks,
)
from bot.views.pool import MAX_TOPIC_OPTIONS, OPTION_TEXT_LIMIT
from bot.views.privacy import my_data_message
from bot.views.questions import prep_question_blocks

# Mentor practices that suit a meeting's preparation, when content marks none.
PREP_PRACTICES_FALLBACK = 3

Renderer = Callable[[Content, ClaimedMessage], Outgoing]


def render(content: Content, message: ClaimedMessage) -> Outgoing:
    renderer = RENDERERS.get(message.kind)
    if renderer is None:
        raise ValueError(f"unknown scheduled message kind {message.kind!r}")
    return renderer(content, message)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


# ---------------------------------------------------------------- planned ahead


def _tip(content: Content, m: ClaimedMessage) -> Outgoing:
    practice = content.practice(m.payload["tip_id"])
    return coaching.tip_message(content, message_id=m.id, practice=practice, role=m.payload["role"])


def _prep_mentor(content: Content, m: ClaimedMessage) -> Outgoing:
    fitting = [p for p in content.mentor_practices if p.prep] or list(
        content.mentor_practices[:PREP_PRACTICES_FALLBACK]
    )
    return coaching.prep_for_mentor(content, m.payload, fitting, _prep_extra(content, m))


def _prep_mentee(content: Content, m: ClaimedMessage) -> Outgoing:
    return coaching.prep_for_mentee(content, m.payload, _prep_extra(content, m))


def _prep_extra(content: Content, m: ClaimedMessage) -> list[Any]:
    """The pair's open goals and parked questions, which delivery read at send time."""
    p = m.payload
    goals = [GoalState.from_payload(g) for g in p.get("goals") or ()]
    questions = tuple(
        Question(q["id"], q["asked_by"], q["text"], datetime.fromisoformat(q["asked_at"]))
        for q in p.get("questions") or ()
    )
    return [
        *goal_views.prep_goal_lines(content, goals),
        *prep_question_blocks(content, PrepQuestions(questions, int(p.get("questions_more") or 0))),
    ]


def _with_goal_progress(content: Content, m: ClaimedMessage, out: Outgoing) -> Outgoing:
    """The mentee's every second poll: one tap of progress per goal (delivery read them)."""
    p = m.payload
    if not p.get("goals"):
        return out
    chosen = {int(k): v for k, v in (p.get("goals_chosen") or {}).items()}
    blocks = goal_views.goal_progress_blocks(
        content,
        pair_id=p["pair_id"],
        meeting_id=p.get("meeting_id"),
        goals=[GoalState.from_payload(g) for g in p["goals"]],
        chosen=chosen,
    )
    return Outgoing(text=out.text, blocks=[*out.blocks, *blocks])


def _goal_card(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    agreed = p.get("agreement") or {}
    return goal_views.goal_card(
        content,
        pair_id=p["pair_id"],
        mentor_id=p["mentor_id"],
        mentee_id=p["mentee_id"],
        goals=[GoalState.from_payload(g) for g in p.get("goals") or ()],
        agreement=Agreement(
            agreed.get("cadence"), agreed.get("contact") or "", agreed.get("confidential") or ""
        ),
    )


def _feedback(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    return _with_goal_progress(content, m, _feedback_poll(content, p))


def _feedback_poll(content: Content, p: dict[str, Any]) -> Outgoing:
    return coaching.feedback_poll(
        content,
        pair_id=p["pair_id"],
        meeting_id=p["meeting_id"],
        partner_id=p["partner_id"],
        starts_at=datetime.fromisoformat(p["starts_at"]),
    )


def _closing_poll(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    return coaching.feedback_poll(
        content,
        pair_id=p["pair_id"],
        meeting_id=None,
        partner_id=p["partner_id"],
        starts_at=None,
        closing=True,
    )


# ---------------------------------------------------------------- pairing


def _invitation(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    blocks = invitation_blocks(
        content,
        pair_id=p["pair_id"],
        inviter_id=p["inviter_id"],
        invitee_id=p["invitee_id"],
        inviter_role=p["inviter_role"],
        matched=bool(p.get("matched")),
    )
    return Outgoing(
        text=f"{mention(p['inviter_id'])} invited you to a mentoring pair", blocks=blocks
    )


def _invitation_closed(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    if p.get("expired_since"):
        return Outgoing(
            text="Invitation expired",
            blocks=[
                section(
                    expired_for_invitee(
                        inviter_id=p["inviter_id"],
                        invitee_role=p["invitee_role"],
                        asked_at=datetime.fromisoformat(p["expired_since"]),
                    )
                )
            ],
        )
    return Outgoing(
        text="Invitation withdrawn" if p.get("withdrawn") else "Invitation answered",
        blocks=invitation_answered_blocks(
            inviter_id=p["inviter_id"], accepted=p["accepted"], withdrawn=bool(p.get("withdrawn"))
        ),
    )


def _invite_answered(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    if p.get("expired_since"):
        return coaching.plain(
            expired_for_inviter(
                invitee_id=p["invitee_id"], asked_at=datetime.fromisoformat(p["expired_since"])
            )
        )
    key = "invite_accepted" if p["accepted"] else "invite_declined"
    return coaching.plain(content.message(key, invitee=mention(p["invitee_id"])))


def _kickoff(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    if p.get("reopened"):
        return coaching.plain(
            content.message(
                "group_dm_reopened", mentor=mention(p["mentor_id"]), mentee=mention(p["mentee_id"])
            )
        )
    return Outgoing(
        text=f"Welcome {mention(p['mentor_id'])} and {mention(p['mentee_id'])}: "
        "your mentoring pair starts here",
        blocks=kickoff_blocks(
            content, pair_id=p["pair_id"], mentor_id=p["mentor_id"], mentee_id=p["mentee_id"]
        ),
    )


def _match_notice(content: Content, m: ClaimedMessage) -> Outgoing:
    return coaching.plain(
        content.message("match_notice_mentor", mentee=mention(m.payload["mentee_id"]))
    )


# ---------------------------------------------------------------- coaching


def _schedule_confirmed(content: Content, m: ClaimedMessage) -> Outgoing:
    meetings = [
        (meeting_id, number, datetime.fromisoformat(starts), minutes)
        for meeting_id, number, starts, minutes in m.payload["meetings"]
    ]
    # Each meeting's "add to calendar" links; its .ics follows (outgoing.CALENDAR_FILE).
    links = {
        meeting_id: calendar_views.calendar_links(
            content,
            calendar_views.calendar_event(
                content, team_id=m.team_id, meeting_id=meeting_id, starts_at=starts, minutes=minutes
            ),
        )
        for meeting_id, _number, starts, minutes in meetings
    }
    return coaching.schedule_confirmation(
        content,
        meetings,
        links=links,
        notes=[context(content.message("calendar_files_note"))],
    )


def _meeting_changed(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    out = coaching.meeting_changed(
        starts_at=datetime.fromisoformat(p["starts_at"]),
        cancelled=p["cancelled"],
        by=p["by"],
        was=datetime.fromisoformat(p["was"]) if p.get("was") else None,
    )
    if p.get("meeting_id") is None:  # planned before meetings came with calendar files
        return out
    event = calendar_views.calendar_event(
        content,
        team_id=m.team_id,
        meeting_id=p["meeting_id"],
        starts_at=datetime.fromisoformat(p["starts_at"]),
        minutes=p["minutes"],
        sequence=p.get("sequence") or 0,
        cancelled=p["cancelled"],
    )
    calendar = calendar_views.calendar_message(content, event, moved=True)
    return Outgoing(text=out.text, blocks=[*out.blocks, *calendar.blocks])


def _prep_shared(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    return coaching.prep_shared(
        content,
        mentee_id=p["mentee_id"],
        focus=p["focus"],
        questions=p["questions"],
        starts_at=datetime.fromisoformat(p["starts_at"]),
        updated=bool(p.get("updated")),
    )


def _poll_update(content: Content, m: ClaimedMessage) -> Outgoing:
    return _with_goal_progress(content, m, _poll_redrawn(content, m.payload))


def _poll_redrawn(content: Content, p: dict[str, Any]) -> Outgoing:
    return coaching.feedback_poll(
        content,
        pair_id=p["pair_id"],
        meeting_id=p["meeting_id"],
        partner_id=p["partner_id"],
        starts_at=_when(p.get("starts_at")),
        happened=p.get("happened"),
        usefulness=p.get("usefulness"),
        has_details=bool(p.get("has_details")),
        closing=p["meeting_id"] is None,
    )


def _tip_update(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    return coaching.tip_message(
        content,
        message_id=p["message_id"],
        practice=content.practice(p["tip_id"]),
        role=p["role"],
        vote=p["vote"],
    )


def _pair_ended(content: Content, m: ClaimedMessage) -> Outgoing:
    return coaching.pair_ended(
        content,
        mentor_id=m.payload["mentor_id"],
        mentee_id=m.payload["mentee_id"],
        called_off=[datetime.fromisoformat(w) for w in m.payload.get("called_off") or ()],
    )


def _nudge(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    text, blocks = nudge_message(
        pair_id=p["pair_id"], mentor_id=p["mentor_id"], mentee_id=p["mentee_id"]
    )
    return Outgoing(text=text, blocks=blocks)


# ---------------------------------------------------------------- the program, my data


def _join_confirmed(content: Content, m: ClaimedMessage) -> Outgoing:
    text = (
        f":sparkles: You're in the mentoring pool as {m.payload['role']}. A coordinator will "
        "propose matches; I'll tell you as soon as there's one for you. `/mentor leave` takes "
        "you out."
    )
    return Outgoing(text=text, blocks=[section(text)])


def _my_data(content: Content, m: ClaimedMessage) -> Outgoing:
    text, blocks = my_data_message(m.payload.get("data") or {})
    return Outgoing(text=text, blocks=blocks)


def _notice(content: Content, m: ClaimedMessage) -> Outgoing:
    return coaching.plain(m.payload["text"])


RENDERERS: dict[str, Renderer] = {
    outgoing.TIP: _tip,
    outgoing.PREP_MENTEE: _prep_mentee,
    outgoing.PREP_MENTOR: _prep_mentor,
    outgoing.FEEDBACK: _feedback,
    outgoing.CLOSING_POLL: _closing_poll,
    outgoing.SCHEDULE_ASK: lambda content, m: coaching.schedule_ask(
        content, pair_id=m.payload["pair_id"]
    ),
    outgoing.MATCH_NOTICE: _match_notice,
    outgoing.MATCH_UNMATCHED: lambda content, m: coaching.plain(
        content.message(
            "match_fell_through" if m.payload.get("fell_through") else "match_unmatched"
        )
    ),
    outgoing.INVITATION: _invitation,
    outgoing.INVITATION_CLOSED: _invitation_closed,
    outgoing.INVITE_ANSWERED: _invite_answered,
    outgoing.KICKOFF: _kickoff,
    outgoing.SCHEDULE_CONFIRMED: _schedule_confirmed,
    outgoing.MEETING_CHANGED: _meeting_changed,
    outgoing.PREP_SHARED: _prep_shared,
    outgoing.PARTNER_FEEDBACK: lambda content, m: coaching.partner_gave_feedback(
        content, user_id=m.payload["user_id"]
    ),
    outgoing.RESCHEDULE_PROMPT: lambda content, m: coaching.reschedule_prompt(
        content,
        meeting_id=m.payload["meeting_id"],
        partner_id=m.payload.get("partner_id"),
        starts_at=(
            datetime.fromisoformat(m.payload["starts_at"]) if m.payload.get("starts_at") else None
        ),
    ),
    outgoing.POLL_UPDATE: _poll_update,
    outgoing.TIP_UPDATE: _tip_update,
    outgoing.PAIR_ENDED: _pair_ended,
    outgoing.NUDGE: _nudge,
    outgoing.JOIN_CONFIRMED: _join_confirmed,
    outgoing.MY_DATA: _my_data,
    outgoing.NOTICE: _notice,
    outgoing.GOAL_CARD: _goal_card,
}


# ---------------------------------------------------------------- care before a pair fails


def _care_nudge(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    return care_views.care_nudge(
        content,
        pair_id=p["pair_id"],
        reason=p["reason"],
        mentor_id=p["mentor_id"],
        mentee_id=p["mentee_id"],
    )


def _checkin(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    return care_views.checkin_message(
        content,
        pair_id=p["pair_id"],
        partner_id=p["partner_id"],
        score=p.get("score"),
        not_working=bool(p.get("not_working")),
    )


def _exit_coordinator(content: Content, m: ClaimedMessage) -> Outgoing:
    p = m.payload
    return care_views.coordinator_exit_notice(
        content,
        mentor_id=p["mentor_id"],
        mentee_id=p["mentee_id"],
        ended_by=p["ended_by"],
        rematch=bool(p.get("rematch")),
    )


RENDERERS.update(
    {
        outgoing.CARE_NUDGE: _care_nudge,
        outgoing.CHECKIN: _checkin,
        outgoing.CHECKIN_UPDATE: _checkin,
        outgoing.EXIT_OFFER: lambda content, m: care_views.exit_offer(
            content, pair_id=m.payload["pair_id"], partner_id=m.payload["partner_id"]
        ),
        outgoing.EXIT_ANSWERED: lambda content, m: care_views.exit_answered(
            content,
            partner_id=m.payload["partner_id"],
            choice=m.payload["choice"],
            pair_id=m.payload.get("pair_id"),
        ),
        outgoing.EXIT_PARTNER: lambda content, m: care_views.partner_exit_notice(
            content, pair_id=m.payload["pair_id"], ended_by=m.payload["ended_by"]
        ),
        outgoing.EXIT_COORDINATOR: _exit_coordinator,
    }
)


# ---------------------------------------------------------------- the content's longest


# Slack's limit of blocks in one message (docs.slack.dev/reference/block-kit/blocks), and
# the block text chat.postMessage is known to refuse as msg_blocks_too_long beyond
# (undocumented; 11,341–13,297 measured by others, slackapi/bolt-js#2509): a message past
# either would never be sent. MESSAGE_TEXT_BUDGET, below it, is the app's own margin.
MESSAGE_BLOCKS = 50
BLOCKS_TEXT_REFUSED = 11_000
_WHEN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_PERSON, _PARTNER = "U0000000001", "U0000000002"


@dataclass(frozen=True)
class Longest:
    """A message whose length the content decides, to be built at its longest."""

    name: str
    build: Callable[[], Outgoing]
    copy: str  # the copy that goes into it, for the coordinator to shorten
    file: str  # where the first of that copy is: a file of the content folder...
    key: str  # ...and the message key or practice id there


@dataclass(frozen=True)
class ContentFit:
    """``content check``'s findings about message lengths, each ``file:line: …``:
    ``errors`` (a message Slack would refuse, so never sent: ``serve`` refuses the
    folder) and ``warnings`` (copy Slack would show cut with "…" or a topic left out
    of the sign-up menu, and a message past the app's own budget)."""

    errors: tuple[str, ...]
    warnings: tuple[str, ...]


def longest_messages(content: Content) -> list[Longest]:
    """The messages whose length the content decides, each at its longest (with the
    words people type at theirs, each "&" sent as five characters)."""
    typed_goals = [
        GoalState(n, n, "&" * WHAT_MAX, "&" * WHY_MAX, date(2027, 1, 1)).to_payload()
        for n in range(1, MAX_GOALS + 1)
    ]
    questions = [
        {"id": n, "asked_by": _PERSON, "text": "&" * QUESTION_MAX, "asked_at": _WHEN.isoformat()}
        for n in range(PREP_SHOWN)
    ]
    prep = {
        "meeting_id": 1,
        "starts_at": _WHEN.isoformat(),
        "mentor_id": _PERSON,
        "mentee_id": _PARTNER,
        "goals": typed_goals,
        "questions": questions,
        "questions_more": 12,
    }
    pair = {"pair_id": 1, "mentor_id": _PERSON, "mentee_id": _PARTNER}
    agreement = {"cadence": "weekly", "contact": "&" * AGREEMENT_MAX}
    card = {
        **pair,
        "goals": typed_goals,
        "agreement": {**agreement, "confidential": "&" * AGREEMENT_MAX},
    }
    built = [
        Longest(
            "help",
            lambda: Outgoing(text="Mentor Bot help", blocks=help_blocks(content)),
            "messages.yml help_text",
            "messages.yml",
            "help_text",
        ),
        Longest(
            "kickoff",
            lambda: _kickoff(content, _claimed(outgoing.KICKOFF, pair)),
            "messages.yml kickoff_greeting and kickoff_agenda_intro, practices.yml get_together",
            "messages.yml",
            "kickoff_greeting",
        ),
        Longest(
            "goal card",
            lambda: _goal_card(content, _claimed(outgoing.GOAL_CARD, card)),
            "the goals_card_ messages of messages.yml",
            "messages.yml",
            "goals_card_header",
        ),
    ]
    for number, meeting, guidance in (
        (1, "first", "prep_first_meeting, practices.yml get_together"),
        (2, "later", "prep_later_meeting"),
    ):
        payload = {**prep, "number": number}
        for role, kind, extra in (
            ("mentor", outgoing.PREP_MENTOR, ", the mentor practices marked prep"),
            ("mentee", outgoing.PREP_MENTEE, ""),
        ):
            row = _claimed(kind, payload)
            built.append(
                Longest(
                    f"{role}'s prep prompt before a {meeting} meeting",
                    lambda row=row: RENDERERS[row.kind](content, row),
                    f"messages.yml {kind} and {guidance}{extra}",
                    "messages.yml",
                    kind,
                )
            )
    # The mentee's poll with a progress row per goal, as first posted and as redrawn
    # after a tap (its "Saved" line and thanks added, each goal's choice marked).
    poll = {
        **pair,
        "meeting_id": 1,
        "partner_id": _PARTNER,
        "starts_at": _WHEN.isoformat(),
        "goals": typed_goals,
    }
    answered = {
        **poll,
        "happened": "rescheduled",
        "usefulness": 5,
        "has_details": True,
        "goals_chosen": {str(g["id"]): PROGRESS[0] for g in typed_goals},
    }
    for name, build in (
        ("feedback poll", lambda: _feedback(content, _claimed(outgoing.FEEDBACK, poll))),
        (
            "feedback poll after an answer",
            lambda: _poll_update(content, _claimed(outgoing.POLL_UPDATE, answered)),
        ),
    ):
        built.append(
            Longest(
                name,
                build,
                "messages.yml feedback_prompt, feedback_thanks and the goals_progress_ messages",
                "messages.yml",
                "feedback_prompt",
            )
        )
    for role, practices in (
        ("mentor", content.mentor_practices),
        ("mentee", content.mentee_practices),
    ):
        for practice in practices:
            tip = {"tip_id": practice.id, "role": role}
            built.append(
                Longest(
                    f"tip {practice.id}",
                    lambda tip=tip: _tip(content, _claimed(outgoing.TIP, tip)),
                    "its text and guidance (and messages.yml tip_intro)",
                    "practices.yml",
                    practice.id,
                )
            )
    return built


def content_fit(content: Content) -> ContentFit:
    """Each message of ``longest_messages`` built as it would be sent, then again with
    every cut refused (``refusing_cuts``)."""
    errors: list[str] = []
    warnings: list[str] = []
    for message in longest_messages(content):
        where = source_line(content.directory, message.file, message.key)
        blocks = as_dicts(message.build().blocks)
        total = text_length(blocks)
        cut: CopyTooLong | None = None
        with refusing_cuts():
            try:
                message.build()
            except CopyTooLong as error:
                cut = error
        # What the figures below count: the message as sent, its long parts cut.
        carry = f"would carry {total:,} characters{' once cut' if cut else ''}"
        if len(blocks) > MESSAGE_BLOCKS:
            errors.append(
                f"{where}: the {message.name} would have {len(blocks)} blocks; a message "
                f"holds at most {MESSAGE_BLOCKS}, so it would never be sent: shorten "
                f"{message.copy}"
            )
        if total > BLOCKS_TEXT_REFUSED:
            errors.append(
                f"{where}: the {message.name} {carry}; Slack "
                f"refuses a message past about {BLOCKS_TEXT_REFUSED:,}, so it would never "
                f"be sent: shorten {message.copy}"
            )
        elif total > MESSAGE_TEXT_BUDGET:
            warnings.append(
                f"{where}: warning: the {message.name} {carry}, "
                f"past the {MESSAGE_TEXT_BUDGET:,} this app keeps to: shorten {message.copy}"
            )
        if cut is not None:
            warnings.append(
                f"{where}: warning: the {message.name} would have a part of {cut}, "
                f'so it is cut with "…": shorten {message.copy}'
            )
    topics = content.topics
    for topic in topics:
        if len(topic.label) > OPTION_TEXT_LIMIT:
            where = source_line(content.directory, "topics.yml", topic.id)
            warnings.append(
                f"{where}: warning: the label of topic "
                f"{topic.id} has {len(topic.label)} characters; Slack's menu shows at most "
                f"{OPTION_TEXT_LIMIT}, so it is cut"
            )
    if len(topics) > MAX_TOPIC_OPTIONS:
        extra = topics[MAX_TOPIC_OPTIONS]
        where = source_line(content.directory, "topics.yml", extra.id)
        warnings.append(
            f"{where}: warning: {len(topics)} topics; "
            f"Slack's menu holds at most {MAX_TOPIC_OPTIONS}, so the sign-up form leaves "
            f"out {extra.id} and every topic after it"
        )
    return ContentFit(tuple(errors), tuple(warnings))


def _claimed(kind: str, payload: dict[str, Any]) -> ClaimedMessage:
    """An outbox row of ``kind`` as the sender claims it, for building its message."""
    return ClaimedMessage(1, "T0", kind, kind, _PERSON, _WHEN, 1, 1, payload, 0)
