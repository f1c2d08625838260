"""What the emulated Slack sends, surface by surface, and how its trigger ids behave.

Each rule names its public reference (see the README's emulator table):

* block_actions in a message: ``container`` type message with message_ts,
  channel_id and is_ephemeral, a ``channel``, a ``response_url``
  (docs.slack.dev/reference/interaction-payloads/block_actions-payload);
* block_actions in App Home or a modal: ``container`` type view with the
  view_id, the ``view`` itself, no ``response_url`` and no ``channel``
  (same page; slackapi/bolt-js#332);
* view_submission: the ``view``, ``response_urls: []`` and no ``response_url``
  (docs.slack.dev/reference/interaction-payloads/view-interactions-payload);
* trigger ids: one exchange, within 3 s (docs.slack.dev/tools/bolt-python/concepts/
  opening-modals), else ``expired_trigger_id`` / ``exchanged_trigger_id`` /
  ``invalid_trigger_id`` (docs.slack.dev/reference/methods/views.open).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt.request.internals import parse_body
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.web import parse_slack_body
from slackemu import SlackEmulator
from slackemu.driver import CalledSlackBeforeAck

SECRET = "shapes-secret"
ALICE, BOB = "U0ALICE", "U0BOB"

BUTTONS = [
    {"type": "section", "block_id": "intro", "text": {"type": "mrkdwn", "text": "Hi"}},
    {
        "type": "actions",
        "block_id": "answer",
        "elements": [
            {
                "type": "button",
                "action_id": "go",
                "text": {"type": "plain_text", "text": "Go"},
                "value": "7",
            }
        ],
    },
]


def modal() -> dict:
    return {
        "type": "modal",
        "callback_id": "form",
        "title": {"type": "plain_text", "text": "Form"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            *BUTTONS,
            {
                "type": "input",
                "block_id": "note",
                "label": {"type": "plain_text", "text": "Note"},
                "element": {"type": "plain_text_input", "action_id": "value"},
            },
        ],
    }


class Capture:
    """An app that answers 200 and keeps what it was sent (the driver's transport)."""

    def __init__(self, slack: SlackEmulator | None = None, call_slack: bool = False) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.slack = slack
        self.call_slack = call_slack

    def __call__(
        self, method: str, url: str, body: bytes, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        self.bodies.append(json.loads(form["payload"]) if "payload" in form else form)
        if self.call_slack and self.slack is not None:
            WebClient(token="xoxb-x", base_url=self.slack.base_url).auth_test()
        return 200, {"Content-Type": "text/plain"}, b""


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    with SlackEmulator(rate_limits=None) as emulator:
        emulator.add_user(ALICE, name="alice", real_name="Alice")
        emulator.add_user(BOB, name="bob", real_name="Bob")
        yield emulator


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(token="xoxb-shapes", base_url=slack.base_url)


def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response["error"]


def test_a_button_in_a_message(slack: SlackEmulator, client: WebClient) -> None:
    app = Capture()
    driver = slack.driver("http://app.invalid", SECRET, http=app)
    ts = client.chat_postMessage(channel=BOB, text="x", blocks=BUTTONS)["ts"]
    driver.click(BOB, driver.last_message_to(BOB), "go")
    payload = app.bodies[-1]
    channel = slack.dm_channel(BOB)
    assert payload["container"] == {
        "type": "message",
        "message_ts": ts,
        "channel_id": channel,
        "is_ephemeral": False,
    }
    assert payload["channel"]["id"] == channel
    assert payload["message"]["ts"] == ts
    assert payload["response_url"].startswith(slack.url)
    assert "view" not in payload


def test_a_button_in_an_ephemeral_message(slack: SlackEmulator, client: WebClient) -> None:
    app = Capture()
    driver = slack.driver("http://app.invalid", SECRET, http=app)
    channel = slack.dm_channel(BOB)
    ts = client.chat_postEphemeral(channel=channel, user=BOB, text="x", blocks=BUTTONS)[
        "message_ts"
    ]
    driver.click(BOB, {"ts": ts, "blocks": BUTTONS}, "go", channel=channel)
    payload = app.bodies[-1]
    assert payload["container"]["is_ephemeral"] is True
    assert payload["response_url"] and "message" not in payload


def test_a_button_in_app_home_has_no_response_url_and_no_channel(
    slack: SlackEmulator, client: WebClient
) -> None:
    app = Capture()
    driver = slack.driver("http://app.invalid", SECRET, http=app)
    home = client.views_publish(user_id=ALICE, view={"type": "home", "blocks": BUTTONS})["view"]
    driver.click_in_view(ALICE, slack.home_view(ALICE), "go")
    payload = app.bodies[-1]
    assert payload["container"] == {"type": "view", "view_id": home["id"]}
    assert payload["view"]["id"] == home["id"] and payload["view"]["type"] == "home"
    assert "response_url" not in payload
    assert "channel" not in payload and "message" not in payload
    assert payload["trigger_id"]


def test_a_button_in_a_modal_has_no_response_url(slack: SlackEmulator, client: WebClient) -> None:
    app = Capture()
    driver = slack.driver("http://app.invalid", SECRET, http=app)
    opened = client.views_open(trigger_id=slack.issue_trigger(ALICE), view=modal())["view"]
    driver.click_in_view(ALICE, slack.view(opened["id"]), "go", values={"note": {"value": "hi"}})
    payload = app.bodies[-1]
    assert payload["container"] == {"type": "view", "view_id": opened["id"]}
    assert payload["view"]["type"] == "modal"
    assert payload["view"]["state"]["values"]["note"]["value"]["value"] == "hi"
    assert "response_url" not in payload and "channel" not in payload


def test_a_view_submission_carries_an_empty_response_urls_only(
    slack: SlackEmulator, client: WebClient
) -> None:
    app = Capture()
    driver = slack.driver("http://app.invalid", SECRET, http=app)
    opened = client.views_open(trigger_id=slack.issue_trigger(ALICE), view=modal())["view"]
    driver.submit_view(ALICE, slack.view(opened["id"]), {"note": {"value": "hi"}})
    payload = app.bodies[-1]
    assert payload["type"] == "view_submission"
    assert payload["response_urls"] == []
    assert "response_url" not in payload and "channel" not in payload
    assert payload["view"]["id"] == opened["id"]


def test_trigger_ids_work_once_and_for_three_seconds(
    slack: SlackEmulator, client: WebClient
) -> None:
    app = Capture()
    driver = slack.driver("http://app.invalid", SECRET, http=app)
    first = driver.slash(ALICE, "schedule").trigger_id
    assert client.views_open(trigger_id=first, view=modal())["ok"]
    assert error_of(lambda: client.views_open(trigger_id=first, view=modal())) == (
        "exchanged_trigger_id"
    )
    late = driver.slash(ALICE, "schedule").trigger_id
    slack.advance(3.0)
    assert error_of(lambda: client.views_open(trigger_id=late, view=modal())) == (
        "expired_trigger_id"
    )
    assert error_of(lambda: client.views_open(trigger_id="1.2.abc", view=modal())) == (
        "invalid_trigger_id"
    )
    # Just inside the window it still works.
    prompt = driver.slash(ALICE, "schedule").trigger_id
    slack.advance(2.9)
    assert client.views_open(trigger_id=prompt, view=modal())["ok"]


def test_strict_mode_fails_a_request_answered_after_a_slack_call(slack: SlackEmulator) -> None:
    polite = slack.driver("http://app.invalid", SECRET, http=Capture(slack), strict=True)
    assert polite.slash(ALICE, "help").status == 200
    rude = slack.driver(
        "http://app.invalid", SECRET, http=Capture(slack, call_slack=True), strict=True
    )
    with pytest.raises(CalledSlackBeforeAck, match="auth.test"):
        rude.slash(ALICE, "help")
    lenient = slack.driver("http://app.invalid", SECRET, http=Capture(slack, call_slack=True))
    assert lenient.slash(ALICE, "help").status == 200


@pytest.mark.parametrize(
    "text", ["payload", "what is a payload?", "payload=1", "{", "token=x&payload={}"]
)
def test_a_slash_command_mentioning_payload_keeps_its_fields(text: str) -> None:
    from urllib.parse import urlencode

    body = urlencode({"token": "t", "command": "/mentor", "text": text, "user_id": ALICE})
    form = "application/x-www-form-urlencoded"
    # Bolt's own parser sees the substring "payload" and loses the command (HTTP 404).
    if "payload" in body:
        assert "command" not in parse_body(body, form)
    parsed = parse_slack_body(body, form)
    assert parsed["command"] == "/mentor" and parsed["text"] == text


def test_interactive_and_event_bodies_still_parse() -> None:
    from urllib.parse import urlencode

    action = {"type": "block_actions", "actions": [{"action_id": "go"}]}
    body = urlencode({"payload": json.dumps(action)})
    assert parse_slack_body(body, "application/x-www-form-urlencoded") == action
    event = {"type": "event_callback", "event": {"type": "app_home_opened"}}
    assert parse_slack_body(json.dumps(event), "application/json") == event
    for junk in ("payload=not-json", "payload=%7B", "payload=[1]", "payload=" + "[" * 5000):
        assert parse_slack_body(junk, "application/x-www-form-urlencoded") == {}
    assert parse_slack_body("{broken", "application/json") == {}
