"""Modal submissions: schedule, move a meeting, prep notes, feedback notes."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.meetings import check_length, check_meeting_times
from bot.ids import MEETING_BLOCKS, Block, View
from bot.listeners.actions import update_poll
from bot.listeners.common import (
    input_instant,
    input_text,
    metadata,
    metadata_int,
    post,
    post_kept,
    team_of,
)
from bot.listeners.home import publish_home
from bot.services import coaching
from bot.store import posted
from bot.views.coaching import meeting_changed, prep_shared, schedule_confirmation


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
    meetings = await deps.db.run(
        coaching.schedule_meetings,
        team_id=team_id,
        pair_id=pair_id,
        user_id=user_id,
        times=times,
        minutes=minutes,
        content=deps.content,
        now=now,
    )
    await ack()
    message = schedule_confirmation(
        deps.content, [(m.id, m.number, m.starts_at, m.minutes) for m in meetings]
    )

    async def confirm() -> None:
        channel = await deps.db.run(coaching.pair_channel, team_id=team_id, pair_id=pair_id)
        await post(client, channel or user_id, message)

    deps.background.spawn(confirm())


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
    meeting = await deps.db.run(
        coaching.move_meeting,
        team_id=team_id,
        meeting_id=meeting_id,
        user_id=user_id,
        starts_at=starts_at,
        content=deps.content,
        now=now,
    )
    await ack()
    message = meeting_changed(starts_at=meeting.starts_at, cancelled=False, by=user_id)

    async def announce() -> None:
        channel = await deps.db.run(
            coaching.pair_channel, team_id=team_id, pair_id=meeting.pair_id
        )
        # It names who moved it: kept, so forget-me deletes it with the pair's group DM.
        await post_kept(
            deps,
            client,
            team_id,
            channel or user_id,
            message,
            kind=posted.GROUP_DM,
            about=None if channel else user_id,
        )

    deps.background.spawn(publish_home(deps, client, team_id, user_id))
    deps.background.spawn(announce())


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
    meeting, pair = await deps.db.run(
        coaching.save_prep,
        team_id=team_id,
        meeting_id=meeting_id,
        user_id=user_id,
        focus=focus,
        questions=questions,
        now=deps.clock(),
    )
    await ack()
    message = prep_shared(
        deps.content,
        mentee_id=user_id,
        focus=focus,
        questions=questions,
        starts_at=meeting.starts_at,
    )
    # The mentee's words in the mentor's DM: kept in the ledger, so forget-me deletes them.
    deps.background.spawn(
        post_kept(
            deps, client, team_id, pair.mentor_id, message, kind=posted.PREP_SHARED, about=user_id
        )
    )


async def handle_feedback_details_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    from bot.listeners.actions import parse_feedback_ref

    data = metadata(view)
    pair_id, meeting_id, _ = parse_feedback_ref(str(data.get("ref", "")))
    team_id, user_id = team_of(body, context), body["user"]["id"]
    state = await deps.db.run(
        coaching.record_feedback,
        team_id=team_id,
        pair_id=pair_id,
        meeting_id=meeting_id,
        user_id=user_id,
        now=deps.clock(),
        helped=input_text(view, Block.HELPED),
        change=input_text(view, Block.CHANGE),
    )
    await ack()
    if state.poll is not None:
        deps.background.spawn(update_poll(deps, client, *state.poll, state))
