"""``/mentor`` and its subcommands."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.commands import (
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
from bot.listeners.common import open_modal_after_ack, report_to, team_of
from bot.listeners.program import handle_program_command
from bot.services import coaching, pairing
from bot.services.overview import overview
from bot.slackapi import fetch_user
from bot.store import repo
from bot.views.coaching import end_confirmation, schedule_modal
from bot.views.common import as_dicts, mention
from bot.views.pairing import help_payload, invitation_blocks, status_blocks


def register(app: AsyncApp) -> None:
    app.command("/mentor")(handle_mentor)


async def handle_mentor(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    command = parse_command(body.get("text"))
    user_id = body["user_id"]
    if isinstance(command, Start):
        pairing.refuse_self(inviter_id=user_id, invitee_id=command.user_id)
    team_id = team_of(body, context)
    if isinstance(command, Help):
        await ack(
            response_type="ephemeral",
            blocks=help_payload(deps.content),
            text="Mentor Bot help",
        )
    elif isinstance(command, Start):
        await ack()
        deps.background.spawn(
            _start_pairing(deps, client, respond, team_id, user_id, command),
            on_error=report_to(deps, client, body, respond),
        )
    elif isinstance(command, Status):
        await _status(ack, deps, team_id, user_id)
    elif isinstance(command, Schedule):
        pair = await deps.db.run(coaching.pair_for_command, team_id=team_id, user_id=user_id)
        await ack()
        opening = open_schedule_modal(deps, client, body["trigger_id"], pair.id)
        open_modal_after_ack(deps, opening, client, body, respond)
    elif isinstance(command, Tips):
        await deps.db.run(
            coaching.set_tips,
            team_id=team_id,
            user_id=user_id,
            enabled=command.enabled,
            minute=command.minute,
            now=deps.clock(),
        )
        await _status(ack, deps, team_id, user_id)
    elif isinstance(command, (Join, Leave, Pause, Match, Exclude, ForgetMe, MyData)):
        await handle_program_command(command, ack, body, respond, client, deps, team_id)
    elif isinstance(command, End):
        pair = await deps.db.run(coaching.pair_for_command, team_id=team_id, user_id=user_id)
        blocks = end_confirmation(
            deps.content, pair_id=pair.id, partner_id=pair.partner_of(user_id)
        )
        await ack(response_type="ephemeral", blocks=as_dicts(blocks), text="End this pairing?")


async def _status(ack: Any, deps: Deps, team_id: str, user_id: str) -> None:
    now = deps.clock()
    await deps.db.run(coaching.resume_if_paused, team_id=team_id, user_id=user_id, now=now)
    data = await deps.db.run(
        overview,
        team_id=team_id,
        user_id=user_id,
        now=now,
        default_tip_minute=deps.default_tip_minute,
    )
    await ack(
        response_type="ephemeral",
        blocks=as_dicts(status_blocks(data)),
        text="Your mentoring status",
    )


async def _start_pairing(
    deps: Deps,
    client: AsyncWebClient,
    respond: Any,
    team_id: str,
    inviter_id: str,
    command: Start,
) -> None:
    # The inviter's zone is only needed when the bot has not met them lately.
    inviter_tz = await deps.db.run(
        repo.recent_tz, team_id=team_id, user_id=inviter_id, now=deps.clock()
    )
    if inviter_tz is None:
        invitee, inviter = await asyncio.gather(
            fetch_user(client, command.user_id), fetch_user(client, inviter_id)
        )
        inviter_tz = inviter.tz
    else:
        invitee = await fetch_user(client, command.user_id)
    pair = await deps.db.run(
        pairing.invite,
        team_id=team_id,
        inviter_id=inviter_id,
        invitee=pairing.Invitee(
            user_id=invitee.user_id,
            name=invitee.name,
            tz=invitee.tz,
            is_bot=invitee.is_bot,
            deleted=invitee.deleted,
        ),
        inviter_role=command.caller_role,
        inviter_tz=inviter_tz,
        now=deps.clock(),
    )
    blocks = invitation_blocks(
        deps.content,
        pair_id=pair.id,
        inviter_id=inviter_id,
        invitee_id=invitee.user_id,
        inviter_role=command.caller_role,
    )
    try:
        sent = await client.chat_postMessage(
            channel=invitee.user_id,
            blocks=as_dicts(blocks),
            text=f"{mention(inviter_id)} invited you to a mentoring pair",
        )
    except Exception:
        await deps.db.run(pairing.withdraw_invitation, team_id=team_id, pair_id=pair.id)
        raise
    await deps.db.run(
        pairing.record_invitation_message,
        team_id=team_id,
        pair_id=pair.id,
        channel_id=sent["channel"],
        ts=sent["ts"],
    )
    invitee_role = "mentee" if command.caller_role == "mentor" else "mentor"
    await respond(
        text=deps.content.message(
            "invite_sent", invitee=mention(invitee.user_id), invitee_role=invitee_role
        ),
        response_type="ephemeral",
    )


async def open_schedule_modal(
    deps: Deps, client: AsyncWebClient, trigger_id: str, pair_id: int
) -> None:
    view = schedule_modal(
        pair_id=pair_id,
        default_minutes=deps.content.settings.default_meeting_minutes,
        now=deps.clock(),
    )
    await client.views_open(trigger_id=trigger_id, view=view.to_dict())
