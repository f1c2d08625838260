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
from bot.listeners.common import (
    button_int,
    id_or_none,
    input_value,
    keep_posted,
    metadata_int,
    open_modal_after_ack,
    report_to,
    team_of,
)
from bot.listeners.home import is_coordinator_user, require_coordinator
from bot.reporting import chart_comment, weekly_chart_png
from bot.services import matching, pool, privacy
from bot.services.insights import program_report
from bot.slackapi import fetch_user
from bot.store import posted
from bot.views.common import as_dicts, section
from bot.views.insights import nudge_message
from bot.views.pool import join_modal, match_review_modal
from bot.views.privacy import (
    MY_DATA_FILENAME,
    forget_confirmation_blocks,
    forgotten_message,
    my_data_file,
    my_data_fits,
    my_data_message,
)

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
        opening = client.views_open(trigger_id=body["trigger_id"], view=view.to_dict())
        open_modal_after_ack(deps, opening, client, body, respond)
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
            on_error=report_to(deps, client, body, respond),
            first=True,  # it opens a modal: the trigger_id is good for 3 s
        )
    elif isinstance(command, Exclude):
        # Who coordinates this workspace only Slack knows (users.info): ask after the ack.
        await ack()

        async def checked() -> None:
            await require_coordinator(
                deps,
                client,
                team_id,
                user_id,
                "Only program coordinators can set matching exclusions.",
            )
            text = await _exclude(deps, team_id, user_id, command)
            await respond(text=text, response_type="ephemeral")

        deps.background.spawn(checked(), on_error=report_to(deps, client, body, respond))
    elif isinstance(command, ForgetMe):
        await ack(
            response_type="ephemeral",
            blocks=as_dicts(forget_confirmation_blocks()),
            text="Delete your Mentor Bot data?",
        )
    elif isinstance(command, MyData):
        data = await deps.db.run(privacy.personal_data, team_id=team_id, user_id=user_id)
        await ack(response_type="ephemeral", text="I'm sending you a copy of your data in our DM.")
        deps.background.spawn(
            _send_my_data(deps, client, team_id, user_id, data),
            on_error=report_to(deps, client, body, respond),
        )


async def _send_my_data(
    deps: Deps, client: AsyncWebClient, team_id: str, user_id: str, data: dict[str, Any]
) -> None:
    """The export, in the bot's DM with the person: a message, and the whole record as a
    file when it is too long for one. Both are kept in the ledger, so forget-me deletes
    them from Slack."""
    opened = await client.conversations_open(users=user_id)
    channel = opened["channel"]["id"]
    text, blocks = my_data_message(data)
    sent = await client.chat_postMessage(channel=channel, text=text, blocks=as_dicts(blocks))
    await keep_posted(
        deps, team_id, channel=channel, ts=sent["ts"], kind=posted.MY_DATA, about=user_id
    )
    if my_data_fits(data):
        return
    uploaded = await client.files_upload_v2(
        channel=channel,
        content=my_data_file(data),
        filename=MY_DATA_FILENAME,
        title="Your data in Mentor Bot (JSON)",
    )
    files = uploaded.get("files") or [uploaded.get("file") or {}]
    for file in files:
        if file.get("id"):
            await keep_posted(
                deps,
                team_id,
                channel=channel,
                file_id=file["id"],
                kind=posted.MY_DATA_FILE,
                about=user_id,
            )


async def _exclude(deps: Deps, team_id: str, user_id: str, command: Exclude) -> str:
    await deps.db.run(
        pool.add_exclusion,
        team_id=team_id,
        a=command.first,
        b=command.second,
        by=user_id,
        now=deps.clock(),
    )
    return f"Noted: <@{command.first}> and <@{command.second}> will not be matched."


async def _match(
    deps: Deps, client: AsyncWebClient, team_id: str, user_id: str, trigger_id: str
) -> None:
    if not await is_coordinator_user(deps, client, team_id, user_id):
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
    # The options name people with mentions, which Slack renders: no users.info per person.
    await client.views_update(
        view_id=opened["view"]["id"], view=match_review_modal(proposal).to_dict()
    )


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
            for option in (inputs.get(INPUT_ACTION) or {}).get("selected_options") or []:
                number = id_or_none(option.get("value") if isinstance(option, dict) else None)
                if number is not None:
                    selected.add(number)

    async def approve() -> str:
        approval = await deps.db.run(
            matching.approve,
            team_id=team_id,
            proposal_id=proposal_id,
            by=user_id,
            selected=selected,
            now=deps.clock(),
        )
        deps.wake_scheduler()
        summary = f"Approved: {len(approval.invited)} invitations are on their way."
        if approval.skipped:
            summary += " Skipped: " + "; ".join(approval.skipped) + "."
        if approval.unmatched:
            summary += (
                f" {len(approval.unmatched)} people stay in the pool and have been told kindly."
            )
        return summary

    # Who coordinates this workspace only Slack knows: the modal says so while it asks.
    await ack(response_action="update", view=_notice_modal("Checking that you're a coordinator…"))

    async def checked() -> None:
        await require_coordinator(
            deps, client, team_id, user_id, "Only program coordinators can approve matches."
        )
        summary = await approve()
        await client.views_update(view_id=view["id"], view=_notice_modal(summary))
        await client.chat_postMessage(channel=user_id, text=summary)

    deps.background.spawn(checked(), on_error=report_to(deps, client, body, None))


def _notice_modal(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": "Proposed matches"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [section(text).to_dict()],
    }


async def handle_open_join(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    current = await deps.db.run(
        pool.get_member, team_id=team_of(body, context), user_id=body["user"]["id"]
    )
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
    sent = await client.chat_postMessage(
        channel=user_id,
        text=f":sparkles: You're in the mentoring pool as {role}. A coordinator will propose "
        "matches; I'll tell you as soon as there's one for you. `/mentor leave` takes you out.",
    )
    await keep_posted(
        deps, team_id, channel=sent["channel"], ts=sent["ts"], kind=posted.DM, about=user_id
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
    pair_id = button_int(action.get("value", ""))
    refusal = "Only program coordinators can nudge pairs."

    async def nudge(pair: Any) -> None:
        text, blocks = nudge_message(
            pair_id=pair.id, mentor_id=pair.mentor_id, mentee_id=pair.mentee_id
        )
        sent = await client.chat_postMessage(
            channel=pair.channel_id or pair.mentee_id, text=text, blocks=as_dicts(blocks)
        )
        # It names both: kept, so forget-me deletes it.
        await keep_posted(
            deps,
            team_id,
            channel=sent["channel"],
            ts=sent["ts"],
            kind=posted.GROUP_DM,
            about=None if pair.channel_id else pair.mentee_id,
        )

    async def checked() -> None:
        # Who coordinates this workspace only Slack knows: ask after the ack.
        await require_coordinator(deps, client, team_id, user_id, refusal)
        await nudge(await deps.db.run(_pair_as_coordinator, team_id=team_id, pair_id=pair_id))

    await ack()
    deps.background.spawn(checked(), on_error=report_to(deps, client, body, respond))


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
    # One transaction; the Slack deletions it plans go out with the next scheduler pass
    # (woken now), so a Slack failure can delay them but never undo the deletion here.
    await deps.db.run(privacy.forget_person, team_id=team_id, user_id=user_id, now=deps.clock())
    await ack()
    deps.wake_scheduler()
    text, blocks = forgotten_message()
    done = (
        respond(text=text, blocks=as_dicts(blocks), replace_original=True)
        if respond is not None
        else client.chat_postMessage(channel=user_id, text=text, blocks=as_dicts(blocks))
    )
    deps.background.spawn(done, on_error=report_to(deps, client, body, respond))


async def handle_forget_cancel(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, deps: Deps
) -> None:
    from bot.listeners.actions import never_mind

    await ack()
    deps.background.spawn(never_mind(deps, client, body, respond))


async def handle_send_chart(
    ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient, context: Any, deps: Deps
) -> None:
    """A picture of the weekly trend, for coordinators who would rather look than read."""
    team_id, user_id = team_of(body, context), body["user"]["id"]
    await ack()

    async def checked() -> None:
        # Who coordinates this workspace only Slack knows: asked after the ack.
        await require_coordinator(
            deps,
            client,
            team_id,
            user_id,
            "Only program coordinators can see the program's charts.",
        )
        await _send_chart(deps, client, team_id, user_id)

    deps.background.spawn(checked(), on_error=report_to(deps, client, body, respond))


async def _send_chart(deps: Deps, client: AsyncWebClient, team_id: str, user_id: str) -> None:
    report = await deps.db.run(
        program_report,
        team_id=team_id,
        now=deps.clock(),
        viewer=user_id,  # as on their App Home: their own answers never count
        minimum=deps.content.settings.privacy_minimum_people,
    )
    png = weekly_chart_png(report)
    # Files are shared into a conversation ID; the bot's DM with the coordinator is one.
    opened = await client.conversations_open(users=user_id)
    await client.files_upload_v2(
        channel=opened["channel"]["id"],
        file=png,
        filename="mentor-bot-weekly.png",
        title="People who gave feedback, per week",
        initial_comment=chart_comment(report),
    )
