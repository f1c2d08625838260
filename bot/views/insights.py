"""Block Kit for coordinators' program insights and the nudge a coordinator sends a pair.

Pure builders: a ``ProgramReport`` in, ``slack_sdk`` blocks out. The report carries no
one's words and no rating; its figures arrive already hidden (``None``) where they
would rest on too few people (README, "Privacy").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.buttons import pair_value
from bot.content import Content
from bot.ids import Action
from bot.services.insights import ProgramReport, Split
from bot.services.outcomes import (
    FIRST_MEETING_DAYS,
    GOAL_DAYS,
    STILL_MEETING_DAYS,
    Median,
    OutcomeReport,
)
from bot.views.common import clip, context, mention, section

MAX_AT_RISK = 20
SPARKS = "▁▂▃▄▅▆▇█"
GAP = "·"  # a hidden week in a sparkline
NUDGE_TEXT = "It's been a while since your last meeting — want to set the next three?"

SPLIT_LABELS = (  # metric, label, short label for the trend
    ("met", "Said their meeting happened", "Met"),
    ("useful", "Found meetings useful (4–5 ★)", "Found useful"),
    ("prepared", "Mentees who sent their prep", "Sent prep"),
    ("tips_liked", "Liked the daily tips (👍)", "Liked tips"),
)
TREND_LABELS = (
    ("feedback_people", "Gave feedback"),
    ("tips_sent", "Tips sent"),
    ("new_pairs", "New pairs"),
)


def privacy_note(report: ProgramReport) -> str:
    """The rule, in one line, under the figures it governs."""
    k = report.minimum_people
    return (
        f"Counted in people, not answers: each figure comes from at least {k} people, "
        f"and a split is shown only with at least {k} people on each side. "
        "A week's figures appear once the week is over (Monday–Sunday UTC) and never "
        "change. Your own answers are in none of them."
    )


def hidden_count(minimum: int) -> str:
    return f"hidden (fewer than {minimum} people)"


# A figure that would count the viewer's own answers is hidden for them (README, "Privacy").
HIDDEN_YOURS = "hidden (it would count your own answers)"


def count_text(value: int | None, minimum: int, *, yours: bool = False) -> str:
    if yours:
        return HIDDEN_YOURS
    return hidden_count(minimum) if value is None else f"{value} people"


def split_text(figure: Split, minimum: int, *, yours: bool = False) -> str:
    """``78% (14 of 18 people)``, or why it is hidden."""
    if yours:
        return HIDDEN_YOURS
    if figure.people is None:
        return hidden_count(minimum)
    if figure.yes is None or figure.share is None:
        # Not how many people: beside it, that count spells out how lopsided the
        # group was (14 people, fewer than 3 on one side: at least 12 alike).
        return f"hidden (fewer than {minimum} on one side)"
    return f"{round(figure.share * 100)}% ({figure.yes} of {figure.people} people)"


def sparkline(values: Sequence[int | None], top: int | None = None) -> str:
    """``▁▂·▇``: one character per value, scaled to ``top`` (default: the largest);
    ``·`` where a value is hidden."""
    shown = [v for v in values if v is not None]
    top = max(shown, default=0) if top is None else top
    return "".join(
        GAP
        if v is None
        else SPARKS[0]
        if top <= 0
        else SPARKS[round(min(v, top) / top * (len(SPARKS) - 1))]
        for v in values
    )


def _day(day: date) -> str:
    return f"{day.day} {day:%b}"


# A section's field: at most 2,000 characters (docs.slack.dev/reference/block-kit/blocks/
# section-block). The outcome labels are coordinators' copy, cut like any other.
FIELD_LIMIT = 2000


def _field(label: str, value: object) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(f"*{label}*\n{value}", FIELD_LIMIT))


def _trend(report: ProgramReport) -> str:
    lines = []
    for metric, label in TREND_LABELS:
        values = report.series(metric)
        shown = sum(1 for v in values if v is not None)
        if shown == len(values):
            total = f"{report.total(metric)} in all"
        elif shown == 0:
            total = "hidden every week"
        else:
            weeks = "the week" if shown == 1 else f"the {shown} weeks"
            total = f"{report.total(metric)} in {weeks} shown"
        lines.append(f"{label.ljust(16)} {sparkline(values)}  {total}")
    for metric, _, label in SPLIT_LABELS:
        shares = [None if s.share is None else round(s.share * 100) for s in report.splits(metric)]
        pooled = report.pooled(metric)
        lines.append(
            f"{label.ljust(16)} {sparkline(shares, top=100)}  "
            + (
                "hidden every week"
                if pooled.share is None
                else f"{round(pooled.share * 100)}% ({pooled.yes} of {pooled.people}) "
                "over the weeks shown"
            )
        )
    return "\n".join(lines)


def insights_blocks(
    report: ProgramReport, *, nudge_action_id: str, max_blocks: int | None = None
) -> list[Block]:
    """The coordinators' section of App Home: figures, trends, and pairs at risk (with
    ``max_blocks``, as many of those as fit, and a count of the rest)."""
    k = report.minimum_people
    blocks: list[Block] = [
        DividerBlock(),
        HeaderBlock(text="Program insights", block_id="insights_header"),
        SectionBlock(
            block_id="insights_figures",
            fields=[
                _field("Active pairs", report.active_pairs),
                _field("Ended pairs", report.ended_pairs),
                _field("Open invitations", report.open_invitations),
                _field("Meetings ahead", report.meetings_ahead),
            ],
        ),
    ]
    week = report.last_week
    if week is not None:
        blocks.append(
            SectionBlock(
                block_id="insights_week",
                text=MarkdownTextObject(
                    text=f"*Week of {_day(week.week_start)}* "
                    "(the last closed week, Monday–Sunday UTC)"
                ),
                fields=[
                    _field(
                        "Gave feedback",
                        count_text(week.feedback_people, k, yours="feedback_people" in week.yours),
                    ),
                    *(
                        _field(label, split_text(getattr(week, m), k, yours=m in week.yours))
                        for m, label, _ in SPLIT_LABELS
                    ),
                    _field("Tips sent", week.tips_sent),
                    _field("New pairs", week.new_pairs),
                ],
            )
        )
        first = _day(report.weeks[0].week_start)
        blocks.append(
            section(
                f"*Last {len(report.weeks)} closed weeks* (from {first}; "
                f"{GAP} = hidden that week)\n```{_trend(report)}```",
                block_id="insights_trend",
            )
        )
    blocks.append(context(privacy_note(report)))
    if not report.at_risk:
        blocks.append(context("No pairs look at risk right now."))
        return blocks
    blocks.append(
        section(
            f"*Pairs at risk* ({len(report.at_risk)}): meetings not happening, "
            "never anyone's rating",
            block_id="insights_risk",
        )
    )
    listed = MAX_AT_RISK
    if max_blocks is not None:  # one block a pair, and one for "…and N more"
        listed = max(0, min(listed, max_blocks - len(blocks) - 1))
    for item in report.at_risk[:listed]:
        blocks.append(
            section(
                f"{mention(item.mentor_id)} & {mention(item.mentee_id)}\n"
                + " · ".join(item.reasons),
                block_id=f"insights_risk:{item.pair_id}",
                accessory=ButtonElement(
                    text="Nudge", action_id=nudge_action_id, value=pair_value(item.pair_id)
                ),
            )
        )
    hidden = len(report.at_risk) - listed
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
                    value=pair_value(pair_id),
                    style="primary",
                )
            ],
        ),
    ]
    return text, blocks


# ---------------------------------------------------------------- outcomes


def median_text(content: Content, figure: Median, minimum: int, horizon: int | None = None) -> str:
    """``12.5 days (7 pairs)``, ``more than 30 days (7 pairs)``, or why it is hidden."""
    if figure.days is None or figure.pairs is None:
        return content.message(
            "outcome_hidden_split" if figure.one_side else "outcome_hidden", k=minimum
        )
    if figure.days == float("inf"):
        return content.message("outcome_more_than", days=horizon, pairs=figure.pairs)
    return content.message("outcome_days", days=f"{figure.days:g}", pairs=figure.pairs)


def pairs_split_text(content: Content, figure: Split, minimum: int) -> str:
    """Like ``split_text``, counted in pairs."""
    if figure.people is None or figure.yes is None or figure.share is None:
        return content.message("outcome_hidden_split", k=minimum)
    return content.message(
        "outcome_share", percent=round(figure.share * 100), yes=figure.yes, pairs=figure.people
    )


def outcome_lines(content: Content, report: OutcomeReport) -> list[tuple[str, str]]:
    """(label, value) for each whole-program outcome figure."""
    k = report.minimum
    goals = report.goals
    say = content.message
    lines = [
        (
            say("outcome_first_meeting"),
            median_text(content, report.first_meeting, k, FIRST_MEETING_DAYS),
        ),
        (say("outcome_gap"), median_text(content, report.gap, k)),
        *(
            (
                say("outcome_still_meeting", days=days),
                pairs_split_text(content, report.still_meeting[days], k),
            )
            for days in STILL_MEETING_DAYS
        ),
        (
            say("outcome_goals_set", days=GOAL_DAYS),
            say("outcome_hidden_split" if goals.one_side else "outcome_hidden", k=k)
            if goals.pairs_with_goals is None
            else say("outcome_goals", goals=goals.goals_set, pairs=goals.pairs_with_goals),
        ),
        (
            say("outcome_goals_done"),
            pairs_split_text(content, goals.done, k)
            + (
                ""
                if goals.goals_done is None
                else say("outcome_goals_done_count", goals=goals.goals_done)
            ),
        ),
    ]
    return lines


def outcomes_blocks(content: Content, report: OutcomeReport) -> list[Block]:
    """Coordinators' outcome figures for App Home: pooled over the kickoff months whose
    figures are complete, each resting on at least K pairs (``bot.services.outcomes``)."""
    who = content.message("outcomes_who_viewer" if report.viewer else "outcomes_who_all")
    title = content.message("outcomes_title")
    # The months hidden only for this viewer, among those with figures to show: said
    # under the title, since the figures below then read "hidden" for this reason too.
    yours = [
        f"{cohort.cohort:%b %Y}"
        for cohort in report.cohorts
        if cohort.yours and cohort.first_meeting is not None
    ]
    if yours:
        months = ", ".join(yours[-12:]) + (", and earlier months" if len(yours) > 12 else "")
        title += f"\n_Hidden for you, as they count a pairing of your own: {months}._"
    return [
        SectionBlock(
            block_id="insights_outcomes",
            text=MarkdownTextObject(text=clip(title)),
            fields=[_field(label, value) for label, value in outcome_lines(content, report)],
        ),
        context(content.message("outcomes_rule", k=report.minimum, who=who)),
    ]
