"""Block Kit for coordinators' program insights and the nudge a coordinator sends a pair.

Pure builders: a ``ProgramReport`` in, ``slack_sdk`` blocks out. The report carries no
one's words, and rating figures arrive already suppressed (``None``) for small groups.
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.ids import Action
from bot.services.insights import ProgramReport
from bot.views.common import context, mention, section

MAX_AT_RISK = 20
BAR_WIDTH = 16
SPARKS = "▁▂▃▄▅▆▇█"
HIDDEN = "fewer than 3 answers — hidden to protect privacy"
NUDGE_TEXT = "It's been a while since your last meeting — want to set the next three?"

TREND_LABELS = (
    ("meetings_held", "Meetings held"),
    ("feedback_answers", "Feedback answers"),
    ("tips_sent", "Tips sent"),
    ("new_pairs", "New pairs"),
)


def percent(share: float | None, hidden: str = "hidden (fewer than 3)") -> str:
    return hidden if share is None else f"{round(share * 100)}%"


def sparkline(values: Sequence[int]) -> str:
    """``▁▂▅▇``: one character per value, scaled to the largest."""
    top = max(values, default=0)
    if top <= 0:
        return SPARKS[0] * len(values)
    return "".join(SPARKS[round(v / top * (len(SPARKS) - 1))] for v in values)


def bar(count: int, top: int, width: int = BAR_WIDTH) -> str:
    if top <= 0 or count <= 0:
        return ""
    return "█" * max(1, round(count / top * width))


def usefulness_chart(report: ProgramReport) -> str:
    """``5 ★ ████████ 12`` lines, best score first; or why it is hidden."""
    distribution = report.usefulness.distribution
    if distribution is None:
        return HIDDEN
    top = max((n for _, n in distribution), default=0)
    return "\n".join(
        f"{score} ★ {bar(n, top).ljust(BAR_WIDTH)} {n}" for score, n in reversed(distribution)
    )


def _field(label: str, value: object) -> MarkdownTextObject:
    return MarkdownTextObject(text=f"*{label}*\n{value}")


def insights_blocks(report: ProgramReport, *, nudge_action_id: str) -> list[Block]:
    """The coordinators' section of App Home: figures, charts, and pairs at risk."""
    meetings, prep, usefulness = report.meetings, report.prep, report.usefulness
    average = "hidden (fewer than 3)" if usefulness.average is None else f"{usefulness.average:.1f}"
    prep_value = (
        "no prep prompts sent yet"
        if prep.rate is None
        else f"{percent(prep.rate)} ({prep.answered} of {prep.prompted})"
    )
    blocks: list[Block] = [
        DividerBlock(),
        HeaderBlock(text="Program insights", block_id="insights_header"),
        SectionBlock(
            block_id="insights_figures",
            fields=[
                _field("Active pairs", report.active_pairs),
                _field("Ended pairs", report.ended_pairs),
                _field("Open invitations", report.open_invitations),
                _field("Meetings ahead", meetings.scheduled),
                _field("Meetings held", meetings.held),
                _field("Didn't happen", meetings.missed),
                _field("No answer yet", meetings.unknown),
                _field("Prep completed", prep_value),
                _field("Average usefulness", average),
                _field("Tips 👍", percent(report.tips.thumbs_up_rate)),
            ],
        ),
        section(
            f"*How useful were meetings?* ({usefulness.answers} answers)\n"
            + (
                f"```{usefulness_chart(report)}```"
                if usefulness.distribution is not None
                else f"_{HIDDEN}_"
            ),
            block_id="insights_usefulness",
        ),
    ]
    if report.weeks:
        first = report.weeks[0].week_start.strftime("%d %b")
        lines = [
            f"{label.ljust(17)} {sparkline(report.series(metric))}  "
            f"{sum(report.series(metric))} total, {report.series(metric)[-1]} this week"
            for metric, label in TREND_LABELS
        ]
        blocks.append(
            section(
                f"*Last {len(report.weeks)} weeks* (from {first}, weeks start Monday UTC)\n"
                "```" + "\n".join(lines) + "```",
                block_id="insights_trend",
            )
        )
    if not report.at_risk:
        blocks.append(context("No pairs look at risk right now."))
        return blocks
    blocks.append(section(f"*Pairs at risk* ({len(report.at_risk)})", block_id="insights_risk"))
    for item in report.at_risk[:MAX_AT_RISK]:
        blocks.append(
            section(
                f"{mention(item.mentor_id)} & {mention(item.mentee_id)}\n"
                + " · ".join(item.reasons),
                block_id=f"insights_risk:{item.pair_id}",
                accessory=ButtonElement(
                    text="Nudge", action_id=nudge_action_id, value=str(item.pair_id)
                ),
            )
        )
    hidden = len(report.at_risk) - MAX_AT_RISK
    if hidden > 0:
        blocks.append(context(f"…and {hidden} more."))
    return blocks


def nudge_message(*, pair_id: int, mentor_id: str, mentee_id: str) -> tuple[str, list[Block]]:
    """The program's friendly DM to a pair's group chat, with the schedule button."""
    text = f"Hi {mention(mentor_id)} and {mention(mentee_id)}! {NUDGE_TEXT}"
    blocks: list[Block] = [
        section(text),
        ActionsBlock(
            block_id=f"nudge:{pair_id}",
            elements=[
                ButtonElement(
                    text="Schedule our next 3 meetings",
                    action_id=Action.OPEN_SCHEDULE,
                    value=str(pair_id),
                    style="primary",
                )
            ],
        ),
    ]
    return text, blocks
