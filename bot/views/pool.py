"""The sign-up modal and the coordinators' match review."""

from __future__ import annotations

import json
from collections.abc import Sequence

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticMultiSelectElement,
    StaticSelectElement,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot.buttons import proposal_line_value
from bot.content import Topic
from bot.domain.commands import format_minute
from bot.ids import INPUT_ACTION, MATCH_GROUP_PREFIX
from bot.ids import Block as BlockId
from bot.ids import View as ViewId
from bot.services.matching import ProposalView, ProposedLine
from bot.store.models import PoolMember
from bot.views.common import clip, context, escape_mrkdwn, mention, section

ROLE_LABELS = {"mentor": "Mentor", "mentee": "Mentee", "both": "Both"}
CHECKBOX_LIMIT = 10  # Slack's limit of options in one checkboxes element
MAX_TOPIC_OPTIONS = 100  # Slack's limit of options in one select menu
# Slack's option object: text and description each at most 75 characters
# (https://docs.slack.dev/reference/block-kit/composition-objects/option-object).
OPTION_TEXT_LIMIT = 75
DESCRIPTION_LIMIT = 75
VIEW_BLOCK_LIMIT = 100  # blocks in one modal
# And at most 250 kB of JSON in all ("view_too_large", views.open/update/push: "the
# provided view is greater than 250kb", slack-ruby/slack-api-ref methods/views). A
# group of ten pairs is about 7 kB (each option twice: offered and ticked), so some
# 35 groups fit, fewer than the 100 blocks; the rest of the view is kept under this.
VIEW_BYTES_BUDGET = 240_000
UNMATCHED_NAMED = 30  # people named in the "unmatched this round" line
REASONS_LIMIT = 2_000  # a context element's text may hold 3000; reasons are far shorter


def join_modal(topics: Sequence[Topic], *, current: PoolMember | None = None) -> View:
    role_options = [Option(text=label, value=value) for value, label in ROLE_LABELS.items()]
    topic_options = [
        # Cut to what one menu shows and holds; `content check` warns of both, and
        # refuses an id too long for an option's value (bot.content.TOPIC_ID_MAX).
        Option(text=clip(t.label, OPTION_TEXT_LIMIT), value=t.id)
        for t in topics[:MAX_TOPIC_OPTIONS]
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


def match_review_modal(proposal: ProposalView) -> View:
    """The coordinator's review: a ticked checkbox per proposed pair, with why they fit.

    Each option names the pair with mentions (checkbox options may be mrkdwn, so
    Slack shows everyone's current name without a users.info per person) and
    gives the reasons as its description, which Slack caps at 75 characters;
    reasons that do not fit are shown in full in a context line under the group.
    """
    proposed = (
        f"*{len(proposal.pairs)} {'pair' if len(proposal.pairs) == 1 else 'pairs'} proposed* "
        f"from {proposal.pool_size} {'person' if proposal.pool_size == 1 else 'people'} in "
        "the pool"
    )
    if proposal.pairs:
        proposed += (
            f" (total fit {proposal.total_score:.2f}). Untick any pair you don't want; approved "
            "pairs get the usual invitation, and everyone unmatched hears kindly that they stay "
            "in the pool."
        )
    else:
        proposed += ". Nobody is told anything."
    blocks: list[Block] = [section(proposed)]
    if proposal.unmatched:
        named = ", ".join(mention(u) for u in proposal.unmatched[:UNMATCHED_NAMED])
        more = len(proposal.unmatched) - UNMATCHED_NAMED
        blocks.append(
            context(f"Unmatched this round: {named}" + (f" and {more} more" if more > 0 else ""))
        )
    size = sum(_bytes(block) for block in blocks)
    shown = 0  # lines in the modal: those after them are left out of the approval
    for start in range(0, len(proposal.pairs), CHECKBOX_LIMIT):
        group = proposal.pairs[start : start + CHECKBOX_LIMIT]
        options, longer = [], []
        for line in group:
            description, complete = _reasons(line.reasons)
            options.append(
                Option(
                    text=MarkdownTextObject(text=_pair_label(line)),
                    value=proposal_line_value(line.index),
                    description=PlainTextObject(text=description),
                )
            )
            if not complete:
                longer.append(line)
        group_blocks: list[Block] = [
            InputBlock(
                block_id=f"{MATCH_GROUP_PREFIX}{start // CHECKBOX_LIMIT}",
                label=f"Pairs {start + 1}–{start + len(group)}",
                optional=True,
                element=CheckboxesElement(
                    action_id=INPUT_ACTION, options=options, initial_options=options
                ),
            )
        ]
        if longer:
            group_blocks.append(
                ContextBlock(
                    elements=[
                        MarkdownTextObject(
                            text=f"{mention(line.mentor_id)} → {mention(line.mentee_id)}: "
                            + escape_mrkdwn("; ".join(line.reasons), limit=REASONS_LIMIT)
                        )
                        for line in longer
                    ]
                )
            )
        size += sum(_bytes(block) for block in group_blocks)
        # Keep one block, and its bytes, for the note below.
        if len(blocks) + len(group_blocks) > VIEW_BLOCK_LIMIT - 1 or size > VIEW_BYTES_BUDGET:
            rest = len(proposal.pairs) - shown
            blocks.append(
                context(
                    f"{rest} more {'pair' if rest == 1 else 'pairs'} than fit here: they are "
                    "left out of this approval and nobody in them is told anything. Approve "
                    "these, then run `/mentor match` again for the rest."
                )
            )
            break
        shown += len(group)
        blocks += group_blocks
    if not proposal.pairs and proposal.both_sides:
        blocks.append(
            section(
                "No pair can be proposed: each mentor here is ruled out for each mentee, by "
                "an exclusion, a past pairing, a recent declined invitation, or a mentor "
                "with no room left."
            )
        )
    elif not proposal.pairs:
        blocks.append(
            section("Nobody can be matched right now: the pool needs mentors and mentees.")
        )
    return View(
        type="modal",
        callback_id=ViewId.MATCH_REVIEW,
        title="Proposed matches",
        submit="Approve" if proposal.pairs else None,
        close="Cancel",
        private_metadata=json.dumps({"proposal_id": proposal.id, "shown": shown}),
        blocks=blocks,
    )


def _bytes(block: Block) -> int:
    return len(json.dumps(block.to_dict()).encode())


def _pair_label(line: ProposedLine) -> str:
    label = f"{mention(line.mentor_id)} → {mention(line.mentee_id)} · fit {line.score:.2f}"
    if len(label) > OPTION_TEXT_LIMIT:  # only with unusually long user ids
        label = f"{mention(line.mentor_id)} → {mention(line.mentee_id)}"
    return label


# The reasons' wording, shortened for an option's one-line description.
_SHORTER = (("Goals mention: ", "Goals: "), (" overlap in working hours", " overlap in hours"))


def _reasons(reasons: Sequence[str]) -> tuple[str, bool]:
    """The reasons as a description within Slack's limit, and whether nothing was cut."""
    full = "; ".join(reasons) or "A fair fit"
    if len(full) <= DESCRIPTION_LIMIT:
        return full, True
    short = []
    for reason in reasons:
        for long, brief in _SHORTER:
            reason = reason.replace(long, brief)
        short.append(reason)
    text = " · ".join(short)
    return clip(text, DESCRIPTION_LIMIT), len(text) <= DESCRIPTION_LIMIT
