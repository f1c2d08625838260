"""The App Home tab."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock, HeaderBlock
from slack_sdk.models.views import View

from bot.buttons import meeting_value, pair_value, tips_toggle_value
from bot.content import Content
from bot.domain.goals import GoalState
from bot.ids import Action
from bot.services.overview import Overview, PairLine
from bot.services.program import CoordinatorOverview
from bot.views.coaching import meeting_line
from bot.views.common import context, mention, section, slack_date
from bot.views.goals import goals_home_blocks
from bot.views.insights import insights_blocks, outcomes_blocks
from bot.views.pairing import pair_summary, pool_summary, tips_summary

HOME_BLOCK_LIMIT = 100
# A coordinator's insights keep at least this many blocks, however many pairs are theirs.
INSIGHTS_KEPT = 12


def home_view(
    overview: Overview,
    *,
    program: CoordinatorOverview | None = None,
    notice: str | None = None,
    goals: Mapping[int, Sequence[GoalState]] | None = None,
    content: Content | None = None,
) -> View:
    """``goals`` (with ``content``): each active pair's goals, compact."""
    blocks: list[Block] = [HeaderBlock(text="Mentor Bot")]
    if notice:
        blocks.append(section(f":warning: {notice}"))
    if not overview.pairs:
        blocks.append(
            section(
                "Mentoring pairs a colleague who has walked the path with one who is starting "
                "out. Invite someone with `/mentor start @person` (you mentor them) or "
                "`/mentor start @person as mentee`."
            )
        )
    pairs_at = len(blocks)  # filled below, once what follows them is known
    if overview.pending:
        blocks += [DividerBlock(), section("*Waiting for you*")]
        for prompt in overview.pending:
            with_whom = f" with {mention(prompt.partner_id)}" if prompt.partner_id else ""
            meeting = f"the meeting{with_whom} {slack_date(prompt.starts_at)}"
            if prompt.kind == "prep":
                blocks.append(
                    section(
                        f"• Prep for {meeting}",
                        accessory=ButtonElement(
                            text="Add focus and questions",
                            action_id=Action.OPEN_PREP,
                            value=meeting_value(prompt.meeting_id),
                        ),
                    )
                )
            else:
                blocks.append(section(f"• Feedback on {meeting}: the poll is in our DM"))
    blocks += [
        DividerBlock(),
        section(
            "*Daily tips*\n" + tips_summary(overview),
            accessory=ButtonElement(
                text="Turn tips off" if overview.tips_enabled else "Turn tips on",
                action_id=Action.HOME_TIPS_TOGGLE,
                value=tips_toggle_value(turn_on=not overview.tips_enabled),
            ),
        ),
    ]
    # The pool: where they stand in it, and the sign-up (before the coordinators' part).
    join = ButtonElement(
        text="Edit my sign-up" if overview.pool_role else "Join the mentoring pool",
        action_id=Action.OPEN_JOIN,
    )
    if overview.pool_role is not None:
        paused = overview.paused_until is not None
        summary = pool_summary(overview.pool_role, open_roles=overview.pool_open, paused=paused)
        blocks.append(section(summary, accessory=join))
    else:
        blocks.append(ActionsBlock(block_id="home_pool", elements=[join]))
    if program is not None:
        figures = program.figures
        blocks += [
            DividerBlock(),
            section(
                # Pairs and invitations are counted under "Program insights" below.
                "*Program (coordinators)*\n"
                f"Meetings in the next 7 days: *{figures.meetings_next_7_days}*  ·  "
                f"Undelivered messages: *{figures.failed_messages}*"
            ),
        ]
    footer = context(f"Signed in as {mention(overview.user_id)} · `/mentor help` for commands")
    outcomes: list[Block] = []
    insights: list[Block] = []
    if program is not None:
        outcomes = outcomes_blocks(content, program.outcomes) if content is not None else []
        insights = insights_blocks(program.report, nudge_action_id=Action.NUDGE_PAIR)
    # Each pair whole, as many as leave room for the tips, the pool and the program (its
    # chart button, outcomes and the head of its insights): a person with dozens of
    # pairs still finds every control.
    reserved = 1 + len(outcomes) + min(len(insights), INSIGHTS_KEPT) if program else 0
    several = len(overview.active) > 1
    groups = [_pair_blocks(line, goals, content, several=several) for line in overview.pairs]
    blocks[pairs_at:pairs_at] = _whole_groups(
        groups, room=HOME_BLOCK_LIMIT - 1 - len(blocks) - reserved
    )
    if program is not None:
        # What is left once the footer, the chart button and the outcomes have theirs.
        room = HOME_BLOCK_LIMIT - 1 - len(blocks) - 1 - len(outcomes)
        if len(insights) > room:
            insights = insights_blocks(
                program.report, nudge_action_id=Action.NUDGE_PAIR, max_blocks=room
            )
        blocks += insights
        blocks.append(
            ActionsBlock(
                block_id="insights_chart",
                elements=[
                    ButtonElement(text="📈 Send me the weekly chart", action_id=Action.SEND_CHART)
                ],
            )
        )
        blocks += outcomes
    return View(type="home", blocks=[*blocks[: HOME_BLOCK_LIMIT - 1], footer])


def _pair_blocks(
    line: PairLine,
    goals: Mapping[int, Sequence[GoalState]] | None,
    content: Content | None,
    *,
    several: bool = False,
) -> list[Block]:
    """One pair on Home: its summary, then its buttons, meetings and goals."""
    blocks: list[Block] = []
    listed = line.status == "active"  # its meetings follow, each with its ⋯ menu
    blocks.append(section(pair_summary(line, answer_here=True, several=several, listed=listed)))
    if line.status == "invited" and not line.invited_by_me:
        blocks.append(
            ActionsBlock(
                block_id=f"home_invite:{line.pair_id}",
                elements=[
                    ButtonElement(
                        text="Accept",
                        action_id=Action.ACCEPT_INVITE,
                        value=pair_value(line.pair_id),
                        style="primary",
                    ),
                    ButtonElement(
                        text="Decline",
                        action_id=Action.DECLINE_INVITE,
                        value=pair_value(line.pair_id),
                    ),
                ],
            )
        )
    elif line.status == "active":
        for meeting in line.next_meetings:
            blocks += meeting_line(
                meeting_id=meeting.meeting_id,
                number=meeting.number,
                starts_at=meeting.starts_at,
                minutes=meeting.minutes,
            )
        blocks.append(
            ActionsBlock(
                block_id=f"home_pair:{line.pair_id}",
                elements=[
                    ButtonElement(
                        text="Schedule next 3 meetings",
                        action_id=Action.OPEN_SCHEDULE,
                        value=pair_value(line.pair_id),
                    )
                ],
            )
        )
        if goals is not None and content is not None:
            blocks += goals_home_blocks(
                content, pair_id=line.pair_id, goals=goals.get(line.pair_id, ())
            )
    return blocks


def _whole_groups(groups: Sequence[list[Block]], *, room: int) -> list[Block]:
    """As many whole groups as ``room`` holds, and a note of how many did not fit."""
    if sum(len(group) for group in groups) <= room:
        return [block for group in groups for block in group]
    shown: list[Block] = []
    count = 0
    while len(shown) + len(groups[count]) <= room - 1:  # the note takes one
        shown += groups[count]
        count += 1
    return [*shown, context(f"…and {len(groups) - count} more. `/mentor status` lists them all.")]
