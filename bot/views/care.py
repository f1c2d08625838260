"""Block Kit for care before a pair fails: the kind nudge to the pair, the private 30-day
match check-in, the blame-free exit offer, and what the partner and the coordinators
are told when a pairing ends that way (``bot.domain.care``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.buttons import pair_value
from bot.content import Content
from bot.domain.care import END, MISSED_TWICE, NO_FIRST_MEETING, QUIET, REMATCH, SCORES, STAY
from bot.ids import Action
from bot.views.calendar import slot_blocks
from bot.views.coaching import Outgoing
from bot.views.common import context, mention, section

_NUDGES = {
    NO_FIRST_MEETING: "care_nudge_no_first_meeting",
    QUIET: "care_nudge_quiet",
    MISSED_TWICE: "care_nudge_missed",
}


def care_nudge(
    content: Content,
    *,
    pair_id: int,
    reason: str,
    mentor_id: str,
    mentee_id: str,
    slots: Sequence[datetime] | None = None,
) -> Outgoing:
    """To the pair's group DM, kindly, with one button: schedule. ``slots``: times that
    fit both (``bot.domain.slots``); None leaves them out."""
    text = content.message(_NUDGES[reason], mentor=mention(mentor_id), mentee=mention(mentee_id))
    blocks: list[Block] = [section(text)]
    if slots is not None:
        blocks += slot_blocks(content, slots)
    blocks.append(
        ActionsBlock(
            block_id=f"care:{pair_id}",
            elements=[
                ButtonElement(
                    text=content.message("care_schedule_button"),
                    action_id=Action.OPEN_SCHEDULE,
                    value=pair_value(pair_id),
                    style="primary",
                )
            ],
        )
    )
    return Outgoing(text=text, blocks=blocks)


def checkin_message(
    content: Content,
    *,
    pair_id: int,
    partner_id: str,
    score: int | None = None,
    not_working: bool = False,
) -> Outgoing:
    """The private 30-day check-in: 1–5, or "this isn't working for me". A press
    rebuilds it with the choice marked."""
    text = content.message("checkin_prompt", partner=mention(partner_id))
    blocks: list[Block] = [
        section(text),
        ActionsBlock(
            block_id=f"checkin:{pair_id}",
            elements=[
                ButtonElement(
                    text=("✓ " if score == value else "") + str(value),
                    action_id=f"{Action.CHECKIN_SCORE}:{value}",
                    value=f"{pair_id}:{value}",
                    style="primary" if score == value else None,
                )
                for value in SCORES
            ],
        ),
        ActionsBlock(
            block_id=f"checkin_exit:{pair_id}",
            elements=[
                ButtonElement(
                    text=("✓ " if not_working else "")
                    + content.message("checkin_not_working_button"),
                    action_id=Action.CHECKIN_NOT_WORKING,
                    value=pair_value(pair_id),
                )
            ],
        ),
    ]
    if score is not None or not_working:
        blocks.append(context(content.message("checkin_thanks")))
    return Outgoing(text=content.message("checkin_notification"), blocks=blocks)


_EXIT_BUTTONS = (
    (REMATCH, "exit_rematch_button", "danger"),
    (END, "exit_end_button", None),
    (STAY, "exit_stay_button", None),
)


def exit_offer(content: Content, *, pair_id: int, partner_id: str) -> Outgoing:
    """After "this isn't working for me": end and be re-matched, end, or keep going."""
    text = content.message("exit_offer", partner=mention(partner_id))
    return Outgoing(
        text=text,
        blocks=[
            section(text),
            ActionsBlock(
                block_id=f"exit:{pair_id}",
                elements=[
                    ButtonElement(
                        text=content.message(label),
                        action_id=f"{Action.EXIT_CHOICE}:{choice}",
                        value=f"{pair_id}:{choice}",
                        style=style,
                    )
                    for choice, label, style in _EXIT_BUTTONS
                ],
            ),
        ],
    )


def exit_answered(
    content: Content, *, partner_id: str, choice: str, pair_id: int | None = None
) -> Outgoing:
    """What the one who answered the exit offer reads (replacing the offer). "Keep
    going" keeps the offer's buttons (with ``pair_id``), as its copy promises."""
    if choice == STAY:
        text = content.message("exit_stayed")
        if pair_id is not None:
            offer = exit_offer(content, pair_id=pair_id, partner_id=partner_id)
            return Outgoing(text=offer.text, blocks=[*offer.blocks, context(text)])
    elif choice == REMATCH:
        text = content.message("exit_done_rematch", partner=mention(partner_id))
    else:
        text = content.message("exit_done_end", partner=mention(partner_id))
    return Outgoing(text=text, blocks=[section(text)])


def partner_exit_notice(content: Content, *, pair_id: int, ended_by: str) -> Outgoing:
    """To the partner, kindly and without the reason, with the way back into the pool."""
    text = content.message("exit_partner_notice", partner=mention(ended_by))
    return Outgoing(
        text=text,
        blocks=[
            section(text),
            ActionsBlock(
                block_id=f"rejoin:{pair_id}",
                elements=[
                    ButtonElement(
                        text=content.message("exit_partner_pool_button"),
                        action_id=Action.REJOIN_POOL,
                        value=pair_value(pair_id),
                        style="primary",
                    )
                ],
            ),
        ],
    )


def coordinator_exit_notice(
    content: Content, *, mentor_id: str, mentee_id: str, ended_by: str, rematch: bool
) -> Outgoing:
    """A DM to each coordinator: the pair ended through the check-in, and who asked.
    Never the score, never anyone's words."""
    text = content.message(
        "exit_coordinator_notice",
        mentor=mention(mentor_id),
        mentee=mention(mentee_id),
        by=mention(ended_by),
    )
    if rematch:
        text += " " + content.message("exit_coordinator_rematch", by=mention(ended_by))
    return Outgoing(text=text, blocks=[section(text)])
