"""Sign-up pool, matching, nudges and personal data: the program-level listeners."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.domain.commands import Exclude, ForgetMe, Join, Leave, Match, MyData, Pause
from bot.domain.errors import NotAllowed, UserError
from bot.ids import INPUT_ACTION, MATCH_GROUP_PREFIX, Action, Block, View
from bot.listeners.common import input_value, metadata_int, report_with, team_of
from bot.listeners.home import is_coordinator_user
from bot.reporting import weekly_chart_png
from bot.services import matching, pool, privacy
from bot.services.insights import program_report
from bot.slackapi import fetch_user
from bot.views.common import as_dicts, section
from bot.views.insights import nudge_message
from bot.views.pool import join_modal, match_review_modal
from bot.views.privacy import forget_confirmation_blocks, forgotten_message, my_data_message

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


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
        current = await deps.db.run(pool.get_member, team_id=team_id, user_id=user_id)
        await ack()
        view = join_modal(deps.content.topics, current=current)
        await client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
    elif isinstance(command, Leave):
        await deps.db.run(pool.leave, team_id=team_id, user_id=user_id)
        await ack(
            response_type="ephemeral",
            text="You've left the mentoring pool. Your pairs and tips are unchanged; "
            "`/mentor join` brings you back.",
        )
    elif isinstance(command, Pause):
        until = await deps.db.run(
            pool.pause, team_id=team_id, user_id=user_id, days=command.days, now=deps.clock()
        )
        await ack(
            response_type="ephemeral",
            text=f"Paused: no tips and no new matches until <!date^{int(until.timestamp())}"
            f"^{{date_long}}|{until:%d %B %Y}>. Your pairs and meetings carry on.",
        )
    elif isinstance(command, Match):
        await ack()
        deps.background.spawn(
            _match(deps, client, team_id, user_id, body["trigger_id"]),
            on_error=report_with(respond),
        )
    elif isinstance(command, Exclude):
        if not await is_coordinator_user(deps, client, user_id):
            raise NotAllowed("Only program coordinators can set matching exclusions.")
        await deps.db.run(
            pool.add_exclusion,
            team_id=team_id,
            a=command.first,
            b=command.second,
            by=user_id,
            now=deps.clock(),
        )
        await ack(
            response_type="ephemeral",
            text=f"Noted: <@{command.first}> and <@{command.second}> will not be matched.",
        )
    elif isinstance(command, ForgetMe):
        await ack(
            response_type="ephemeral",
            blocks=as_dicts(forget_confirmation_blocks()),
            text="Delete your Mentor Bot data?",
        )
    elif isinstance(command, MyData):
        data = await deps.db.run(privacy.personal_data, team_id=team_id, user_id=user_id)
        await ack(response_type="ephemeral", text="I'm sending you a copy of your data in our DM.")
        text, blocks = my_data_message(data)
        deps.background.spawn(
            client.chat_postMessage(channel=user_id, text=text, blocks=as_dicts(blocks)),
            on_error=report_with(respond),
        )


async def _match(
    deps: Deps, client: AsyncWebClient, team_id: str, user_id: str, trigger_id: str
) -> None:
    if not await is_coordinator_user(deps, client, user_id):
        raise NotAllowed(
            "Only program coordinators can match the pool. Ask one of them, or use "
            "`/mentor start @person` to pair up directly."
        )
    # Opening first keeps the trigger inside Slack's 3 s; a large pool then fills it in.
    opened = await client.views_open(
        trigger_id=trigger_id,
        view={
            "type": "modal",
            "title": {"type": "plain_text", "text": "Proposed matches"},
            "close": {"type": "plain_text", "text": "Close"},
            "blocks": [section("Matching the pool… this takes a few seconds.").to_dict()],
        },
    )
    proposal = await deps.db.run(
        matching.compute_proposal,
        team_id=team_id,
        by=user_id,
        now=deps.clock(),
        topic_labels={t.id: t.label for t in deps.content.topics},
    )
    names = await _names(deps, client, proposal)
    await client.views_update(
        view_id=opened["view"]["id"], view=match_review_modal(proposal, names=names).to_dict()
    )


async def _names(deps: Deps, client: AsyncWebClient, proposal: Any) -> dict[str, str]:
    people = {p.mentor_id for p in proposal.pairs} | {p.mentee_id for p in proposal.pairs}
    if len(people) > 200:
        return {}
    names = {}
    for user_id in people:
        try:
            names[user_id] = (await fetch_user(client, user_id)).name
        except UserError:
            names[user_id] = user_id
    return names


async def handle_match_submit(
    ack: Any,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    team_id, user_id = team_of(body, context), body["user"]["id"]
    if not await is_coordinator_user(deps, client, user_id):
        raise NotAllowed("Only program coordinators can approve matches.")
    proposal_id = metadata_int(view, "proposal_id")
    selected: set[int] = set()
    for block_id, inputs in view.get("state", {}).get("values", {}).items():
        if block_id.startswith(MATCH_GROUP_PREFIX):
            for option in inputs.get(INPUT_ACTION, {}).get("selected_options") or []:
                if str(option.get("value", "")).isdigit():
                    selected.add(int(option["value"]))
    approval = await deps.db.run(
        matching.approve,
        team_id=team_id,
        proposal_id=proposal_id,
        by=user_id,
        selected=selected,
        now=deps.clock(),
    )
    await ack()
    deps.wake_scheduler()
    summary = f"Approved: {len(approval.invited)} invitations are on their way."
    if approval.skipped:
        summary += " Skipped: " + "; ".join(approval.skipped) + "."
    if approval.unmatched:
        summary += f" {len(approval.unmatched)} people stay in the pool and have been told kindly."
    deps.background.spawn(client.chat_postMessage(channel=user_id, text=summary))


async def handle_open_join(
    ack: Any, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    current = await deps.db.run(
        pool.get_member, team_id=team_of(body, context), user_id=body["user"]["id"]
    )
    await ack()
    view = join_modal(deps.content.topics, current=current)
    await client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())


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
        capacity=int(capacity_text) if capacity_text and capacity_text.isdigit() else 1,
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
    team_id, user_id = team_of(body, context), body["user"]["id"]
    await ack()
    deps.background.spawn(_save_signup(deps, client, team_id, user_id, signup))


async def _save_signup(
    deps: Deps, client: AsyncWebClient, team_id: str, user_id: str, signup: pool.Signup
) -> None:
    # The person's time zone matters for matching working hours, so ask Slack first.
    tz = (await fetch_user(client, user_id)).tz
    await deps.db.run(
        pool.join, team_id=team_id, user_id=user_id, signup=signup, tz=tz, now=deps.clock()
    )
    role = {"both": "a mentor and a mentee"}.get(signup.roles, f"a {signup.roles}")
    await client.chat_postMessage(
        channel=user_id,
        text=f":sparkles: You're in the mentoring pool as {role}. A coordinator will propose "
        "matches; I'll tell you as soon as there's one for you. `/mentor leave` takes you out.",
    )


async def handle_nudge(
    ack: Any,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: Any,
    client: AsyncWebClient,
    context: Any,
    deps: Deps,
) -> None:
    team_id, user_id = team_of(body, context), body["user"]["id"]
    if not await is_coordinator_user(deps, client, user_id):
        raise NotAllowed("Only program coordinators can nudge pairs.")
    try:
        pair_id = int(action.get("value", ""))
    except ValueError:
        raise UserError("That button is not one of mine any more.") from None
    pair = await deps.db.run(_pair_as_coordinator, team_id=team_id, pair_id=pair_id)
    await ack()
    text, blocks = nudge_message(
        pair_id=pair.id, mentor_id=pair.mentor_id, mentee_id=pair.mentee_id
    )
    deps.background.spawn(
        client.chat_postMessage(
            channel=pair.channel_id or pair.mentee_id, text=text, blocks=as_dicts(blocks)
        ),
        on_error=report_with(respond),
    )


def _pair_as_coordinator(session: Any, *, team_id: str, pair_id: int) -> Any:
    from bot.store import repo

    pair = repo.get_pair(session, team_id=team_id, pair_id=pair_id)
    if pair is None or pair.status != "active":
        raise UserError("That pair is no longer active.")
    return pair


async def handle_forget_confirm(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    team_id, user_id = team_of(body, context), body["user"]["id"]
    await deps.db.run(privacy.forget_person, team_id=team_id, user_id=user_id, now=deps.clock())
    await ack()
    text, blocks = forgotten_message()
    deps.background.spawn(
        respond(text=text, blocks=as_dicts(blocks), replace_original=True),
        on_error=report_with(respond),
    )


async def handle_forget_cancel(ack: Any, respond: Any) -> None:
    await ack()
    await respond(delete_original=True)


async def handle_send_chart(
    ack: Any, body: dict[str, Any], client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    """A picture of the weekly trend, for coordinators who would rather look than read."""
    team_id, user_id = team_of(body, context), body["user"]["id"]
    if not await is_coordinator_user(deps, client, user_id):
        raise NotAllowed("Only program coordinators can see the program's charts.")
    await ack()
    deps.background.spawn(_send_chart(deps, client, team_id, user_id))


async def _send_chart(deps: Deps, client: AsyncWebClient, team_id: str, user_id: str) -> None:
    report = await deps.db.run(program_report, team_id=team_id, now=deps.clock())
    png = weekly_chart_png(report)
    # Files are shared into a conversation ID; the bot's DM with the coordinator is one.
    opened = await client.conversations_open(users=user_id)
    await client.files_upload_v2(
        channel=opened["channel"]["id"],
        file=png,
        filename="mentor-bot-weekly.png",
        title="Meetings held per week",
        initial_comment="Meetings held per week, the last 8 weeks (Monday to Sunday, UTC).",
    )
