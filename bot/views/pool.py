"""The sign-up modal and the coordinators' match review."""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    Option,
    PlainTextInputElement,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.content import Topic
from bot.domain.commands import format_minute
from bot.ids import INPUT_ACTION, MATCH_GROUP_PREFIX
from bot.ids import Block as BlockId
from bot.ids import View as ViewId
from bot.services.matching import ProposalView
from bot.store.models import PoolMember
from bot.views.common import context, mention, section

ROLE_LABELS = {"mentor": "Mentor", "mentee": "Mentee", "both": "Both"}
CHECKBOX_LIMIT = 10  # Slack's limit of options in one checkboxes element
MAX_TOPIC_OPTIONS = 100
OPTION_TEXT_LIMIT = 75
DESCRIPTION_LIMIT = 150


def join_modal(topics: Sequence[Topic], *, current: PoolMember | None = None) -> View:
    role_options = [Option(text=label, value=value) for value, label in ROLE_LABELS.items()]
    topic_options = [
        Option(text=t.label[:OPTION_TEXT_LIMIT], value=t.id) for t in topics[:MAX_TOPIC_OPTIONS]
    ]
    chosen_topics = set((current.topics or {}).get("ids", [])) if current else set()
    capacity_options = [Option(text=str(n), value=str(n)) for n in range(1, 6)]
    blocks: list[Block] = [
        section(
            "Tell me a little about you and I'll suggest a good match. Coordinators see "
            "your sign-up; nobody else does."
        ),
        InputBlock(
            block_id=BlockId.JOIN_ROLE,
            label="I'd like to join as",
            element=RadioButtonsElement(
                action_id=INPUT_ACTION,
                options=role_options,
                initial_option=next(
                    (o for o in role_options if current and o.value == current.roles), None
                ),
            ),
        ),
    ]
    if topic_options:
        blocks.append(
            InputBlock(
                block_id=BlockId.JOIN_TOPICS,
                label="Topics",
                hint="Mentors: what you can help with. Mentees: what you want to grow in.",
                element=StaticMultiSelectElement(
                    action_id=INPUT_ACTION,
                    placeholder="Pick a few topics",
                    options=topic_options,
                    initial_options=[o for o in topic_options if o.value in chosen_topics] or None,
                ),
            )
        )
    blocks += [
        InputBlock(
            block_id=BlockId.JOIN_GOALS,
            label="Goals",
            optional=True,
            hint="Mentees: what would make this a rewarding experience for you?",
            element=PlainTextInputElement(
                action_id=INPUT_ACTION,
                multiline=True,
                max_length=2000,
                initial_value=(current.goals if current else None) or None,
            ),
        ),
        InputBlock(
            block_id=BlockId.JOIN_CAPACITY,
            label="As a mentor, how many mentees can you take?",
            optional=True,
            element=StaticSelectElement(
                action_id=INPUT_ACTION,
                placeholder="1",
                options=capacity_options,
                initial_option=next(
                    (o for o in capacity_options if current and o.value == str(current.capacity)),
                    None,
                ),
            ),
        ),
        InputBlock(
            block_id=BlockId.JOIN_START,
            label="My working day starts",
            element=TimePickerElement(
                action_id=INPUT_ACTION,
                initial_time=format_minute(current.work_start if current else 9 * 60),
            ),
        ),
        InputBlock(
            block_id=BlockId.JOIN_END,
            label="and ends (your local time)",
            element=TimePickerElement(
                action_id=INPUT_ACTION,
                initial_time=format_minute(current.work_end if current else 17 * 60),
            ),
        ),
    ]
    return View(
        type="modal",
        callback_id=ViewId.JOIN,
        title="Join mentoring",
        submit="Join",
        close="Cancel",
        blocks=blocks,
    )


def match_review_modal(proposal: ProposalView, *, names: dict[str, str] | None = None) -> View:
    names = names or {}
    blocks: list[Block] = [
        section(
            f"*{len(proposal.pairs)} pairs proposed* from {proposal.pool_size} people in the pool "
            f"(total fit {proposal.total_score:.2f}). Untick any pair you don't want; approved "
            "pairs get the usual invitation, and everyone unmatched hears kindly that they stay "
            "in the pool."
        )
    ]
    if proposal.unmatched:
        blocks.append(
            context(
                "Unmatched this round: " + ", ".join(mention(u) for u in proposal.unmatched[:30])
            )
        )
    for start in range(0, len(proposal.pairs), CHECKBOX_LIMIT):
        group = proposal.pairs[start : start + CHECKBOX_LIMIT]
        options = [
            Option(
                text=_clip(
                    f"{names.get(line.mentor_id, line.mentor_id)} → "
                    f"{names.get(line.mentee_id, line.mentee_id)} ({line.score:.2f})",
                    OPTION_TEXT_LIMIT,
                ),
                value=str(line.index),
                description=_clip("; ".join(line.reasons) or "A fair fit", DESCRIPTION_LIMIT),
            )
            for line in group
        ]
        blocks.append(
            InputBlock(
                block_id=f"{MATCH_GROUP_PREFIX}{start // CHECKBOX_LIMIT}",
                label=f"Pairs {start + 1}–{start + len(group)}",
                optional=True,
                element=CheckboxesElement(
                    action_id=INPUT_ACTION, options=options, initial_options=options
                ),
            )
        )
        if len(blocks) >= 98:
            blocks.append(context("More pairs than fit here: use `mentor-bot match` for the rest."))
            break
    if not proposal.pairs:
        blocks.append(
            section("Nobody can be matched right now: the pool needs mentors and mentees.")
        )
    return View(
        type="modal",
        callback_id=ViewId.MATCH_REVIEW,
        title="Proposed matches",
        submit="Approve" if proposal.pairs else None,
        close="Cancel",
        private_metadata=json.dumps({"proposal_id": proposal.id}),
        blocks=blocks,
    )


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
