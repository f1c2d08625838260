"""Messages and modals of the coaching loop."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.buttons import (
    MeetingChoice,
    meeting_value,
    pair_value,
    poll_ref,
    tip_value,
)
from bot.content import Content, Practice
from bot.domain.answers import FOCUS_MAX, NOTE_MAX
from bot.ids import INPUT_ACTION, MEETING_BLOCKS, Action
from bot.ids import Block as BlockId
from bot.ids import View as ViewId
from bot.views.common import (
    SECTION_LIMIT,
    clip,
    context,
    escape_mrkdwn,
    mention,
    numbered,
    section,
    slack_date,
)


@dataclass(frozen=True)
class Outgoing:
    text: str  # the notification and screen-reader text
    blocks: list[Block]


# ---------------------------------------------------------------- scheduling


def schedule_modal(
    *,
    pair_id: int,
    default_minutes: int,
    now: datetime,
    suggested: Sequence[datetime] = (),
    notes: Sequence[Block] = (),
) -> View:
    """``suggested``: times that fit both people (``bot.domain.slots.suggest_slots``),
    filled in so that the pair can save them as they are or change any; ``notes``:
    blocks shown above the pickers (what the suggestions are, ``bot.views.calendar``)."""
    blocks: list[Block] = [
        section("Pick the next three meetings. Each of you will see them in your own time zone."),
        *notes,
    ]
    for number, block_id in enumerate(MEETING_BLOCKS, start=1):
        initial = suggested[number - 1] if number <= len(suggested) else None
        blocks.append(
            InputBlock(
                block_id=block_id,
                label=f"Meeting {number}",
                element=DateTimePickerElement(
                    action_id=INPUT_ACTION,
                    initial_date_time=int(initial.timestamp()) if initial else None,
                ),
            )
        )
    blocks.append(
        InputBlock(
            block_id=BlockId.LENGTH,
            label="Length in minutes",
            optional=True,
            hint=f"Leave empty for {default_minutes} minutes.",
            element=PlainTextInputElement(
                action_id=INPUT_ACTION, placeholder=str(default_minutes), max_length=3
            ),
        )
    )
    return View(
        type="modal",
        callback_id=ViewId.SCHEDULE,
        title="Next 3 meetings",
        submit="Save",
        close="Cancel",
        private_metadata=json.dumps({"pair_id": pair_id}),
        blocks=blocks,
    )


def move_meeting_modal(*, meeting_id: int, starts_at: datetime) -> View:
    return View(
        type="modal",
        callback_id=ViewId.MOVE_MEETING,
        title="Move a meeting",
        submit="Move",
        close="Cancel",
        private_metadata=json.dumps({"meeting_id": meeting_id}),
        blocks=[
            section(f"This meeting is set for {slack_date(starts_at)}. Pick its new time."),
            InputBlock(
                block_id=BlockId.MEETING_TIME,
                label="New time",
                element=DateTimePickerElement(
                    action_id=INPUT_ACTION, initial_date_time=int(starts_at.timestamp())
                ),
            ),
        ],
    )


def meeting_line(*, meeting_id: int, number: int, starts_at: datetime, minutes: int) -> list[Block]:
    return [
        SectionBlock(
            block_id=f"meeting:{meeting_id}",
            text=MarkdownTextObject(
                text=f"*Meeting {number}* · {slack_date(starts_at)} · {minutes} min"
            ),
            accessory=_meeting_overflow(meeting_id),
        )
    ]


def _meeting_overflow(meeting_id: int) -> Any:
    from slack_sdk.models.blocks import OverflowMenuElement

    return OverflowMenuElement(
        action_id=f"{Action.MOVE_MEETING}:{meeting_id}",
        options=[
            Option(text="Move this meeting", value=MeetingChoice("move", meeting_id).value),
            Option(text="Cancel this meeting", value=MeetingChoice("cancel", meeting_id).value),
        ],
    )


def schedule_confirmation(
    content: Content,
    meetings: Sequence[tuple[int, int, datetime, int]],
    links: Mapping[int, Block] | None = None,
    notes: Sequence[Block] = (),
) -> Outgoing:
    """``links``: per meeting id, the block under its line (its "add to calendar"
    buttons, ``bot.views.calendar``); ``notes``: blocks at the end."""
    # The meetings follow as lines of their own, each with its ⋯ menu and calendar
    # links: listed in the message too, each showed twice. {meetings} at the end (as
    # shipped) is left out; a coordinator's copy that has it mid-sentence says "below".
    message = content.message("schedule_confirmed", meetings="below")
    blocks: list[Block] = [section(message.removesuffix("\nbelow").removesuffix(" below"))]
    for meeting_id, number, starts, minutes in meetings:
        blocks += meeting_line(
            meeting_id=meeting_id, number=number, starts_at=starts, minutes=minutes
        )
        if links and meeting_id in links:
            blocks.append(links[meeting_id])
    blocks.append(context("Use ⋯ beside a meeting to move or cancel it; its prompts move with it."))
    blocks += notes
    return Outgoing(text="Your next meetings are set", blocks=blocks)


def meeting_changed(
    *, starts_at: datetime, cancelled: bool, by: str, was: datetime | None = None
) -> Outgoing:
    """``was``: a moved meeting's time before (rows planned earlier do not have it)."""
    if cancelled:
        text = f"{mention(by)} cancelled the meeting on {slack_date(starts_at)}."
    elif was is not None:
        text = (
            f"{mention(by)} moved the meeting of {slack_date(was)} to {slack_date(starts_at)}. "
            "Its reminders moved too."
        )
    else:
        text = f"{mention(by)} moved a meeting to {slack_date(starts_at)}. Its reminders moved too."
    return Outgoing(text=text, blocks=[section(text)])


def schedule_ask(content: Content, *, pair_id: int) -> Outgoing:
    return Outgoing(
        text="Time to set your next three meetings",
        blocks=[
            section(content.message("schedule_prompt")),
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Schedule our next 3 meetings",
                        action_id=Action.OPEN_SCHEDULE,
                        value=pair_value(pair_id),
                        style="primary",
                    )
                ]
            ),
        ],
    )


# ---------------------------------------------------------------- prep


def prep_for_mentee(
    content: Content, payload: dict[str, Any], extra: Sequence[Block] = ()
) -> Outgoing:
    """``extra``: the pair's goals and parked questions, read when it is sent."""
    when = slack_date(datetime.fromisoformat(payload["starts_at"]))
    blocks: list[Block] = [
        HeaderBlock(text="Prepare for your mentoring meeting"),
        section(content.message("prep_mentee", when=when, mentor=mention(payload["mentor_id"]))),
        _meeting_guidance(content, first=payload.get("number") == 1),
        *extra,
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Add focus and questions",
                    action_id=Action.OPEN_PREP,
                    value=meeting_value(payload["meeting_id"]),
                    style="primary",
                )
            ]
        ),
    ]
    return Outgoing(text=f"Prepare for your mentoring meeting: {when}", blocks=blocks)


def prep_for_mentor(
    content: Content,
    payload: dict[str, Any],
    practices: Sequence[Practice],
    extra: Sequence[Block] = (),
) -> Outgoing:
    when = slack_date(datetime.fromisoformat(payload["starts_at"]))
    fitting = "\n".join(
        f"• *{p.text}*" + (f" {p.guidance}" if p.guidance else "") for p in practices
    )
    blocks: list[Block] = [
        HeaderBlock(text="Prepare for your mentoring meeting"),
        section(content.message("prep_mentor", when=when, mentee=mention(payload["mentee_id"]))),
        _meeting_guidance(content, first=payload.get("number") == 1),
        *extra,
    ]
    if fitting:
        blocks.append(section("*Practices for this meeting*\n" + fitting))
    return Outgoing(text=f"Prepare for your mentoring meeting: {when}", blocks=blocks)


def _meeting_guidance(content: Content, *, first: bool) -> Block:
    if first:
        agenda = numbered([step.text for step in content.get_together])
        return section(content.message("prep_first_meeting") + "\n" + agenda)
    return section(content.message("prep_later_meeting"))


def prep_modal(
    *,
    meeting_id: int,
    starts_at: datetime,
    mentor_id: str,
    focus: str = "",
    questions: str = "",
) -> View:
    """The mentee's prep form, filled with what they sent for this meeting already."""
    again = " Sending again replaces what you sent before." if focus else ""
    return View(
        type="modal",
        callback_id=ViewId.PREP,
        title="Meeting prep",
        submit="Send to mentor",
        close="Cancel",
        private_metadata=json.dumps({"meeting_id": meeting_id}),
        blocks=[
            section(
                f"For your meeting {slack_date(starts_at)} with {mention(mentor_id)}, who will "
                f"see this.{again}"
            ),
            InputBlock(
                block_id=BlockId.FOCUS,
                label="Area of focus",
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    max_length=FOCUS_MAX,
                    initial_value=focus or None,
                    placeholder="What would you like to work on?",
                ),
            ),
            InputBlock(
                block_id=BlockId.QUESTIONS,
                label="Questions",
                optional=True,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    multiline=True,
                    max_length=NOTE_MAX,
                    initial_value=questions or None,
                ),
            ),
        ],
    )


def prep_shared(
    content: Content,
    *,
    mentee_id: str,
    focus: str,
    questions: str,
    starts_at: datetime,
    updated: bool = False,
) -> Outgoing:
    """The mentee's words, escaped: shown to the mentor literally, never as pings or links.
    ``updated``: they sent notes for this meeting before, which these replace."""

    def render(shown_focus: str, shown_questions: str) -> str:
        return content.message(
            "prep_shared_with_mentor",
            mentee=mention(mentee_id),
            when=slack_date(starts_at),  # the meeting's time, which may not be the next one
            focus=shown_focus,
            questions=shown_questions,
        )

    # Escaping makes text longer than what was typed (``<`` is shown as ``&lt;``), so
    # both answers share the section's room: each gets what it needs if they fit,
    # else at least half, cut with an ellipsis rather than refused by Slack.
    room = max(SECTION_LIMIT - len(render("", "")), 2)
    shown_focus, shown_questions = escape_mrkdwn(focus), escape_mrkdwn(questions or "—")
    if len(shown_focus) + len(shown_questions) > room:
        half = room // 2
        if len(shown_focus) > half:
            keep = max(half, room - len(shown_questions))
            shown_focus = escape_mrkdwn(focus, limit=keep)
        shown_questions = escape_mrkdwn(questions or "—", limit=room - len(shown_focus))
    text = render(shown_focus, shown_questions)
    note = f"Meeting: {slack_date(starts_at)}"
    if updated:
        note = f"*Updated:* these replace the notes they sent before. {note}"
    return Outgoing(
        text=f"{mention(mentee_id)} {'updated' if updated else 'shared'} their prep for "
        f"{slack_date(starts_at)}",
        blocks=[section(text), context(note)],
    )


# ---------------------------------------------------------------- feedback

HAPPENED_LABELS = {"yes": "Yes", "rescheduled": "Rescheduled", "no": "No"}


def feedback_poll(
    content: Content,
    *,
    pair_id: int,
    meeting_id: int | None,
    partner_id: str,
    starts_at: datetime | None,
    happened: str | None = None,
    usefulness: int | None = None,
    has_details: bool = False,
    closing: bool = False,
) -> Outgoing:
    """The poll; pressing a button rebuilds it with the choice marked."""
    poll = poll_ref(pair_id, meeting_id)
    ref = poll.ref
    # What coordinators really see (README, "Privacy"): weekly figures of at least K people.
    people = content.settings.privacy_minimum_people
    if closing:
        intro = content.message("closing_poll", partner=mention(partner_id), people=people)
    else:
        intro = content.message(
            "feedback_prompt",
            when=slack_date(starts_at),  # type: ignore[arg-type]
            partner=mention(partner_id),
            people=people,
        )
    blocks: list[Block] = [section(intro)]
    if not closing:
        blocks += [
            section("*Did it happen?*"),
            ActionsBlock(
                block_id=f"happened:{ref}",
                elements=[
                    ButtonElement(
                        text=("✓ " if happened == value else "") + label,
                        action_id=f"{Action.FEEDBACK_HAPPENED}:{value}",
                        value=poll.with_choice(value),
                        style="primary" if happened == value else None,
                    )
                    for value, label in HAPPENED_LABELS.items()
                ],
            ),
        ]
    blocks += [
        section("*How useful was it?* (1 = not at all, 5 = very)"),
        ActionsBlock(
            block_id=f"useful:{ref}",
            elements=[
                ButtonElement(
                    text=("✓ " if usefulness == score else "") + str(score),
                    action_id=f"{Action.FEEDBACK_USEFULNESS}:{score}",
                    value=poll.with_choice(score),
                    style="primary" if usefulness == score else None,
                )
                for score in range(1, 6)
            ],
        ),
        ActionsBlock(
            block_id=f"details:{ref}",
            elements=[
                ButtonElement(
                    text="Edit what helped / what to change"
                    if has_details
                    else "Add what helped / what to change",
                    action_id=Action.OPEN_FEEDBACK_DETAILS,
                    value=ref,
                )
            ],
        ),
    ]
    summary = []
    if happened:
        summary.append(f"happened: *{HAPPENED_LABELS[happened]}*")
    if usefulness:
        summary.append(f"usefulness: *{usefulness}/5*")
    if has_details:
        summary.append("notes added")
    if summary:
        blocks.append(
            context("Saved — " + " · ".join(summary) + ". " + content.message("feedback_thanks"))
        )
    # The notification: a closing poll asks about the relationship that just ended.
    asked = "relationship" if closing else "meeting"
    return Outgoing(text=f"How did your mentoring {asked} go?", blocks=blocks)


def feedback_details_modal(*, ref: str, helped: str = "", change: str = "") -> View:
    return View(
        type="modal",
        callback_id=ViewId.FEEDBACK_DETAILS,
        title="Meeting feedback",
        submit="Save",
        close="Cancel",
        # The poll to update on submit is looked up on the server, never named here.
        private_metadata=json.dumps({"ref": ref}),
        blocks=[
            section("Only you and the program's anonymous totals see this."),
            InputBlock(
                block_id=BlockId.HELPED,
                label="What helped?",
                optional=True,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    multiline=True,
                    max_length=NOTE_MAX,
                    initial_value=helped or None,
                ),
            ),
            InputBlock(
                block_id=BlockId.CHANGE,
                label="What would you change?",
                optional=True,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    multiline=True,
                    max_length=NOTE_MAX,
                    initial_value=change or None,
                ),
            ),
        ],
    )


def partner_gave_feedback(content: Content, *, user_id: str) -> Outgoing:
    text = content.message("feedback_partner_notice", partner=mention(user_id))
    return Outgoing(text=text, blocks=[context(text)])


def reschedule_prompt(
    content: Content,
    *,
    meeting_id: int,
    partner_id: str | None = None,
    starts_at: datetime | None = None,
) -> Outgoing:
    """``partner_id`` and ``starts_at`` say which meeting (someone in two pairs has
    two); rows planned before they were recorded have neither."""
    which: list[Block] = []
    if partner_id and starts_at:
        which = [context(f"The meeting with {mention(partner_id)} ({slack_date(starts_at)}).")]
    return Outgoing(
        text="Let's find a new time",
        blocks=[
            section(content.message("reschedule_prompt")),
            *which,
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text="Pick a new time",
                        action_id=f"{Action.MOVE_MEETING}:again",
                        value=MeetingChoice("again", meeting_id).value,
                        style="primary",
                    )
                ]
            ),
        ],
    )


# ---------------------------------------------------------------- tips


def tip_message(
    content: Content, *, message_id: int, practice: Practice, role: str, vote: int | None = None
) -> Outgoing:
    label = {"mentor": "mentor", "mentee": "mentee"}.get(role, "mentor and mentee")
    blocks: list[Block] = [
        section(content.message("tip_intro", role=label)),
        section(f"*{practice.text}*" + (f"\n{practice.guidance}" if practice.guidance else "")),
        ActionsBlock(
            block_id=f"tip:{message_id}",
            elements=[
                ButtonElement(
                    text="👍 Helpful" if vote != 1 else "✓ 👍 Helpful",
                    action_id=Action.TIP_UP,
                    value=tip_value(message_id),
                    style="primary" if vote == 1 else None,
                ),
                ButtonElement(
                    text="👎 Not for me" if vote != -1 else "✓ 👎 Not for me",
                    action_id=Action.TIP_DOWN,
                    value=tip_value(message_id),
                    style="primary" if vote == -1 else None,
                ),
            ],
        ),
        context("`/mentor tips at HH:MM` moves these · `/mentor tips off` stops them"),
    ]
    return Outgoing(text=f"Today's mentoring tip: {practice.text}", blocks=blocks)


# ---------------------------------------------------------------- end


def end_confirmation(content: Content, *, pair_id: int, partner_id: str) -> list[Block]:
    return [
        section(content.message("end_confirm", partner=mention(partner_id))),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="End pairing",
                    action_id=Action.END_CONFIRM,
                    value=pair_value(pair_id),
                    style="danger",
                    confirm=ConfirmObject(
                        title="End this pairing?",
                        # Slack's confirmation dialog takes plain_text only.
                        text=PlainTextObject(text="Meetings and prompts stop for both of you."),
                        confirm="End it",
                        deny="Keep it",
                    ),
                ),
                ButtonElement(
                    text="Keep it", action_id=Action.END_CANCEL, value=pair_value(pair_id)
                ),
            ],
        ),
    ]


# Meetings called off by an ending that get their calendar note (the rest: their files).
ENDED_NOTES_MAX = 10


def pair_ended(
    content: Content, *, mentor_id: str, mentee_id: str, called_off: Sequence[datetime] = ()
) -> Outgoing:
    """The "has ended" message, and for each meeting it called off the note that the file above
    (its cancelled .ics, sent just before) takes it off a calendar."""
    text = content.message("ended", mentor=mention(mentor_id), mentee=mention(mentee_id))
    blocks: list[Block] = [section(text)]
    # The first few are enough to say what the files above are for.
    notes = [
        content.message("calendar_cancelled", when=slack_date(when))
        for when in called_off[:ENDED_NOTES_MAX]
    ]
    if notes:
        blocks.append(context("\n".join(notes)))
    return Outgoing(text=text, blocks=blocks)


def plain(text: str) -> Outgoing:
    """One section of ``text``; the notification text cut as the section is, so that a
    long one never passes what a message's ``text`` holds (40,000: msg_too_long)."""
    return Outgoing(text=clip(text), blocks=[section(text)])


__all__ = ["ContextBlock", "Outgoing"]
