"""``/mentor`` and its subcommands."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.commands import (
    Ask,
    End,
    Exclude,
    ForgetMe,
    Help,
    Join,
    Leave,
    Match,
    MyData,
    Pause,
    Schedule,
    Start,
    Status,
    Tips,
    parse_command,
)
from bot.listeners.common import commit_then_ack, open_modal_after_ack, team_of
from bot.listeners.program import handle_program_command
from bot.services import calendar, coaching, goals, pairing, tips
from bot.services.overview import overview
from bot.views.calendar import slot_blocks
from bot.views.coaching import end_confirmation, schedule_modal
from bot.views.common import as_dicts
from bot.views.pairing import help_payload, status_blocks
from bot.views.questions import question_parked


def register(app: AsyncApp) -> None:
    app.command("/mentor")(handle_mentor)


async def handle_mentor(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    command = parse_command(body.get("text"))
    user_id = body["user_id"]
    team_id = team_of(body, context)
    if isinstance(command, Help):
        await ack(
            response_type="ephemeral",
            blocks=help_payload(deps.content),
            text="Mentor Bot help",
        )
    elif isinstance(command, Start):
        # One transaction: the pair, invited, and its invitation row. What only Slack can
        # tell (is the invitee a person, still active?) its delivery checks; the answer
        # follows on this command's response_url.
        await commit_then_ack(
            deps,
            ack,
            pairing.invite,
            team_id=team_id,
            inviter_id=user_id,
            invitee_id=command.user_id,
            inviter_role=command.caller_role,
            now=deps.clock(),
            response_url=body.get("response_url"),
        )
    elif isinstance(command, Status):
        await _status(ack, deps, team_id, user_id)
    elif isinstance(command, Schedule):
        pair = await _pair_named(deps, team_id, user_id, "schedule", command.partner)
        await ack()
        opening = open_schedule_modal(deps, client, body["trigger_id"], pair.id, team_id)
        open_modal_after_ack(deps, opening, client, body, respond)
    elif isinstance(command, Tips):
        await deps.db.run(
            tips.set_tips,
            team_id=team_id,
            user_id=user_id,
            enabled=command.enabled,
            minute=command.minute,
            now=deps.clock(),
        )
        await _status(ack, deps, team_id, user_id)
    elif isinstance(command, (Join, Leave, Pause, Match, Exclude, ForgetMe, MyData)):
        await handle_program_command(command, ack, body, respond, client, deps, team_id)
    elif isinstance(command, Ask):
        await _ask(ack, deps, team_id, user_id, command)
    elif isinstance(command, End):
        # An invitation still unanswered is withdrawn at once (nothing to confirm: the
        # inviter may invite again); otherwise `end` means an active pair.
        withdrawn = await deps.db.run(
            pairing.withdraw_sent_invitation,
            team_id=team_id,
            inviter_id=user_id,
            invitee_id=command.partner,
            now=deps.clock(),
        )
        if withdrawn is not None:
            await ack(
                response_type="ephemeral",
                text=f"I've withdrawn your invitation to <@{withdrawn}>; "
                "their invitation now says so.",
            )
            deps.wake_scheduler()
            return
        pair = await _pair_named(deps, team_id, user_id, "end", command.partner)
        blocks = end_confirmation(
            deps.content, pair_id=pair.id, partner_id=pair.partner_of(user_id)
        )
        await ack(response_type="ephemeral", blocks=as_dicts(blocks), text="End this pairing?")


async def _pair_named(
    deps: Deps, team_id: str, user_id: str, verb: str, partner_id: str | None
) -> Any:
    """The pair `/mentor <verb> [@partner]` means (refused kindly if none or unclear)."""
    return await deps.db.run(
        coaching.pair_for_command,
        team_id=team_id,
        user_id=user_id,
        verb=verb,
        partner_id=partner_id,
    )


async def _ask(ack: Any, deps: Deps, team_id: str, user_id: str, command: Ask) -> None:
    """``/mentor ask``: parked for the pair's next meeting, or refused (empty, too long,
    too many waiting, which pair?) with nothing saved; the answer never repeats it."""
    await deps.db.run(
        goals.ask,
        team_id=team_id,
        user_id=user_id,
        question=command.question,
        partner_id=command.partner,
        rest=command.rest,
        now=deps.clock(),
    )
    parked = question_parked(deps.content)
    await ack(response_type="ephemeral", blocks=as_dicts(parked.blocks), text=parked.text)


async def _status(ack: Any, deps: Deps, team_id: str, user_id: str) -> None:
    now = deps.clock()
    await deps.db.run(coaching.resume_if_paused, team_id=team_id, user_id=user_id, now=now)
    data = await deps.db.run(
        overview,
        team_id=team_id,
        user_id=user_id,
        now=now,
        default_tip_minute=deps.default_tip_minute,
        tip_days=deps.content.settings.tip_days,
    )
    await ack(
        response_type="ephemeral",
        blocks=as_dicts(status_blocks(data)),
        text="Your mentoring status",
    )


async def open_schedule_modal(
    deps: Deps, client: AsyncWebClient, trigger_id: str, pair_id: int, team_id: str
) -> None:
    """After the ack: three times that fit both members (read from the store, computed in
    ``bot.domain.slots``), shown and filled in, then ``views.open``."""
    now = deps.clock()
    minutes = deps.content.settings.default_meeting_minutes
    suggested = await deps.db.run(
        calendar.suggested_times, team_id=team_id, pair_id=pair_id, minutes=minutes, now=now
    )
    view = schedule_modal(
        pair_id=pair_id,
        default_minutes=minutes,
        now=now,
        suggested=suggested,
        notes=slot_blocks(deps.content, suggested),
    )
    await client.views_open(trigger_id=trigger_id, view=view.to_dict())
