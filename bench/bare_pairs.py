"""A throwaway single-file Bolt app that sets up pairs as Mentor Bot does, with no
database and no outbox: the baseline of ``bench/pairs_setup.py``.

``/mentor start <@U…>``: ack, then users.info on the invitee and the inviter, the
invitation DM with Accept/Decline, and "invitation sent" on the response URL.
Accept: ack, then conversations.open for the two, the kickoff in the group DM, the
invitation updated in place, and the inviter told. The same Slack calls, in the same
order, as the app makes; all kept in memory, lost on a restart.

Run: ``PORT=… SLACK_BOT_TOKEN=… SLACK_SIGNING_SECRET=… SLACK_API_URL=… python
bench/bare_pairs.py`` (``bench/pairs_setup.py`` starts it).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
tasks: set[asyncio.Task[Any]] = set()


def later(work: Any) -> None:
    task = asyncio.get_running_loop().create_task(work)
    tasks.add(task)
    task.add_done_callback(tasks.discard)


def build() -> AsyncApp:
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    bolt = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    @bolt.command("/mentor")
    async def mentor(ack: Any, body: dict[str, Any], respond: Any) -> None:
        found = MENTION.search(body.get("text") or "")
        await ack()
        if found is None:
            return
        inviter, invitee = body["user_id"], found.group(1)

        async def invite() -> None:
            await client.users_info(user=invitee)
            await client.users_info(user=inviter)
            value = json.dumps({"inviter": inviter, "invitee": invitee})
            await client.chat_postMessage(
                channel=invitee,
                text=f"<@{inviter}> invites you to a mentoring pair",
                blocks=[
                    {
                        "type": "section",
                        "text": {
                            "type": "mrkdwn",
                            "text": f"<@{inviter}> would like to mentor you.",
                        },
                    },
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "Accept"},
                                "action_id": "invite_accept",
                                "value": value,
                                "style": "primary",
                            },
                            {
                                "type": "button",
                                "text": {"type": "plain_text", "text": "Decline"},
                                "action_id": "invite_decline",
                                "value": value,
                            },
                        ],
                    },
                ],
            )
            await respond(text=f"I've sent <@{invitee}> your invitation.")

        later(invite())

    @bolt.action("invite_accept")
    async def accept(ack: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        people = json.loads(action["value"])
        inviter, invitee = people["inviter"], people["invitee"]
        channel, ts = body["container"]["channel_id"], body["container"]["message_ts"]

        async def kickoff() -> None:
            opened = await client.conversations_open(users=[inviter, invitee])
            group = opened["channel"]["id"]
            await client.chat_postMessage(
                channel=group, text=f"Welcome, <@{inviter}> and <@{invitee}>!"
            )
            await client.chat_update(
                channel=channel, ts=ts, text=f"You accepted <@{inviter}>'s invitation."
            )
            await client.chat_postMessage(
                channel=inviter, text=f"<@{invitee}> accepted your invitation."
            )

        later(kickoff())

    return bolt


async def main() -> None:
    bolt = build()

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["PORT"])).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
