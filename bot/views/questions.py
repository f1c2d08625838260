"""Block Kit for the question parking lot: the confirmation of ``/mentor ask`` and the
parked questions in a prep prompt. A question is someone's own words, shown to their
partner: always escaped."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.content import Content
from bot.domain.questions import PrepQuestions
from bot.views.coaching import Outgoing
from bot.views.common import (
    SECTION_LIMIT,
    context,
    escape_mrkdwn,
    fitting,
    mention,
    packed,
    section,
    typed_mentions,
)

# One question as shown, escaped: 500 typed characters fit unless most are & < >.
QUESTION_SHOWN = 1000
# The parked questions' share of a prep prompt's text (``MESSAGE_TEXT_BUDGET`` in all).
QUESTIONS_BUDGET = 4_000


def question_parked(content: Content) -> Outgoing:
    """The ephemeral answer to ``/mentor ask``: it does not repeat the question."""
    text = content.message("question_parked")
    return Outgoing(text=text, blocks=[section(text)])


def prep_question_blocks(content: Content, prep: PrepQuestions) -> list[Block]:
    """The parked questions for a prep prompt (both members get them), oldest first,
    each with who parked it; nothing when none are waiting. Lines are packed into as
    few sections as Slack's 3,000 characters allow."""
    if not prep.shown:
        return []
    lines = [
        f"• {typed_mentions(escape_mrkdwn(q.text, QUESTION_SHOWN))} ({mention(q.asked_by)})"
        for q in prep.shown
    ]
    heading = content.message("prep_parked_questions", questions="")
    # The prompt around them (goals, the practice, buttons) needs the rest of what one
    # message's text may hold; questions past this wait for the next prompt's list.
    shown = fitting(lines, QUESTIONS_BUDGET)
    texts = packed(lines[:shown], first_room=SECTION_LIMIT - len(heading))
    blocks: list[Block] = [
        section(content.message("prep_parked_questions", questions=text) if n == 0 else text)
        for n, text in enumerate(texts)
    ]
    more = prep.more + len(lines) - shown
    if more:
        blocks.append(context(content.message("prep_parked_more", count=more)))
    return blocks
