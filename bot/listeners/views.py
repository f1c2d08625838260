"""Modal submissions: schedule, move a meeting, prep notes, feedback notes.

Errors in the form are answered in the form (``response_action: errors``); a valid
form runs its use case (one transaction with its messages as outbox rows) before
the ack, and the sender delivers them after.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import parse_poll
from bot.deps import Deps
from bot.domain.errors import TimesTaken
from bot.domain.meetings import check_length, check_meeting_times
from bot.ids import MEETING_BLOCKS, Block, View
from bot.listeners.common import (
    commit_then_ack,
    input_instant,
    input_text,
    metadata,
    metadata_int,
    team_of,
)
from bot.listeners.home import home_of
from bot.services import answers, coaching


def register(app: AsyncApp) -> None:
    app.view(View.SCHEDULE)(handle_schedule_submit)
    app.view(View.MOVE_MEETING)(handle_move_submit)
    app.view(View.PREP)(handle_prep_submit)
    app.view(View.FEEDBACK_DETAILS)(handle_feedback_details_submit)


async def handle_schedule_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    pair_id = metadata_int(view, "pair_id")
    now = deps.clock()
    times = [input_instant(view, block) for block in MEETING_BLOCKS]
    errors = {
        MEETING_BLOCKS[i]: problem for i, problem in check_meeting_times(times, now=now).items()
    }
    minutes, length_problem = check_length(
        input_text(view, Block.LENGTH), default=deps.content.settings.default_meeting_minutes
    )
    if length_problem:
        errors[Block.LENGTH] = length_problem
    if errors:
        await ack(response_action="errors", errors={str(k): v for k, v in errors.items()})
        return
    team_id, user_id = team_of(body, context), body["user"]["id"]
    # The meetings, their prompts and the confirmation in the pair's group DM: one
    # transaction, committed before Slack has its answer.
    try:
        await commit_then_ack(
            deps,
            ack,
            coaching.schedule_meetings,
            team_id=team_id,
            pair_id=pair_id,
            user_id=user_id,
            times=times,
            minutes=minutes,
            content=deps.content,
            now=now,
        )
    except TimesTaken as taken:
        errors = {str(MEETING_BLOCKS[i]): problem for i, problem in taken.problems.items()}
        await ack(response_action="errors", errors=errors)


async def handle_move_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    meeting_id = metadata_int(view, "meeting_id")
    now = deps.clock()
    starts_at = input_instant(view, Block.MEETING_TIME)
    problems = check_meeting_times([starts_at], now=now)
    if problems:
        await ack(response_action="errors", errors={Block.MEETING_TIME.value: problems[0]})
        return
    team_id, user_id = team_of(body, context), body["user"]["id"]
    # Moved, and the mover's Home refreshed to show the new time: one transaction.
    try:
        await commit_then_ack(
            deps,
            ack,
            answers.and_refresh_home,
            coaching.move_meeting,
            home=home_of(deps, team_id, user_id),
            team_id=team_id,
            meeting_id=meeting_id,
            user_id=user_id,
            starts_at=starts_at,
            content=deps.content,
            now=now,
        )
    except TimesTaken as taken:
        await ack(response_action="errors", errors={Block.MEETING_TIME.value: str(taken)})


async def handle_prep_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    meeting_id = metadata_int(view, "meeting_id")
    focus, questions = input_text(view, Block.FOCUS), input_text(view, Block.QUESTIONS)
    if not focus:
        await ack(
            response_action="errors",
            errors={Block.FOCUS.value: "Name one area you'd like to focus on."},
        )
        return
    team_id, user_id = team_of(body, context), body["user"]["id"]
    # Saved, and shared with the mentor (an outbox row), in one transaction.
    await commit_then_ack(
        deps,
        ack,
        coaching.save_prep,
        team_id=team_id,
        meeting_id=meeting_id,
        user_id=user_id,
        focus=focus,
        questions=questions,
        now=deps.clock(),
    )


async def handle_feedback_details_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    ref = parse_poll(metadata(view).get("ref"))
    # The notes, and the poll (looked up on the server) updated to say they were added.
    await commit_then_ack(
        deps,
        ack,
        coaching.record_feedback,
        team_id=team_of(body, context),
        pair_id=ref.pair_id,
        meeting_id=ref.meeting_id,
        user_id=body["user"]["id"],
        now=deps.clock(),
        helped=input_text(view, Block.HELPED),
        change=input_text(view, Block.CHANGE),
    )
