"""Buttons in messages and in App Home."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.errors import UserError
from bot.ids import Action
from bot.listeners.common import (
    button_int,
    keep_posted,
    message_ref,
    open_modal_after_ack,
    post_kept,
    report_to,
    surface_of,
    team_of,
    tell,
)
from bot.listeners.home import publish_home
from bot.services import coaching, pairing
from bot.store import posted
from bot.views.coaching import (
    feedback_details_modal,
    feedback_poll,
    meeting_changed,
    move_meeting_modal,
    pair_ended,
    partner_gave_feedback,
    prep_modal,
    reschedule_prompt,
    tip_message,
)
from bot.views.common import as_dicts, mention
from bot.views.pairing import invitation_answered_blocks, kickoff_blocks


def register(app: AsyncApp) -> None:
    app.action(Action.ACCEPT_INVITE)(handle_invitation_answer)
    app.action(Action.DECLINE_INVITE)(handle_invitation_answer)
    register_coaching(app)


def pair_id_of(action: dict[str, Any]) -> int:
    """A button names its pair in its value."""
    return button_int(action.get("value", ""))


async def handle_invitation_answer(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    await ack()
    accept = action["action_id"] == Action.ACCEPT_INVITE
    deps.background.spawn(
        _answer(
            deps, client, team_of(body, context), body["user"]["id"], pair_id_of(action), accept
        ),
        on_error=report_to(deps, client, body, respond),
    )


async def _answer(
    deps: Deps, client: AsyncWebClient, team_id: str, user_id: str, pair_id: int, accept: bool
) -> None:
    pair = await deps.db.run(
        pairing.answer_invitation,
        team_id=team_id,
        pair_id=pair_id,
        user_id=user_id,
        accept=accept,
        now=deps.clock(),
    )
    if accept:
        await _kick_off(deps, client, team_id, pair)
    await _close_invitation(deps, client, pair, accepted=accept)


async def _kick_off(deps: Deps, client: AsyncWebClient, team_id: str, pair: Any) -> None:
    """The pair's group DM and its first message: who is who, the agenda, scheduling."""
    opened = await client.conversations_open(users=f"{pair.mentor_id},{pair.mentee_id}")
    channel_id = opened["channel"]["id"]
    await deps.db.run(
        pairing.set_pair_channel, team_id=team_id, pair_id=pair.id, channel_id=channel_id
    )
    sent = await client.chat_postMessage(
        channel=channel_id,
        blocks=as_dicts(
            kickoff_blocks(
                deps.content, pair_id=pair.id, mentor_id=pair.mentor_id, mentee_id=pair.mentee_id
            )
        ),
        text=f"Welcome {mention(pair.mentor_id)} and {mention(pair.mentee_id)}: "
        "your mentoring pair starts here",
    )
    # It names both: kept, so forget-me deletes it (found through the pair's channel).
    await keep_posted(
        deps, team_id, channel=sent["channel"], ts=sent["ts"], kind=posted.GROUP_DM, about=None
    )


async def _close_invitation(
    deps: Deps, client: AsyncWebClient, pair: Any, *, accepted: bool
) -> None:
    """Replace the buttons with the answer, and tell the inviter."""
    if pair.invite_channel_id and pair.invite_ts:
        await client.chat_update(
            channel=pair.invite_channel_id,
            ts=pair.invite_ts,
            blocks=as_dicts(
                invitation_answered_blocks(inviter_id=pair.inviter_id, accepted=accepted)
            ),
            text="Invitation answered",
        )
    invitee_id = pair.partner_of(pair.inviter_id)
    key = "invite_accepted" if accepted else "invite_declined"
    sent = await client.chat_postMessage(
        channel=pair.inviter_id, text=deps.content.message(key, invitee=mention(invitee_id))
    )
    # It names the invitee in the inviter's DM: kept, so forget-me deletes it.
    await keep_posted(
        deps,
        pair.team_id,
        channel=sent["channel"],
        ts=sent["ts"],
        kind=posted.NAMES_THEM,
        about=invitee_id,
    )


# ---------------------------------------------------------------- coaching loop


def register_coaching(app: AsyncApp) -> None:
    app.action(Action.OPEN_SCHEDULE)(handle_open_schedule)
    app.action(re.compile(f"^{Action.MOVE_MEETING}:"))(handle_meeting_menu)
    app.action(Action.OPEN_PREP)(handle_open_prep)
    app.action(re.compile(f"^{Action.FEEDBACK_HAPPENED}:"))(handle_feedback_choice)
    app.action(re.compile(f"^{Action.FEEDBACK_USEFULNESS}:"))(handle_feedback_choice)
    app.action(Action.OPEN_FEEDBACK_DETAILS)(handle_open_feedback_details)
    app.action(Action.TIP_UP)(handle_tip_vote)
    app.action(Action.TIP_DOWN)(handle_tip_vote)
    app.action(Action.END_CONFIRM)(handle_end_confirm)
    app.action(Action.END_CANCEL)(handle_end_cancel)
    app.action(Action.HOME_TIPS_TOGGLE)(handle_home_tips_toggle)


async def handle_open_schedule(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    pair = await deps.db.run(
        pairing.member_pair,
        team_id=team_of(body, context),
        pair_id=pair_id_of(action),
        user_id=body["user"]["id"],
    )
    await ack()
    from bot.listeners.commands import open_schedule_modal

    open_modal_after_ack(
        deps, open_schedule_modal(deps, client, body["trigger_id"], pair.id), client, body, respond
    )

async def handle_meeting_menu(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    value = (action.get("selected_option") or {}).get("value") or action.get("value") or ""
    verb, _, meeting_text = value.partition(":")
    meeting_id = button_int(meeting_text)
    team_id, user_id = team_of(body, context), body["user"]["id"]
    if verb in {"move", "again"}:
        meeting, _pair = await deps.db.run(
            coaching.meeting_for_member, team_id=team_id, meeting_id=meeting_id, user_id=user_id
        )
        await ack()
        view = move_meeting_modal(meeting_id=meeting.id, starts_at=meeting.starts_at)
        opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
        open_modal_after_ack(deps, opening, client, body, respond)
    elif verb == "cancel":
        meeting = await deps.db.run(
            coaching.cancel_meeting,
            team_id=team_id,
            meeting_id=meeting_id,
            user_id=user_id,
            content=deps.content,
            now=deps.clock(),
        )
        await ack()

        async def after_cancel() -> None:
            # Home first shows the meeting gone; a failure after that is published on top.
            if surface_of(body) == "home":
                await publish_home(deps, client, team_id, user_id)
            await _announce_meeting_change(
                deps, client, team_id, meeting.pair_id, meeting.starts_at, True, user_id
            )

        deps.background.spawn(after_cancel(), on_error=report_to(deps, client, body, respond))
    else:
        raise UserError("That menu choice is not one of mine, so I left everything as it was.")


async def _announce_meeting_change(
    deps: Deps,
    client: AsyncWebClient,
    team_id: str,
    pair_id: int,
    starts_at: Any,
    cancelled: bool,
    user_id: str,
) -> None:
    pair = await deps.db.run(pairing.member_pair, team_id=team_id, pair_id=pair_id, user_id=user_id)
    message = meeting_changed(starts_at=starts_at, cancelled=cancelled, by=user_id)
    await post_kept(
        deps,
        client,
        team_id,
        pair.channel_id or user_id,
        message,
        kind=posted.GROUP_DM,
        about=None if pair.channel_id else user_id,
    )


async def handle_open_prep(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    meeting, pair = await deps.db.run(
        coaching.meeting_for_member,
        team_id=team_of(body, context),
        meeting_id=button_int(action.get("value", "")),
        user_id=body["user"]["id"],
    )
    if body["user"]["id"] != pair.mentee_id:
        raise UserError("Prep notes come from the mentee; your mentee's notes will reach you here.")
    await ack()
    view = prep_modal(meeting_id=meeting.id, starts_at=meeting.starts_at)
    opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
    open_modal_after_ack(deps, opening, client, body, respond)


def parse_feedback_ref(value: str) -> tuple[int, int | None, str]:
    """``pair:meeting[:choice]`` from a poll button; meeting 0 is the closing poll."""
    parts = value.split(":")
    if len(parts) < 2:
        raise UserError("That poll is not one of mine any more, so I left everything as it was.")
    pair_id, meeting_id = button_int(parts[0]), button_int(parts[1])
    return pair_id, meeting_id or None, parts[2] if len(parts) > 2 else ""


async def handle_feedback_choice(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    pair_id, meeting_id, choice = parse_feedback_ref(action.get("value", ""))
    kwargs: dict[str, Any] = {}
    if action["action_id"].startswith(Action.FEEDBACK_HAPPENED):
        kwargs["happened"] = choice
    else:
        kwargs["usefulness"] = button_int(choice)
    team_id, user_id = team_of(body, context), body["user"]["id"]
    state = await deps.db.run(
        coaching.record_feedback,
        team_id=team_id,
        pair_id=pair_id,
        meeting_id=meeting_id,
        user_id=user_id,
        now=deps.clock(),
        **kwargs,
    )
    await ack()
    deps.background.spawn(
        _after_feedback(deps, client, body, state, kwargs.get("happened")),
        on_error=report_to(deps, client, body, respond),
    )


async def _after_feedback(
    deps: Deps,
    client: AsyncWebClient,
    body: dict[str, Any],
    state: coaching.FeedbackState,
    happened: str | None,
) -> None:
    channel, ts = message_ref(body)
    if channel and ts:
        await update_poll(deps, client, channel, ts, state)
    if state.first_answer and state.channel_id:
        notice = partner_gave_feedback(deps.content, user_id=state.user_id)
        await post_kept(
            deps,
            client,
            team_of(body, {}),
            state.partner_id,
            notice,
            kind=posted.NAMES_THEM,
            about=state.user_id,
        )
    if happened in {"rescheduled", "no"} and state.meeting_id is not None:
        prompt = reschedule_prompt(deps.content, meeting_id=state.meeting_id)
        await post_kept(
            deps,
            client,
            team_of(body, {}),
            state.user_id,
            prompt,
            kind=posted.DM,
            about=state.user_id,
        )


async def update_poll(
    deps: Deps, client: AsyncWebClient, channel: str, ts: str, state: coaching.FeedbackState
) -> None:
    """Rebuild the poll so it shows what the person chose (SPEC: a press updates in place)."""
    poll = feedback_poll(
        deps.content,
        pair_id=state.pair_id,
        meeting_id=state.meeting_id,
        partner_id=state.partner_id,
        starts_at=state.starts_at,
        happened=state.happened,
        usefulness=state.usefulness,
        has_details=state.has_details,
        closing=state.meeting_id is None,
    )
    await client.chat_update(channel=channel, ts=ts, text=poll.text, blocks=as_dicts(poll.blocks))


async def handle_open_feedback_details(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    pair_id, meeting_id, _ = parse_feedback_ref(action.get("value", ""))
    team_id, user_id = team_of(body, context), body["user"]["id"]
    details = await deps.db.run(
        coaching.feedback_details,
        team_id=team_id,
        pair_id=pair_id,
        meeting_id=meeting_id,
        user_id=user_id,
    )
    await ack()
    view = feedback_details_modal(
        ref=f"{pair_id}:{meeting_id or 0}", helped=details[0], change=details[1]
    )
    opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
    open_modal_after_ack(deps, opening, client, body, respond)


async def handle_tip_vote(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    vote = 1 if action["action_id"] == Action.TIP_UP else -1
    message_id = button_int(action.get("value", ""))
    tip_id, role = await deps.db.run(
        coaching.record_tip_vote,
        team_id=team_of(body, context),
        user_id=body["user"]["id"],
        message_id=message_id,
        vote=vote,
        now=deps.clock(),
    )
    await ack()
    tip = tip_message(
        deps.content,
        message_id=message_id,
        practice=deps.content.practice(tip_id),
        role=role,
        vote=vote,
    )
    channel, ts = message_ref(body)
    if channel and ts:
        deps.background.spawn(
            client.chat_update(channel=channel, ts=ts, text=tip.text, blocks=as_dicts(tip.blocks)),
            on_error=report_to(deps, client, body, respond),
        )


async def handle_end_confirm(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    team_id, user_id = team_of(body, context), body["user"]["id"]
    pair = await deps.db.run(
        coaching.end_pair,
        team_id=team_id,
        pair_id=pair_id_of(action),
        user_id=user_id,
        now=deps.clock(),
    )
    await ack()
    deps.wake_scheduler()  # the closing polls are due now
    ended = pair_ended(deps.content, mentor_id=pair.mentor_id, mentee_id=pair.mentee_id)

    async def announce() -> None:
        if respond is not None:  # the confirmation is an ephemeral message with a response_url
            await respond(delete_original=True)
        await post_kept(
            deps,
            client,
            team_id,
            pair.channel_id or user_id,
            ended,
            kind=posted.GROUP_DM,
            about=None if pair.channel_id else user_id,
        )

    deps.background.spawn(announce(), on_error=report_to(deps, client, body, respond))


async def handle_end_cancel(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, deps: Deps
) -> None:
    await ack()
    deps.background.spawn(never_mind(deps, client, body, respond))


async def never_mind(
    deps: Deps, client: AsyncWebClient, body: dict[str, Any], respond: Any
) -> None:
    """A Cancel button: its ephemeral question goes away; pressed anywhere else (no
    response_url), the person is told that nothing changed."""
    if respond is not None:
        await respond(delete_original=True)
    else:
        await tell(deps, client, body, None, "Okay, I left everything as it was.")


async def handle_home_tips_toggle(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    team_id, user_id = team_of(body, context), body["user"]["id"]
    await deps.db.run(
        coaching.set_tips,
        team_id=team_id,
        user_id=user_id,
        enabled=action.get("value") == "on",
        minute=None,
        now=deps.clock(),
    )
    await ack()
    deps.background.spawn(publish_home(deps, client, team_id, user_id))
