"""Sign-up pool, matching, nudges and personal data: the program-level listeners.

What only a coordinator may do (exclusions, approving matches, nudges) is written as
a request (``bot.services.coordinators``) and checked with Slack by its delivery:
nothing asks Slack before the ack.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.buttons import id_or_none, parse_pair, parse_proposal_lines
from bot.deps import Deps
from bot.domain.commands import Exclude, ForgetMe, Join, Leave, Match, MyData, Pause
from bot.ids import INPUT_ACTION, MATCH_GROUP_PREFIX, Action, Block, View
from bot.listeners.common import (
    commit_then_ack,
    input_value,
    metadata,
    metadata_int,
    open_modal_after_ack,
    report_to,
    team_of,
)
from bot.services import coordinators, pool, privacy
from bot.views.common import as_dicts, notice_modal
from bot.views.pool import join_modal
from bot.views.privacy import forget_confirmation_blocks, forgotten_message

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")

logger = logging.getLogger(__name__)


def register(app: AsyncApp) -> None:
    app.view(View.JOIN)(handle_join_submit)
    app.view(View.MATCH_REVIEW)(handle_match_submit)
    app.action(Action.NUDGE_PAIR)(handle_nudge)
    app.action(Action.FORGET_CONFIRM)(handle_forget_confirm)
    app.action(Action.FORGET_CANCEL)(handle_forget_cancel)
    app.action(Action.OPEN_JOIN)(handle_open_join)
    app.action(Action.SEND_CHART)(handle_send_chart)


async def handle_program_command(
    command: Any,
    ack: Any,
    body: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    deps: Deps,
    team_id: str,
) -> None:
    user_id = body["user_id"]
    if isinstance(command, Join):
        await _open_join(ack, body, respond, client, deps, team_id=team_id, user_id=user_id)
    elif isinstance(command, Leave):
        await deps.db.run(pool.leave, team_id=team_id, user_id=user_id)
        await ack(
            response_type="ephemeral",
            text="You've left the mentoring pool. Your pairs and tips are unchanged; "
            "`/mentor join` brings you back.",
        )
    elif isinstance(command, Pause) and command.days == 0:
        ended = await deps.db.run(
            pool.end_pause, team_id=team_id, user_id=user_id, now=deps.clock()
        )
        await ack(
            response_type="ephemeral",
            text="Your pause is over: new matches may include you again, and your daily "
            "tips, if they're on, come at your next tip time."
            if ended
            else "You're not paused. `/mentor pause 2w` pauses tips and new matches.",
        )
    elif isinstance(command, Pause):
        until = await deps.db.run(
            pool.pause, team_id=team_id, user_id=user_id, days=command.days, now=deps.clock()
        )
        await ack(
            response_type="ephemeral",
            text=f"Paused: no tips and no new matches until <!date^{int(until.timestamp())}"
            f"^{{date_long}}|{until:%d %B %Y}>. Your pairs and meetings carry on; "
            "`/mentor pause off` ends it sooner.",
        )
    elif isinstance(command, Match):
        # The request is written before the ack, to wait for the modal opened after it.
        key = await commit_then_ack(
            deps,
            ack,
            coordinators.ask_for_matches,
            team_id=team_id,
            by=user_id,
            admins=deps.settings.admins,
            now=deps.clock(),
            topic_labels={t.id: t.label for t in deps.content.topics},
        )
        deps.background.spawn(
            _open_match_modal(deps, client, key, body["trigger_id"]),
            on_error=report_to(deps, client, body, respond),
            first=True,  # it opens a modal: the trigger_id is good for 3 s
        )
    elif isinstance(command, Exclude):
        # Who coordinates this workspace only Slack knows (users.info): the request is
        # written now, checked by its delivery, and answered on the response_url.
        await commit_then_ack(
            deps,
            ack,
            coordinators.ask,
            coordinators.EXCLUDE,
            team_id=team_id,
            by=user_id,
            admins=deps.settings.admins,
            now=deps.clock(),
            args={"a": command.first, "b": command.second, "lift": command.lift},
            response_url=body.get("response_url"),
        )
    elif isinstance(command, ForgetMe):
        await ack(
            response_type="ephemeral",
            blocks=as_dicts(forget_confirmation_blocks()),
            text="Delete your Mentor Bot data?",
        )
    elif isinstance(command, MyData):
        await deps.db.run(
            privacy.request_export, team_id=team_id, user_id=user_id, now=deps.clock()
        )
        await ack(response_type="ephemeral", text="I'm sending you a copy of your data in our DM.")
        deps.wake_scheduler()


async def _open_match_modal(deps: Deps, client: AsyncWebClient, key: str, trigger_id: str) -> None:
    """The modal opens at once (the trigger_id is good for 3 s: the one Slack call a
    listener makes itself), and the request written before the ack is told its id: its
    delivery asks Slack whether they coordinate this workspace, computes the proposal
    and shows it in the modal (or the refusal). If the modal does not open, the request
    is due at once all the same, and answers by DM."""
    try:
        opened = await client.views_open(
            trigger_id=trigger_id,
            view=_notice_modal("Matching the pool… this takes a few seconds."),
        )
        view_id = str(opened["view"]["id"])
    except Exception:  # noqa: BLE001 - answered by the request's delivery, by DM
        logger.warning("/mentor match: the modal did not open", exc_info=True)
        view_id = None
    went = await deps.db.run(coordinators.modal_opened, key=key, view_id=view_id, now=deps.clock())
    deps.wake_scheduler()
    if view_id is not None and not went:
        # The request's wait ran out first, and it was answered by DM.
        try:
            await client.views_update(
                view_id=view_id, view=_notice_modal("This took too long: I've sent you a DM.")
            )
        except SlackApiError as error:
            if error.response.get("error") != "not_found":
                raise
            # They closed the modal meanwhile: the DM is the answer, and enough.


async def handle_match_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    team_id, user_id = team_of(body, context), body["user"]["id"]
    proposal_id = metadata_int(view, "proposal_id")
    selected: set[int] = set()
    for block_id, inputs in (view.get("state") or {}).get("values", {}).items():
        if str(block_id).startswith(MATCH_GROUP_PREFIX) and isinstance(inputs, dict):
            options = (inputs.get(INPUT_ACTION) or {}).get("selected_options") or []
            selected |= parse_proposal_lines(
                [o.get("value") for o in options if isinstance(o, dict)]
            )

    # Who coordinates this workspace only Slack knows: the request is written now and
    # checked by its delivery, which approves (one transaction: pairs, invitations,
    # notices) or says no, in this modal; meanwhile the modal says it is checking.
    await deps.db.run(
        coordinators.ask,
        coordinators.APPROVE,
        team_id=team_id,
        by=user_id,
        admins=deps.settings.admins,
        now=deps.clock(),
        # Lines past ``shown`` were not in the modal: neither approved nor told.
        args={
            "proposal_id": proposal_id,
            "selected": sorted(selected),
            "shown": _shown(view),
        },
        view_id=view.get("id"),
    )
    await ack(response_action="update", view=_notice_modal("Checking that you're a coordinator…"))
    deps.wake_scheduler()


def _shown(view: dict[str, Any]) -> int | None:
    """How many lines the review modal held; None (all of them) for one opened before
    modals said so."""
    shown = metadata(view).get("shown")
    valid = isinstance(shown, int) and not isinstance(shown, bool) and shown >= 0
    return shown if valid else None


def _notice_modal(text: str) -> dict[str, Any]:
    return notice_modal("Proposed matches", text)


async def handle_open_join(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    await _open_join(
        ack,
        body,
        respond,
        client,
        deps,
        team_id=team_of(body, context),
        user_id=body["user"]["id"],
    )


async def _open_join(
    ack: Any,
    body: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    deps: Deps,
    *,
    team_id: str,
    user_id: str,
) -> None:
    """``/mentor join`` and Home's button: the sign-up form, filled with what they gave."""
    current = await deps.db.run(pool.get_member, team_id=team_id, user_id=user_id)
    await ack()
    view = join_modal(deps.content.topics, current=current)
    opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
    open_modal_after_ack(deps, opening, client, body, respond)


def _minute(value: str | None) -> int | None:
    match = _TIME.match(value or "")
    return int(match.group(1)) * 60 + int(match.group(2)) if match else None


async def handle_join_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    role = (input_value(view, Block.JOIN_ROLE).get("selected_option") or {}).get("value", "")
    topics = tuple(
        o.get("value", "")
        for o in input_value(view, Block.JOIN_TOPICS).get("selected_options") or []
    )
    capacity_text = (input_value(view, Block.JOIN_CAPACITY).get("selected_option") or {}).get(
        "value"
    )
    start = _minute(input_value(view, Block.JOIN_START).get("selected_time"))
    end = _minute(input_value(view, Block.JOIN_END).get("selected_time"))
    signup = pool.Signup(
        roles=role,
        topics=topics,
        goals=(input_value(view, Block.JOIN_GOALS).get("value") or "").strip(),
        capacity=id_or_none(capacity_text) or 1,
        work_start=start if start is not None else -1,
        work_end=end if end is not None else -1,
    )
    problems = pool.check_signup(signup, known_topics=frozenset(t.id for t in deps.content.topics))
    if problems:
        blocks = {
            "roles": Block.JOIN_ROLE,
            "topics": Block.JOIN_TOPICS,
            "capacity": Block.JOIN_CAPACITY,
            "work_end": Block.JOIN_END,
            "goals": Block.JOIN_GOALS,
        }
        await ack(
            response_action="errors",
            errors={str(blocks[field]): message for field, message in problems.items()},
        )
        return
    # Saved with its confirmation DM, whose delivery also reads the person's time zone
    # from Slack (matching compares working hours).
    await commit_then_ack(
        deps,
        ack,
        pool.join,
        team_id=team_of(body, context),
        user_id=body["user"]["id"],
        signup=signup,
        now=deps.clock(),
    )


async def handle_nudge(
    ack: Any, body: dict[str, Any], action: dict[str, Any], context: Any, deps: Deps
) -> None:
    """A coordinator's Nudge on App Home: checked with Slack by its delivery, then the
    pair is asked in its group DM to set their next meetings."""
    await commit_then_ack(
        deps,
        ack,
        coordinators.ask,
        coordinators.NUDGE,
        team_id=team_of(body, context),
        by=body["user"]["id"],
        admins=deps.settings.admins,
        now=deps.clock(),
        args={"pair_id": parse_pair(action.get("value"))},
    )


async def handle_forget_confirm(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    team_id, user_id = team_of(body, context), body["user"]["id"]
    # One transaction: the deletion, the Slack deletions it causes, and the answer in
    # place of the question (on its response_url); the sender delivers them after the
    # ack, so a Slack failure can delay them but never undo the deletion here.
    text, blocks = forgotten_message()
    await commit_then_ack(
        deps,
        ack,
        privacy.forget_me,
        team_id=team_id,
        user_id=user_id,
        now=deps.clock(),
        response_url=body.get("response_url"),
        text=text,
        blocks=as_dicts(blocks),
        coordinators=deps.settings.admins,
    )


async def handle_forget_cancel(ack: Any, body: dict[str, Any], context: Any, deps: Deps) -> None:
    from bot.listeners.actions import never_mind

    await never_mind(ack, body, context, deps)


async def handle_send_chart(ack: Any, body: dict[str, Any], context: Any, deps: Deps) -> None:
    """A picture of the weekly trend, for coordinators who would rather look than read:
    checked with Slack by its delivery, then drawn and sent as a file in their DM."""
    await commit_then_ack(
        deps,
        ack,
        coordinators.ask,
        coordinators.CHART,
        team_id=team_of(body, context),
        by=body["user"]["id"],
        admins=deps.settings.admins,
        now=deps.clock(),
        args={"minimum": deps.content.settings.privacy_minimum_people},
    )
