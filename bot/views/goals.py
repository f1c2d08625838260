"""Block Kit for a pair's goals and agreement: the "Set our goals" modal, the goal card in
the pair's group DM (kept current with ``chat.update``), the App Home section, the prep
prompt's "progress on" lines and the mentee's one-tap progress row of a feedback poll.

Goal words are the pair's own: every one is escaped with ``escape_mrkdwn`` wherever it
is shown, and cut (never inside an entity) to fit the block it sits in. The copy comes
from ``content/messages.yml``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from bot.buttons import pair_value
from bot.content import Content
from bot.domain.goals import (
    AGREEMENT_MAX,
    BY_WHEN,
    CADENCE,
    CADENCES,
    CONFIDENTIAL,
    CONTACT,
    DONE,
    MAX_GOALS,
    PROGRESS,
    PROGRESS_DONE,
    SOME,
    WHAT,
    WHAT_MAX,
    WHY,
    WHY_MAX,
    Agreement,
    GoalInput,
    GoalState,
    counts,
    progress_value,
)
from bot.ids import GOAL_BLOCKS, INPUT_ACTION, Action
from bot.ids import Block as BlockId
from bot.ids import View as ViewId
from bot.views.coaching import Outgoing
from bot.views.common import SECTION_LIMIT, context, escape_mrkdwn, mention, section

EMPTY = "—"
HOME_WHAT_SHOWN = 90  # a goal's words on App Home, escaped, before "…"
PREP_WHAT_SHOWN = 200
# The card's typed words as sent, escaped, at most ("&" goes as "&amp;", five characters):
# three goals and the two agreement answers then stay within MESSAGE_TEXT_BUDGET however
# many of their characters are "&", "<" or ">" (msg_blocks_too_long would keep the card
# from ever being posted or updated), while plain words show whole (WHAT_MAX, WHY_MAX,
# AGREEMENT_MAX are below these).
CARD_WHAT_SHOWN = 500
CARD_WHY_SHOWN = 1_000
CARD_AGREEMENT_SHOWN = 800


def by_when_text(day: date) -> str:
    """``12 Jun 2026``: a plain date, the same for every reader (a goal has no time)."""
    return f"{day.day} {day:%b %Y}"


def _mark(content: Content, goal: GoalState) -> str:
    if goal.status == DONE:
        return content.message("goals_mark_done")
    if goal.progress == SOME:
        return content.message("goals_mark_some")
    return content.message("goals_mark_open")


def _what(goal: GoalState, limit: int | None = None) -> str:
    return escape_mrkdwn(goal.what, limit) if goal.what else EMPTY


# ---------------------------------------------------------------- the modal


def _cadence_option(content: Content, cadence: str) -> Option:
    return Option(text=content.message(f"goals_cadence_{cadence}"), value=cadence)


def goals_modal(
    content: Content,
    *,
    pair_id: int,
    goals: Sequence[GoalState] = (),
    agreement: Agreement | None = None,
    seen: str | None = None,
) -> View:
    """**Set our goals**: three optional goal groups (what, why, by when) and the
    agreement, filled with what the pair saved before."""
    agreement = agreement or Agreement()
    by_position = {goal.position: goal for goal in goals}
    blocks: list[Block] = [section(content.message("goals_modal_intro"))]
    for position, (what_id, why_id, by_id) in enumerate(GOAL_BLOCKS, start=1):
        saved = by_position.get(position)
        blocks += [
            section(content.message("goals_goal_heading", number=position)),
            InputBlock(
                block_id=what_id,
                label=content.message("goals_what_label"),
                optional=True,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    max_length=WHAT_MAX,
                    initial_value=(saved.what or None) if saved else None,
                    placeholder=content.message("goals_what_placeholder"),
                ),
            ),
            InputBlock(
                block_id=why_id,
                label=content.message("goals_why_label"),
                optional=True,
                element=PlainTextInputElement(
                    action_id=INPUT_ACTION,
                    multiline=True,
                    max_length=WHY_MAX,
                    initial_value=(saved.why or None) if saved else None,
                    placeholder=content.message("goals_why_placeholder"),
                ),
            ),
            InputBlock(
                block_id=by_id,
                label=content.message("goals_by_when_label"),
                optional=True,
                element=DatePickerElement(
                    action_id=INPUT_ACTION,
                    initial_date=saved.by_when.isoformat() if saved else None,
                ),
            ),
        ]
    options = [_cadence_option(content, cadence) for cadence in CADENCES]
    blocks += [
        DividerBlock(),
        section(content.message("goals_agreement_heading")),
        InputBlock(
            block_id=BlockId.AGREE_CADENCE,
            label=content.message("goals_cadence_label"),
            optional=True,
            element=StaticSelectElement(
                action_id=INPUT_ACTION,
                options=options,
                initial_option=(
                    _cadence_option(content, agreement.cadence)
                    if agreement.cadence in CADENCES
                    else None
                ),
            ),
        ),
        InputBlock(
            block_id=BlockId.AGREE_CONTACT,
            label=content.message("goals_contact_label"),
            optional=True,
            element=PlainTextInputElement(
                action_id=INPUT_ACTION,
                multiline=True,
                max_length=AGREEMENT_MAX,
                initial_value=agreement.contact or None,
                placeholder=content.message("goals_contact_placeholder"),
            ),
        ),
        InputBlock(
            block_id=BlockId.AGREE_CONFIDENTIAL,
            label=content.message("goals_confidential_label"),
            optional=True,
            element=PlainTextInputElement(
                action_id=INPUT_ACTION,
                multiline=True,
                max_length=AGREEMENT_MAX,
                initial_value=agreement.confidential or None,
                placeholder=content.message("goals_confidential_placeholder"),
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ViewId.GOALS,
        title=content.message("goals_modal_title"),
        submit="Save",
        close="Cancel",
        # ``seen``: what it opened on, so that a submit after the partner saved is
        # refused rather than putting back what they changed (``plan_seen``).
        private_metadata=json.dumps({"pair_id": pair_id, "seen": seen}),
        blocks=blocks,
    )


def _state(view: Mapping[str, Any], block_id: str) -> Mapping[str, Any]:
    state = view.get("state") if isinstance(view, Mapping) else None
    values = state.get("values") if isinstance(state, dict) else None
    entry = values.get(block_id) if isinstance(values, dict) else None
    entry = entry.get(INPUT_ACTION) if isinstance(entry, dict) else None
    return entry if isinstance(entry, dict) else {}


def _text(view: Mapping[str, Any], block_id: str) -> str | None:
    value = _state(view, block_id).get("value")
    return value if isinstance(value, str) else None


def _date(view: Mapping[str, Any], block_id: str) -> date | None:
    value = _state(view, block_id).get("selected_date")
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def read_goals_form(view: Mapping[str, Any]) -> tuple[list[GoalInput], Agreement]:
    """What a submitted **Set our goals** form holds, as typed: to be checked with
    ``bot.domain.goals.check_plan`` (which refuses what the form should have)."""
    goals = [
        GoalInput(_text(view, what_id), _text(view, why_id), _date(view, by_id))
        for what_id, why_id, by_id in GOAL_BLOCKS
    ]
    option = _state(view, BlockId.AGREE_CADENCE).get("selected_option")
    cadence = option.get("value") if isinstance(option, dict) else None
    agreement = Agreement(
        cadence=cadence if isinstance(cadence, str) and cadence else None,
        contact=_text(view, BlockId.AGREE_CONTACT) or "",
        confidential=_text(view, BlockId.AGREE_CONFIDENTIAL) or "",
    )
    return goals, agreement


_AGREEMENT_BLOCKS = {
    CADENCE: BlockId.AGREE_CADENCE,
    CONTACT: BlockId.AGREE_CONTACT,
    CONFIDENTIAL: BlockId.AGREE_CONFIDENTIAL,
}
_GOAL_FIELDS = {WHAT: 0, WHY: 1, BY_WHEN: 2}


def goals_form_errors(problems: Mapping[tuple[int, str] | str, str]) -> dict[str, str]:
    """``check_plan``'s problems as ``response_action: errors`` (block id → message)."""
    errors: dict[str, str] = {}
    for key, message in problems.items():
        if isinstance(key, tuple):
            position, field = key
            if 1 <= position <= MAX_GOALS and field in _GOAL_FIELDS:
                errors[str(GOAL_BLOCKS[position - 1][_GOAL_FIELDS[field]])] = message
        elif key in _AGREEMENT_BLOCKS:
            errors[str(_AGREEMENT_BLOCKS[key])] = message
        else:
            errors.setdefault(str(GOAL_BLOCKS[0][0]), message)
    return errors


# ---------------------------------------------------------------- the goal card


def _goal_blocks(content: Content, goal: GoalState) -> list[Block]:
    def line(what: str) -> str:
        return content.message(
            "goals_card_goal",
            status=_mark(content, goal),
            number=goal.position,
            what=what,
            by_when=by_when_text(goal.by_when),
        )

    room = max(min(SECTION_LIMIT - len(line("")), CARD_WHAT_SHOWN), 2)
    blocks: list[Block] = [section(line(_what(goal, room)))]
    if goal.why:
        why_copy = len(content.message("goals_card_why", why=""))
        why_room = max(min(SECTION_LIMIT - why_copy, CARD_WHY_SHOWN), 2)
        blocks.append(
            context(content.message("goals_card_why", why=escape_mrkdwn(goal.why, why_room)))
        )
    return blocks


def _cadence_text(content: Content, cadence: str | None) -> str:
    return content.message(f"goals_cadence_{cadence}") if cadence in CADENCES else EMPTY


def agreement_text(content: Content, agreement: Agreement) -> str:
    empty = content.message("goals_card_agreement", cadence="", contact="", confidential="")
    each = max(min((SECTION_LIMIT - len(empty) - 40) // 2, CARD_AGREEMENT_SHOWN), 2)
    return content.message(
        "goals_card_agreement",
        cadence=_cadence_text(content, agreement.cadence),
        contact=escape_mrkdwn(agreement.contact, each) if agreement.contact else EMPTY,
        confidential=(
            escape_mrkdwn(agreement.confidential, each) if agreement.confidential else EMPTY
        ),
    )


def goals_button(content: Content, *, pair_id: int, has_goals: bool) -> ButtonElement:
    return ButtonElement(
        text=content.message("goals_edit_button" if has_goals else "goals_set_button"),
        action_id=Action.OPEN_GOALS,
        value=pair_value(pair_id),
        style=None if has_goals else "primary",
    )


def goal_card(
    content: Content,
    *,
    pair_id: int,
    mentor_id: str,
    mentee_id: str,
    goals: Sequence[GoalState],
    agreement: Agreement | None = None,
) -> Outgoing:
    """The card in the pair's group DM: posted once, then ``chat.update``d whenever the
    goals, their progress or the agreement change (store: ``goals.set_card``)."""
    agreement = agreement or Agreement()
    header = content.message("goals_card_header")
    blocks: list[Block] = [
        HeaderBlock(text=header, block_id=f"goal_card:{pair_id}"),
        section(
            content.message(
                "goals_card_intro", mentor=mention(mentor_id), mentee=mention(mentee_id)
            )
        ),
    ]
    if not goals:
        blocks.append(section(content.message("goals_card_empty")))
    for goal in sorted(goals, key=lambda g: g.position):
        blocks += _goal_blocks(content, goal)
    if not agreement.empty:
        blocks += [DividerBlock(), section(agreement_text(content, agreement))]
    blocks.append(
        ActionsBlock(
            block_id=f"goal_card_actions:{pair_id}",
            elements=[goals_button(content, pair_id=pair_id, has_goals=bool(goals))],
        )
    )
    open_, done = counts(goals)
    # The notification text carries no typed words: only the counts.
    text = f"{header} · {open_} open, {done} done"
    return Outgoing(text=text, blocks=blocks)


# ---------------------------------------------------------------- App Home


def goals_home_blocks(content: Content, *, pair_id: int, goals: Sequence[GoalState]) -> list[Block]:
    """One compact block per pair for App Home: the goals' marks and words, and the
    button that opens the form."""
    if not goals:
        text = content.message("goals_home_none")
    else:
        open_, done = counts(goals)
        lines = [
            f"{_mark(content, g)} {_what(g, HOME_WHAT_SHOWN)} · {by_when_text(g.by_when)}"
            for g in sorted(goals, key=lambda g: g.position)
        ]
        text = (
            content.message("goals_home_heading", open=open_, done=done) + "\n" + "\n".join(lines)
        )
    return [
        section(
            text,
            block_id=f"home_goals:{pair_id}",
            accessory=goals_button(content, pair_id=pair_id, has_goals=bool(goals)),
        )
    ]


# ---------------------------------------------------------------- prep and poll


def prep_goal_lines(content: Content, goals: Sequence[GoalState]) -> list[Block]:
    """ "Progress on: …" for the prep prompt: the open goals; nothing when there are none."""
    open_goals = [g for g in sorted(goals, key=lambda g: g.position) if g.status != DONE]
    if not open_goals:
        return []
    lines = "\n".join(
        f"• {_what(g, PREP_WHAT_SHOWN)} (by {by_when_text(g.by_when)})" for g in open_goals
    )
    return [section(content.message("prep_goals", goals=lines))]


_PROGRESS_LABELS = {
    "not_started": "goals_progress_not_started",
    "some": "goals_progress_some",
    "done": "goals_progress_done",
}


def goal_progress_blocks(
    content: Content,
    *,
    pair_id: int,
    meeting_id: int | None,
    goals: Sequence[GoalState],
    chosen: Mapping[int, str] | None = None,
) -> list[Block]:
    """The mentee's one-tap progress row per goal, for every second feedback poll
    (``bot.domain.goals.asks_progress``). A tap rebuilds it with the choice marked.
    Goals already done are left out unless this poll marked them done."""
    chosen = chosen or {}
    shown = [
        g
        for g in sorted(goals, key=lambda g: g.position)
        if g.status != DONE or chosen.get(g.id) == PROGRESS_DONE
    ]
    if not shown:
        return []
    blocks: list[Block] = [section(content.message("goals_progress_prompt"))]
    for goal in shown:
        picked = chosen.get(goal.id)
        blocks += [
            section(f"*{_what(goal, SECTION_LIMIT - 2)}*"),
            ActionsBlock(
                block_id=f"goal:{goal.id}:{meeting_id or 0}",
                elements=[
                    ButtonElement(
                        text=("✓ " if picked == progress else "")
                        + content.message(_PROGRESS_LABELS[progress]),
                        action_id=f"{Action.GOAL_PROGRESS}:{progress}",
                        value=progress_value(
                            pair_id=pair_id,
                            goal_id=goal.id,
                            meeting_id=meeting_id,
                            progress=progress,
                        ),
                        style="primary" if picked == progress else None,
                    )
                    for progress in PROGRESS
                ],
            ),
        ]
    return blocks
