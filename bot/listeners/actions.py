"""Buttons in messages and in App Home.

A press that changes something runs its use case (one transaction: the change and
the messages it causes, as outbox rows), acks, and wakes the sender. Only opening
a modal (its trigger_id lasts 3 s) and refreshing App Home run after the ack.
"""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import (
    button_int,
    parse_calendar_link,
    parse_meeting,
    parse_meeting_choice,
    parse_pair,
    parse_poll,
    parse_tip,
    parse_tips_toggle,
)
from bot.deps import Deps
from bot.ids import Action
from bot.listeners.common import (
    commit_then_ack,
    open_modal_after_ack,
    surface_of,
    team_of,
)
from bot.listeners.home import home_of
from bot.services import answers, calendar, coaching, pairing, tips
from bot.views.coaching import feedback_details_modal, move_meeting_modal, prep_modal


def register(app: AsyncApp) -> None:
    app.action(Action.ACCEPT_INVITE)(handle_invitation_answer)
    app.action(Action.DECLINE_INVITE)(handle_invitation_answer)
    register_coaching(app)


async def handle_invitation_answer(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    context: Any,
    deps: Deps,
) -> None:
    """Accept / Decline, in the invitation DM or on App Home: one transaction (the
    answer, the invitation closed in place, the inviter told, the kickoff planned, and
    the Home it was pressed in refreshed), then the ack, then the sender."""
    team_id, user_id = team_of(body, context), body["user"]["id"]
    await commit_then_ack(
        deps,
        ack,
        answers.and_refresh_home,
        pairing.answer_invitation,
        home=home_of(deps, team_id, user_id) if surface_of(body) == "home" else None,
        team_id=team_id,
        pair_id=parse_pair(action.get("value")),
        user_id=user_id,
        accept=action["action_id"] == Action.ACCEPT_INVITE,
        now=deps.clock(),
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
    app.action(re.compile(f"^{Action.CALENDAR_LINK}:"))(handle_calendar_link)


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
        pair_id=parse_pair(action.get("value")),
        user_id=body["user"]["id"],
    )
    await ack()
    from bot.listeners.commands import open_schedule_modal

    opening = open_schedule_modal(deps, client, body["trigger_id"], pair.id, pair.team_id)
    open_modal_after_ack(deps, opening, client, body, respond)


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
    choice = parse_meeting_choice(value)
    team_id, user_id = team_of(body, context), body["user"]["id"]
    if choice.verb in {"move", "again"}:
        meeting = await deps.db.run(
            coaching.meeting_to_move,
            team_id=team_id,
            meeting_id=choice.meeting_id,
            user_id=user_id,
            now=deps.clock(),
        )
        await ack()
        view = move_meeting_modal(meeting_id=meeting.id, starts_at=meeting.starts_at)
        opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
        open_modal_after_ack(deps, opening, client, body, respond)
        return
    # Cancelled, with its prompts, and the pair told in its group DM: one transaction,
    # which also refreshes the Home they pressed it in (it shows the meeting gone).
    await commit_then_ack(
        deps,
        ack,
        answers.and_refresh_home,
        coaching.cancel_meeting,
        home=home_of(deps, team_id, user_id) if surface_of(body) == "home" else None,
        team_id=team_id,
        meeting_id=choice.meeting_id,
        user_id=user_id,
        content=deps.content,
        now=deps.clock(),
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
    form = await deps.db.run(
        coaching.prep_for_mentee,
        team_id=team_of(body, context),
        meeting_id=parse_meeting(action.get("value")),
        user_id=body["user"]["id"],
    )
    await ack()
    view = prep_modal(
        meeting_id=form.meeting.id,
        starts_at=form.meeting.starts_at,
        mentor_id=form.mentor_id,
        focus=form.focus,
        questions=form.questions,
    )
    opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
    open_modal_after_ack(deps, opening, client, body, respond)


async def handle_feedback_choice(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    context: Any,
    deps: Deps,
) -> None:
    """A press on a poll: the answer, the poll updated in place, the partner told that
    feedback was given, a new time asked for: one transaction, then the sender."""
    ref = parse_poll(action.get("value"))
    kwargs: dict[str, Any] = {}
    if action["action_id"].startswith(Action.FEEDBACK_HAPPENED):
        kwargs["happened"] = ref.choice
    else:
        kwargs["usefulness"] = button_int(ref.choice)
    await commit_then_ack(
        deps,
        ack,
        coaching.record_feedback,
        team_id=team_of(body, context),
        pair_id=ref.pair_id,
        meeting_id=ref.meeting_id,
        user_id=body["user"]["id"],
        now=deps.clock(),
        **kwargs,
    )


async def handle_open_feedback_details(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    ref = parse_poll(action.get("value"))
    team_id, user_id = team_of(body, context), body["user"]["id"]
    details = await deps.db.run(
        coaching.feedback_details,
        team_id=team_id,
        pair_id=ref.pair_id,
        meeting_id=ref.meeting_id,
        user_id=user_id,
    )
    await ack()
    view = feedback_details_modal(ref=ref.ref, helped=details[0], change=details[1])
    opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
    open_modal_after_ack(deps, opening, client, body, respond)


async def handle_tip_vote(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    context: Any,
    deps: Deps,
) -> None:
    """👍 / 👎: the vote, and the tip updated in place to show it (an outbox row; a
    practice removed from content since keeps its vote and is left as it was)."""
    await commit_then_ack(
        deps,
        ack,
        coaching.record_tip_vote,
        team_id=team_of(body, context),
        user_id=body["user"]["id"],
        message_id=parse_tip(action.get("value")),
        vote=1 if action["action_id"] == Action.TIP_UP else -1,
        now=deps.clock(),
    )


async def handle_end_confirm(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    context: Any,
    deps: Deps,
) -> None:
    """End pairing, confirmed: the pair ends, the group DM hears it, both get a closing
    poll, and the ephemeral question goes away; one transaction, then the sender."""
    await commit_then_ack(
        deps,
        ack,
        coaching.end_pair,
        team_id=team_of(body, context),
        pair_id=parse_pair(action.get("value")),
        user_id=body["user"]["id"],
        now=deps.clock(),
        response_url=body.get("response_url"),
    )


async def handle_end_cancel(ack: Any, body: dict[str, Any], context: Any, deps: Deps) -> None:
    await never_mind(ack, body, context, deps)


async def never_mind(ack: Any, body: dict[str, Any], context: Any, deps: Deps) -> None:
    """A Cancel button: its ephemeral question goes away (an outbox row for its
    response_url); pressed anywhere else, the person is told that nothing changed."""
    await commit_then_ack(
        deps,
        ack,
        answers.never_mind,
        team_id=team_of(body, context),
        user_id=body["user"]["id"],
        response_url=body.get("response_url"),
        now=deps.clock(),
    )


async def handle_home_tips_toggle(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    team_id, user_id = team_of(body, context), body["user"]["id"]
    await commit_then_ack(
        deps,
        ack,
        answers.and_refresh_home,
        tips.set_tips,
        home=home_of(deps, team_id, user_id),
        team_id=team_id,
        user_id=user_id,
        enabled=parse_tips_toggle(action.get("value")),
        minute=None,
        now=deps.clock(),
    )


async def handle_calendar_link(
    ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any, deps: Deps
) -> None:
    """The "Add to Google Calendar" / "Add to Outlook" link buttons. Slack opens the link
    in the reader's browser and still sends a block_actions payload, which must be
    acknowledged (or the reader sees a warning). Nothing changes: a member whose link
    is current is told nothing; anyone else, or a press on the link of a meeting that
    has moved or been cancelled since, hears why (the app's error handler)."""
    link = parse_calendar_link(action.get("value"))
    await deps.db.run(
        calendar.check_link,
        team_id=team_of(body, context),
        user_id=body["user"]["id"],
        meeting_id=link.meeting_id,
        sequence=link.sequence,
        content=deps.content,
    )
    await ack()
