"""The Slack emulator against the real slack_sdk clients, and the driver's requests."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from slackemu import (
    BOT_USER_ID,
    SLACK_TIERS,
    Input,
    RateLimits,
    SlackEmulator,
    sign,
    signed_headers,
    validate_message_blocks,
    validate_view,
)

SECRET = "test-signing-secret"


def section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    if block_id:
        block["block_id"] = block_id
    return block


def modal(title: str = "Schedule", **extra) -> dict:
    return {
        "type": "modal",
        "callback_id": "schedule",
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "when",
                "label": {"type": "plain_text", "text": "When"},
                "element": {"type": "datetimepicker", "action_id": "at"},
            },
            {
                "type": "input",
                "block_id": "length",
                "optional": True,
                "label": {"type": "plain_text", "text": "Length"},
                "element": {
                    "type": "static_select",
                    "action_id": "minutes",
                    "options": [
                        {"text": {"type": "plain_text", "text": "30 min"}, "value": "30"},
                        {"text": {"type": "plain_text", "text": "45 min"}, "value": "45"},
                    ],
                },
            },
            {
                "type": "input",
                "block_id": "focus",
                "label": {"type": "plain_text", "text": "Focus"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            },
        ],
        **extra,
    }


INVITE_BLOCKS = [
    section("Bob invites you", "intro"),
    {
        "type": "actions",
        "block_id": "answer",
        "elements": [
            {
                "type": "button",
                "action_id": "accept",
                "text": {"type": "plain_text", "text": "Accept"},
                "value": "pair-1",
                "style": "primary",
            },
            {
                "type": "button",
                "action_id": "decline",
                "text": {"type": "plain_text", "text": "Decline"},
                "value": "pair-1",
            },
            {
                "type": "static_select",
                "action_id": "rating",
                "placeholder": {"type": "plain_text", "text": "Rate"},
                "options": [
                    {"text": {"type": "plain_text", "text": str(i)}, "value": str(i)}
                    for i in range(1, 6)
                ],
            },
        ],
    },
]


@pytest.fixture
def slack():
    with SlackEmulator() as emu:
        emu.add_user("U0ALICE", name="alice", real_name="Alice A", tz="Europe/Paris")
        emu.add_user("U0BOB", name="bob", tz="America/New_York", is_admin=True)
        emu.add_user("U0GONE", name="gone", deleted=True)
        yield emu


@pytest.fixture
def client(slack):
    return WebClient(token="xoxb-test", base_url=slack.base_url)


def api_error(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


# --------------------------------------------------------------------------- Web API


def test_base_url_and_auth(slack, client):
    assert slack.base_url.startswith("http://127.0.0.1:") and slack.base_url.endswith("/api/")
    auth = client.auth_test()
    assert auth["user_id"] == BOT_USER_ID and auth["team_id"] == "T0001"
    bad = WebClient(token="xoxp-nope", base_url=slack.base_url)
    assert api_error(bad.auth_test)["error"] == "invalid_auth"
    assert api_error(lambda: client.api_call("nope.nothing"))["error"] == "unknown_method"


def test_tokens_map_known_tokens_only():
    with SlackEmulator(tokens={"xoxb-good": "T0001"}) as emu:
        assert WebClient(token="xoxb-good", base_url=emu.base_url).auth_test()["ok"]
        other = WebClient(token="xoxb-other", base_url=emu.base_url)
        assert api_error(other.auth_test)["error"] == "invalid_auth"


def test_users_info(slack, client):
    alice = client.users_info(user="U0ALICE")["user"]
    assert alice["tz"] == "Europe/Paris" and alice["tz_offset"] in (3600, 7200)
    assert alice["profile"]["real_name"] == "Alice A"
    assert client.users_info(user="U0BOB")["user"]["is_admin"] is True
    assert client.users_info(user="U0GONE")["user"]["deleted"] is True
    assert api_error(lambda: client.users_info(user="U0NOBODY"))["error"] == "user_not_found"


def test_post_message_to_user_lands_in_dm(slack, client):
    resp = client.chat_postMessage(channel="U0ALICE", text="hello")
    dm = slack.dm_channel("U0ALICE")
    assert dm.startswith("D") and resp["channel"] == dm
    assert client.conversations_open(users="U0ALICE")["channel"]["id"] == dm
    assert [m["text"] for m in slack.messages_in("U0ALICE")] == ["hello"]
    assert slack.messages_in(dm) == slack.messages_in("U0ALICE")
    again = client.chat_postMessage(channel=dm, text="second")
    assert float(again["ts"]) > float(resp["ts"])
    assert len(slack.calls_to("chat.postMessage", channel="U0ALICE")) == 1
    assert api_error(lambda: client.chat_postMessage(channel="U0GONE", text="x"))["error"] == (
        "user_disabled"
    )


def test_conversations_open_group_is_stable(slack, client):
    first = client.conversations_open(users=["U0ALICE", "U0BOB"])["channel"]["id"]
    second = client.conversations_open(users="U0BOB,U0ALICE")["channel"]["id"]
    assert first == second == slack.mpim_for("U0ALICE", "U0BOB")
    assert first.startswith("G")
    with_bot = client.conversations_open(users=f"U0ALICE,U0BOB,{BOT_USER_ID}")
    assert with_bot["channel"]["id"] == first
    assert api_error(lambda: client.conversations_open(users="U0ALICE,U0X"))["error"] == (
        "user_not_found"
    )


def test_update_delete_and_no_text(slack, client):
    ts = client.chat_postMessage(channel="U0ALICE", text="v1")["ts"]
    dm = slack.dm_channel("U0ALICE")
    client.chat_update(channel=dm, ts=ts, text="v2", blocks=[section("v2")])
    assert slack.messages_in("U0ALICE")[0]["text"] == "v2"
    # As in Slack, chat.update needs the D id, not the user id.
    assert api_error(lambda: client.chat_update(channel="U0ALICE", ts=ts, text="x"))["error"] == (
        "channel_not_found"
    )
    assert api_error(lambda: client.chat_update(channel=dm, ts="1.000001", text="x"))["error"] == (
        "message_not_found"
    )
    client.chat_delete(channel=dm, ts=ts)
    assert slack.messages_in("U0ALICE") == []
    assert (
        api_error(lambda: client.api_call("chat.postMessage", json={"channel": dm}))["error"]
        == "no_text"
    )
    ts = client.chat_postMessage(channel="U0ALICE", text="v1")["ts"]
    empty = {"channel": dm, "ts": ts}
    assert api_error(lambda: client.api_call("chat.update", json=empty))["error"] == "no_text"


def test_ephemeral(slack, client):
    dm = slack.dm_channel("U0ALICE")
    resp = client.chat_postEphemeral(channel=dm, user="U0ALICE", text="only you")
    assert slack.ephemerals_for("U0ALICE")[0]["ts"] == resp["message_ts"]
    assert slack.messages_in(dm) == []


# ------------------------------------------------------------------------ Block Kit


def test_message_block_limits(client):
    too_many = [section(f"b{i}") for i in range(51)]
    err = api_error(lambda: client.chat_postMessage(channel="U0ALICE", text="x", blocks=too_many))
    assert err["error"] == "invalid_blocks"
    assert any("/blocks" in e for e in err["errors"])
    long = [section("x" * 3001)]
    err = api_error(lambda: client.chat_postMessage(channel="U0ALICE", text="x", blocks=long))
    assert err["error"] == "invalid_blocks"
    assert any("/blocks/0/text/text" in e for e in err["errors"])
    ok = client.chat_postMessage(channel="U0ALICE", text="x", blocks=[section("x" * 3000)])
    assert ok["ok"]


def test_modal_title_limit(slack, client):
    trigger = slack.issue_trigger("U0ALICE")
    err = api_error(lambda: client.views_open(trigger_id=trigger, view=modal("x" * 25)))
    assert err["error"] == "invalid_arguments"
    assert any("/view/title" in m for m in err["response_metadata"]["messages"])


def test_validators_are_pure():
    assert validate_message_blocks(INVITE_BLOCKS) == []
    dup = [section("a", "same"), section("b", "same")]
    assert any("duplicate block_id" in p for p in validate_message_blocks(dup))
    actions = {
        "type": "actions",
        "elements": [
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "1"}},
            {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "2"}},
        ],
    }
    assert any("duplicate action_id" in p for p in validate_message_blocks([actions]))
    header = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    assert validate_message_blocks([header])
    assert validate_view(modal()) == []
    assert any(
        "/view/private_metadata" in p for p in validate_view(modal(private_metadata="m" * 3001))
    )
    no_submit = modal()
    del no_submit["submit"]
    assert any("/view/submit" in p for p in validate_view(no_submit))
    inputs_in_message = modal()["blocks"][:1]
    assert validate_message_blocks(inputs_in_message)
    assert validate_view({"type": "home", "blocks": inputs_in_message}) == []


# --------------------------------------------------------------------------- modals


def test_trigger_id_single_use_and_expiry(slack, client):
    trigger = slack.issue_trigger("U0ALICE")
    view = client.views_open(trigger_id=trigger, view=modal())["view"]
    assert view["id"].startswith("V") and view["hash"]
    assert [v["id"] for v in slack.open_views("U0ALICE")] == [view["id"]]
    assert api_error(lambda: client.views_open(trigger_id=trigger, view=modal()))["error"] in (
        "exchanged_trigger_id",
        "invalid_trigger_id",
    )
    assert api_error(lambda: client.views_open(trigger_id="1.2.3", view=modal()))["error"] == (
        "invalid_trigger_id"
    )
    stale = slack.issue_trigger("U0ALICE")
    slack.advance(3.5)
    assert api_error(lambda: client.views_open(trigger_id=stale, view=modal()))["error"] == (
        "expired_trigger_id"
    )
    updated = client.views_update(view_id=view["id"], view=modal("Changed"))["view"]
    assert updated["id"] == view["id"] and updated["title"]["text"] == "Changed"


def test_views_publish_home(slack, client):
    home = {"type": "home", "blocks": [section("Your pairs")]}
    view = client.views_publish(user_id="U0ALICE", view=home)["view"]
    assert slack.home_view("U0ALICE")["id"] == view["id"]
    again = client.views_publish(user_id="U0ALICE", view=home)["view"]
    assert again["id"] == view["id"]
    err = api_error(lambda: client.views_publish(user_id="U0ALICE", view=modal()))
    assert err["error"] == "invalid_arguments"


# ------------------------------------------------------------------- faults, limits


def test_429_is_retried_by_slack_sdk(slack):
    client = WebClient(
        token="xoxb-test",
        base_url=slack.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
    )
    slack.inject("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    assert client.chat_postMessage(channel="U0ALICE", text="hi")["ok"]
    assert time.monotonic() - started >= 1.0
    calls = slack.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert calls[0].response["error"] == "ratelimited"


def test_500_is_retried_by_slack_sdk(slack):
    client = WebClient(
        token="xoxb-test",
        base_url=slack.base_url,
        retry_handlers=[ServerErrorRetryHandler(max_retry_count=2)],
    )
    slack.inject("users.info", status=500)
    assert client.users_info(user="U0ALICE")["ok"]
    assert [c.status for c in slack.calls_to("users.info")] == [500, 200]


def test_injected_error_and_dropped_connection(slack, client):
    slack.inject("conversations.open", error="cannot_dm_bot")
    assert api_error(lambda: client.conversations_open(users="U0ALICE"))["error"] == (
        "cannot_dm_bot"
    )
    assert client.conversations_open(users="U0ALICE")["ok"]
    # slack_sdk's default ConnectionErrorRetryHandler retries once, so two drops fail the call.
    slack.inject("auth.test", drop_connection=True, times=2)
    with pytest.raises(Exception) as info:  # noqa: B017 - urllib's exact error type varies
        client.auth_test()
    assert not isinstance(info.value, SlackApiError)
    slack.inject("auth.test", drop_connection=True)
    assert client.auth_test()["ok"]
    assert [c.status for c in slack.calls_to("auth.test")] == [0, 0, 0, 200]


def test_rate_limit_per_channel_allows_a_short_burst_then_one_a_second():
    with SlackEmulator() as emu:  # Slack's limits are on by default
        emu.add_user("U0ALICE", name="alice")
        emu.add_user("U0BOB", name="bob")
        client = WebClient(token="xoxb-test", base_url=emu.base_url)
        for i in range(RateLimits().per_channel_burst):
            assert client.chat_postMessage(channel="U0ALICE", text=str(i))["ok"]
        with pytest.raises(SlackApiError) as info:
            # The user id and the DM id are one channel, so they share one limit.
            client.chat_postMessage(channel=emu.dm_channel("U0ALICE"), text="one too many")
        assert info.value.response.status_code == 429
        assert info.value.response["error"] == "ratelimited"
        assert int(info.value.response.headers["Retry-After"]) >= 1
        assert client.chat_postMessage(channel="U0BOB", text="other channel")["ok"]


def test_rate_limits_can_be_turned_off():
    with SlackEmulator(rate_limits=None) as emu:
        emu.add_user("U0ALICE", name="alice")
        client = WebClient(token="xoxb-test", base_url=emu.base_url)
        for i in range(20):
            assert client.chat_postMessage(channel="U0ALICE", text=str(i))["ok"]


def test_rate_limit_per_method_tier_and_per_workspace():
    tokens = {"xoxb-one": "T0001", "xoxb-two": "T0002"}
    with SlackEmulator(tokens=tokens) as emu:
        emu.add_user("U0ALICE", name="alice")
        one = WebClient(token="xoxb-one", base_url=emu.base_url)
        two = WebClient(token="xoxb-two", base_url=emu.base_url)
        # users.info is Tier 4: 100 a minute, with a minute's worth of burst.
        for _ in range(SLACK_TIERS["users.info"]):
            one.users_info(user="U0ALICE")
        with pytest.raises(SlackApiError) as info:
            one.users_info(user="U0ALICE")
        assert info.value.response.status_code == 429
        assert int(info.value.response.headers["Retry-After"]) >= 1
        # Limits are per workspace: another workspace's calls are not counted.
        assert two.users_info(user="U0ALICE")["ok"]
        # ... and per method: a Tier 3 method still has its own allowance.
        assert one.conversations_open(users="U0ALICE")["ok"]


def test_every_served_method_has_a_published_tier():
    from slackemu.server import SlackEmulator as Emu

    special = {"chat.postMessage"}  # its own per-channel and workspace limits
    assert set(Emu._methods) - special <= set(SLACK_TIERS)


def test_rate_limit_workspace_cap():
    limits = RateLimits(per_channel_per_second=100.0, per_channel_burst=100, workspace_per_minute=3)
    with SlackEmulator(rate_limits=limits) as emu:
        client = WebClient(token="xoxb-test", base_url=emu.base_url)
        for i in range(3):
            emu.add_user(f"U{i}", name=f"u{i}")
            client.chat_postMessage(channel=f"U{i}", text="x")
        emu.add_user("U9", name="u9")
        with pytest.raises(SlackApiError) as info:
            client.chat_postMessage(channel="U9", text="x")
        assert int(info.value.response.headers["Retry-After"]) >= 1


# ------------------------------------------------------------------------ recording


def test_response_url_recorded_and_replaces_original(slack, client):
    ts = client.chat_postMessage(channel="U0ALICE", text="poll", blocks=INVITE_BLOCKS)["ts"]
    url = slack.new_response_url(channel=slack.dm_channel("U0ALICE"), user="U0ALICE", message_ts=ts)
    mark = slack.mark()
    body = json.dumps({"replace_original": True, "text": "You chose 4"}).encode()
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200
    call = slack.wait_for("response_url", lambda c: c.args["_url"] == url, after=mark)
    assert call.args["text"] == "You chose 4"
    assert slack.messages_in("U0ALICE")[0]["text"] == "You chose 4"
    # An answer with nothing in it: Slack's webhooks answer 400 no_text.
    empty = urllib.request.Request(url, b"{}", {"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(empty)
    assert refused.value.code == 400 and json.loads(refused.value.read())["error"] == "no_text"


def test_wait_for_is_event_driven_and_reports_on_timeout(slack, client):
    mark = slack.mark()
    threading.Timer(0.2, lambda: client.chat_postMessage(channel="U0BOB", text="late")).start()
    call = slack.wait_for("chat.postMessage", channel="U0BOB", after=mark, timeout=5)
    assert call.response["ok"]
    with pytest.raises(AssertionError, match="recent calls"):
        slack.wait_for("views.open", timeout=0.1)


def test_async_web_client(slack):
    async def go() -> str:
        client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
        resp = await client.chat_postMessage(channel="U0BOB", text="async")
        return resp["channel"]

    assert asyncio.run(go()) == slack.dm_channel("U0BOB")


# -------------------------------------------------------------------------- signing


def test_signatures_verify_with_slack_sdk():
    body = "token=x&command=%2Fmentor"
    now = int(time.time())
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(body, str(now), sign(SECRET, body, now))
    headers = signed_headers(SECRET, body.encode(), timestamp=now, retry_num=1)
    assert verifier.is_valid_request(body, headers)
    assert headers["X-Slack-Retry-Num"] == "1"
    assert not verifier.is_valid(body, str(now), sign("other", body, now))


# ------------------------------------------------------------------ driver -> app


class ThreadedApp:
    """An aiohttp app on its own loop and thread, like the real app under test."""

    def __init__(self, handler) -> None:
        self.handler = handler
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/slack/events", self.handler)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())
        self._loop.close()

    def __enter__(self) -> ThreadedApp:
        self._thread.start()
        self._ready.wait()
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()


class Receiver(ThreadedApp):
    """Checks the signature of, and records, everything the driver sends."""

    def __init__(self) -> None:
        super().__init__(self.handle)
        self.seen: list[dict] = []
        self.verifier = SignatureVerifier(SECRET)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if not self.verifier.is_valid_request(raw, dict(request.headers)):
            return web.Response(status=401)
        if request.content_type == "application/json":
            body = json.loads(raw)
            self.seen.append({"kind": body["type"], "body": body, "headers": dict(request.headers)})
            return web.Response(status=200)
        form = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        if "payload" in form:
            payload = json.loads(form["payload"])
            self.seen.append({"kind": payload["type"], "body": payload})
            if payload["type"] == "view_submission":
                focus = payload["view"]["state"]["values"]["focus"]["text"]["value"]
                if focus == "bad":
                    return web.json_response(
                        {"response_action": "errors", "errors": {"focus": "Say more"}}
                    )
            return web.Response(status=200)
        self.seen.append({"kind": "slash", "body": form})
        return web.json_response({"response_type": "ephemeral", "text": "ok"})


def test_driver_sends_signed_well_formed_requests(slack, client):
    with Receiver() as app:
        driver = slack.driver(app.url, SECRET)

        resp = driver.slash("U0ALICE", "start <@U0BOB|bob>")
        assert resp.status == 200 and resp.json["text"] == "ok"
        slash = app.seen[-1]["body"]
        assert slash["command"] == "/mentor" and slash["user_id"] == "U0ALICE"
        assert slash["channel_id"] == slack.dm_channel("U0ALICE")
        assert slash["response_url"] == resp.response_url
        # The trigger the driver sent is one the emulator accepts.
        assert client.views_open(trigger_id=slash["trigger_id"], view=modal())["ok"]

        ts = client.chat_postMessage(channel="U0BOB", text="invite", blocks=INVITE_BLOCKS)["ts"]
        message = driver.last_message_to("U0BOB")
        assert message["ts"] == ts
        assert driver.click("U0BOB", message, "accept").status == 200
        click = app.seen[-1]["body"]
        assert click["type"] == "block_actions"
        assert click["actions"][0]["action_id"] == "accept"
        assert click["actions"][0]["value"] == "pair-1"
        assert click["actions"][0]["block_id"] == "answer"
        assert click["container"] == {
            "type": "message",
            "message_ts": ts,
            "channel_id": slack.dm_channel("U0BOB"),
            "is_ephemeral": False,
        }
        assert click["user"]["id"] == "U0BOB" and click["message"]["ts"] == ts
        driver.click("U0BOB", message, "rating", value="4")
        assert app.seen[-1]["body"]["actions"][0]["selected_option"]["value"] == "4"

        view = driver.last_view_opened("U0ALICE")
        values = {"when": {"at": 1_900_000_000}, "focus": {"text": Input.plain_text("bad")}}
        refused = driver.submit_view("U0ALICE", view, values)
        assert refused.json["response_action"] == "errors"
        assert slack.open_views("U0ALICE"), "a refused submission keeps the modal open"
        values["focus"]["text"] = Input.plain_text("career")
        values["length"] = {"minutes": "45"}
        assert driver.submit_view("U0ALICE", view, values).status == 200
        sub = app.seen[-1]["body"]
        state = sub["view"]["state"]["values"]
        assert state["when"]["at"] == {
            "type": "datetimepicker",
            "selected_date_time": 1_900_000_000,
        }
        assert state["length"]["minutes"]["selected_option"]["text"]["text"] == "45 min"
        assert sub["view"]["callback_id"] == "schedule"
        assert slack.open_views("U0ALICE") == []

        driver.app_home_opened("U0ALICE")
        event = app.seen[-1]
        assert event["kind"] == "event_callback"
        assert event["body"]["event"]["type"] == "app_home_opened"
        retried = driver.event({"type": "app_home_opened", "user": "U0ALICE"}, retry_num=1)
        assert retried.status == 200
        assert app.seen[-1]["headers"]["X-Slack-Retry-Num"] == "1"

        assert driver.post(b"token=x", bad_signature=True).status == 401
        assert driver.post(b"token=x", timestamp=int(time.time()) - 600).status == 401
        assert [s.kind for s in driver.sent][:3] == ["slash", "block_actions", "block_actions"]


def test_bolt_app_round_trip(slack):
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp

    holder: dict = {}

    async def handle(request: web.Request) -> web.Response:
        if "bolt" not in holder:
            client = AsyncWebClient(token="xoxb-test", base_url=slack.base_url)
            bolt = AsyncApp(client=client, signing_secret=SECRET)

            @bolt.command("/mentor")
            async def mentor(ack, respond, body, client):
                await ack()
                await client.views_open(trigger_id=body["trigger_id"], view=modal())
                await respond("Opening the schedule")

            @bolt.action("accept")
            async def accept(ack, respond):
                await ack()
                await respond(replace_original=True, text="Accepted")

            @bolt.view("schedule")
            async def schedule(ack):
                await ack()

            holder["bolt"] = bolt
        bolt_resp = await holder["bolt"].async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_resp)

    with ThreadedApp(handle) as app:
        driver = slack.driver(app.url, SECRET)
        mark = slack.mark()
        resp = driver.slash("U0ALICE", "schedule")
        assert resp.status == 200
        slack.wait_for("response_url", lambda c: c.args["_url"] == resp.response_url, after=mark)
        slack.wait_for("views.open", after=mark)
        view = driver.last_view_opened("U0ALICE")
        assert view["callback_id"] == "schedule"
        values = {"when": {"at": 1_900_000_000}, "focus": {"text": "career"}}
        assert driver.submit_view("U0ALICE", view, values).status == 200
        assert slack.open_views("U0ALICE") == []

        sync = WebClient(token="xoxb-test", base_url=slack.base_url)
        sync.chat_postMessage(channel="U0BOB", text="invite", blocks=INVITE_BLOCKS)
        mark = slack.mark()
        assert driver.click("U0BOB", driver.last_message_to("U0BOB"), "accept").status == 200
        slack.wait_for("response_url", after=mark)
        assert driver.last_message_to("U0BOB")["text"] == "Accepted"
        assert driver.post(b"command=%2Fmentor", bad_signature=True).status == 401


def test_files_upload_v2_shares_several_files_in_a_group_dm(slack, client):
    """slack_sdk's files_upload_v2 with ``channel`` set to a group DM: one
    getUploadURLExternal and upload per file, one completeUploadExternal, and one
    message in the group DM holding every file (as the meetings' .ics files go)."""
    group = client.conversations_open(users="U0ALICE,U0BOB")["channel"]["id"]
    assert group.startswith("G")
    ics = b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
    response = client.files_upload_v2(
        channel=group,
        file_uploads=[
            {"content": ics, "filename": f"mentoring-meeting-{n}.ics", "title": "Meeting"}
            for n in (1, 2)
        ],
    )
    assert len(slack.calls_to("files.getUploadURLExternal")) == 2
    assert slack.calls_to("files.completeUploadExternal")[-1].args["channel_id"] == group
    [message] = [m for m in slack.messages_in(group) if m.get("files")]
    assert [f["id"] for f in message["files"]] == [f["id"] for f in response["files"]]
    assert {f["mimetype"] for f in message["files"]} == {"text/calendar"}
    assert all(slack.file_content(f["id"]) == ics for f in message["files"])
    assert message["user"] == slack.bot_user_id and message["text"] == ""


def test_a_closed_modal_cannot_be_updated(slack, client):
    """bolt-js#1309: views.update of a modal already closed answers not_found."""
    view = client.views_open(trigger_id=slack.issue_trigger("U0ALICE"), view=modal())["view"]
    assert client.views_update(view_id=view["id"], view=modal("Still open"))["ok"]
    slack.close_view("U0ALICE", view["id"])
    err = api_error(lambda: client.views_update(view_id=view["id"], view=modal("Gone")))
    assert err["error"] == "not_found"
    home = client.views_publish(user_id="U0ALICE", view={"type": "home", "blocks": []})["view"]
    assert client.views_update(view_id=home["id"], view={"type": "home", "blocks": []})["ok"]


def test_a_view_over_250_kb_is_refused(slack, client):
    """slack-api-ref views.update: "view_too_large": "greater than 250kb", read strictly
    as 250,000 bytes of JSON; 100 blocks of 2,900 characters are within every other
    limit."""
    big = {
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2_900}}
            for _ in range(100)
        ],
    }
    for call in (
        lambda: client.views_publish(user_id="U0ALICE", view=big),
        lambda: client.views_open(
            trigger_id=slack.issue_trigger("U0ALICE"), view=modal(blocks=big["blocks"])
        ),
    ):
        assert api_error(call)["error"] == "view_too_large"
    big["blocks"] = big["blocks"][:80]  # about 240 kB: accepted
    assert client.views_publish(user_id="U0ALICE", view=big)["ok"]


def test_files_are_shared_to_a_conversation_not_to_a_user(slack, client):
    """bolt-js#2115: completeUploadExternal's channel_id must be a C/G/D/Z id."""
    err = api_error(
        lambda: client.files_upload_v2(channel="U0ALICE", content=b"x", filename="a.ics")
    )
    assert err["error"] == "invalid_arguments"
    assert "json-pointer:/channel_id" in err["response_metadata"]["messages"][0]
    dm = client.conversations_open(users="U0ALICE")["channel"]["id"]
    assert client.files_upload_v2(channel=dm, content=b"x", filename="a.ics")["ok"]


def test_view_submission_answers_slack_cannot_use_are_refused(slack):
    view = {**modal(), "blocks": [*modal()["blocks"]]}
    answers = iter(
        [
            {"response_action": "errors", "errors": {"nope": "Not a block of the view"}},
            {"response_action": "errors", "errors": {}},
            {"response_action": "bogus"},
            {"response_action": "update"},
        ]
    )

    async def handle(request: web.Request) -> web.Response:
        return web.json_response(next(answers))

    with ThreadedApp(handle) as app:
        driver = slack.driver(app.url, SECRET)
        opened = slack.issue_trigger("U0ALICE")
        WebClient(token="xoxb-test", base_url=slack.base_url).views_open(
            trigger_id=opened, view=view
        )
        shown = driver.last_view_opened("U0ALICE")
        for refused in (
            "not an input block",
            "needs an object",
            "no response_action",
            "without a view",
        ):
            with pytest.raises(ValueError, match=refused):
                driver.submit_view("U0ALICE", shown, {"when": {"at": 1_900_000_000}})
