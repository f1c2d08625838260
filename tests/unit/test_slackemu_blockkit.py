"""The emulator refuses what Slack refuses in Block Kit, and flags typed text sent on live.

Each rule here cites its source beside the constant in ``slackemu/limits.py``.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from slackemu import Input, SlackEmulator, validate_message_blocks, validate_view
from slackemu.limits import validate_message_text
from slackemu.taint import live_tokens, mrkdwn_strings

ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"
EVIL = "<!here> <@U0CAROL> <https://evil.example|Confirm your meeting> & co"


def plain(text: str) -> dict:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> dict:
    return {"type": "mrkdwn", "text": text}


def option(value: str, text: str | None = None, **extra: Any) -> dict:
    return {"text": plain(text or value), "value": value, **extra}


def in_input(element: dict) -> list[dict]:
    return [{"type": "input", "block_id": "b", "label": plain("L"), "element": element}]


def modal(blocks: list[dict], **extra: Any) -> dict:
    return {
        "type": "modal",
        "title": plain("T"),
        "submit": plain("Save"),
        "blocks": blocks,
        **extra,
    }


def section_with(accessory: dict) -> list[dict]:
    return [{"type": "section", "text": mrkdwn("x"), "accessory": accessory}]


def button(**extra: Any) -> dict:
    return {"type": "button", "action_id": "go", "text": plain("Go"), **extra}


def confirm(**changes: Any) -> dict:
    dialog = {
        "title": plain("Sure?"),
        "text": plain("It can't be undone."),
        "confirm": plain("Yes"),
        "deny": plain("No"),
    }
    dialog.update(changes)
    return dialog


def problems_in_view(blocks: list[dict]) -> list[str]:
    return validate_view(modal(blocks))


# (payload maker, a fragment of the expected JSON pointer); each one is refused by Slack.
REFUSED: dict[str, tuple[Callable[[], list[str]], str]] = {
    "option description over 75": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "checkboxes",
                    "action_id": "a",
                    "options": [option("1", description=plain("d" * 76))],
                }
            )
        ),
        "/options/0/description/text",
    ),
    "option text over 75": (
        lambda: problems_in_view(
            in_input(
                {"type": "static_select", "action_id": "a", "options": [option("1", "t" * 76)]}
            )
        ),
        "/options/0/text/text",
    ),
    "option value over 150": (
        lambda: problems_in_view(
            in_input({"type": "static_select", "action_id": "a", "options": [option("v" * 151)]})
        ),
        "/options/0/value",
    ),
    "option value missing": (
        lambda: problems_in_view(
            in_input({"type": "static_select", "action_id": "a", "options": [{"text": plain("x")}]})
        ),
        "/options/0/value",
    ),
    "mrkdwn option text in a select": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "static_select",
                    "action_id": "a",
                    "options": [{"text": mrkdwn("*x*"), "value": "x"}],
                }
            )
        ),
        "/options/0/text/type",
    ),
    "mrkdwn description in an overflow": (
        lambda: validate_message_blocks(
            section_with(
                {
                    "type": "overflow",
                    "action_id": "o",
                    "options": [option("1", description=mrkdwn("d"))],
                }
            )
        ),
        "/options/0/description/type",
    ),
    "url on a select option": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "static_select",
                    "action_id": "a",
                    "options": [option("1", url="https://example.com")],
                }
            )
        ),
        "/options/0/url",
    ),
    "overflow option url over 3000": (
        lambda: validate_message_blocks(
            section_with(
                {
                    "type": "overflow",
                    "action_id": "o",
                    "options": [option("1", url="https://e.example/" + "a" * 3000)],
                }
            )
        ),
        "/options/0/url",
    ),
    "confirm text as mrkdwn": (
        lambda: validate_message_blocks(section_with(button(confirm=confirm(text=mrkdwn("x"))))),
        "/confirm/text/type",
    ),
    "confirm title over 100": (
        lambda: validate_message_blocks(
            section_with(button(confirm=confirm(title=plain("t" * 101))))
        ),
        "/confirm/title/text",
    ),
    "confirm text over 300": (
        lambda: validate_message_blocks(
            section_with(button(confirm=confirm(text=plain("t" * 301))))
        ),
        "/confirm/text/text",
    ),
    "confirm button over 30": (
        lambda: validate_message_blocks(
            section_with(button(confirm=confirm(deny=plain("d" * 31))))
        ),
        "/confirm/deny/text",
    ),
    "confirm deny missing": (
        lambda: validate_message_blocks(section_with(button(confirm=confirm(deny=None)))),
        "/confirm/deny",
    ),
    "confirm style": (
        lambda: validate_message_blocks(section_with(button(confirm=confirm(style="warning")))),
        "/confirm/style",
    ),
    "checkboxes over 10 options": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "checkboxes",
                    "action_id": "a",
                    "options": [option(str(i)) for i in range(11)],
                }
            )
        ),
        "/element/options",
    ),
    "radio buttons over 10 options": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "radio_buttons",
                    "action_id": "a",
                    "options": [option(str(i)) for i in range(11)],
                }
            )
        ),
        "/element/options",
    ),
    "initial_options not among the options": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "checkboxes",
                    "action_id": "a",
                    "options": [option("1")],
                    "initial_options": [option("2")],
                }
            )
        ),
        "/element/initial_options/0",
    ),
    "initial_option with other text than its option": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "radio_buttons",
                    "action_id": "a",
                    "options": [option("1", "One")],
                    "initial_option": option("1", "Uno"),
                }
            )
        ),
        "/element/initial_option",
    ),
    "select initial_option not among the options": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "static_select",
                    "action_id": "a",
                    "options": [option("1")],
                    "initial_option": option("9"),
                }
            )
        ),
        "/element/initial_option",
    ),
    "select with options and option_groups": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "static_select",
                    "action_id": "a",
                    "options": [option("1")],
                    "option_groups": [{"label": plain("G"), "options": [option("2")]}],
                }
            )
        ),
        "/element]",
    ),
    "option group label over 75": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "static_select",
                    "action_id": "a",
                    "option_groups": [{"label": plain("g" * 76), "options": [option("2")]}],
                }
            )
        ),
        "/option_groups/0/label/text",
    ),
    "multi-select max_selected_items 0": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "multi_static_select",
                    "action_id": "a",
                    "options": [option("1")],
                    "max_selected_items": 0,
                }
            )
        ),
        "/element/max_selected_items",
    ),
    "plain_text_input max_length over 3000": (
        lambda: problems_in_view(
            in_input({"type": "plain_text_input", "action_id": "a", "max_length": 3001})
        ),
        "/element/max_length",
    ),
    "plain_text_input min_length over 3000": (
        lambda: problems_in_view(
            in_input({"type": "plain_text_input", "action_id": "a", "min_length": 3001})
        ),
        "/element/min_length",
    ),
    "plain_text_input min_length over max_length": (
        lambda: problems_in_view(
            in_input(
                {"type": "plain_text_input", "action_id": "a", "min_length": 10, "max_length": 5}
            )
        ),
        "/element/min_length",
    ),
    "plain_text_input initial_value over max_length": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "plain_text_input",
                    "action_id": "a",
                    "max_length": 3,
                    "initial_value": "four",
                }
            )
        ),
        "/element/initial_value",
    ),
    "number_input without is_decimal_allowed": (
        lambda: problems_in_view(in_input({"type": "number_input", "action_id": "a"})),
        "/element/is_decimal_allowed",
    ),
    "number_input min over max": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "number_input",
                    "action_id": "a",
                    "is_decimal_allowed": False,
                    "min_value": "5",
                    "max_value": "1",
                }
            )
        ),
        "/element/min_value",
    ),
    "number_input decimal where whole numbers only": (
        lambda: problems_in_view(
            in_input(
                {
                    "type": "number_input",
                    "action_id": "a",
                    "is_decimal_allowed": False,
                    "initial_value": "1.5",
                }
            )
        ),
        "/element/initial_value",
    ),
    "datetimepicker initial_date_time in milliseconds": (
        lambda: problems_in_view(
            in_input(
                {"type": "datetimepicker", "action_id": "a", "initial_date_time": 1_900_000_000_000}
            )
        ),
        "/element/initial_date_time",
    ),
    "datepicker initial_date format": (
        lambda: problems_in_view(
            in_input({"type": "datepicker", "action_id": "a", "initial_date": "02/03/2026"})
        ),
        "/element/initial_date",
    ),
    "timepicker initial_time format": (
        lambda: problems_in_view(
            in_input({"type": "timepicker", "action_id": "a", "initial_time": "9:00"})
        ),
        "/element/initial_time",
    ),
    "placeholder over 150": (
        lambda: problems_in_view(
            in_input(
                {"type": "plain_text_input", "action_id": "a", "placeholder": plain("p" * 151)}
            )
        ),
        "/element/placeholder/text",
    ),
    "input label over 2000": (
        lambda: problems_in_view(
            [
                {
                    "type": "input",
                    "label": plain("l" * 2001),
                    "element": {"type": "plain_text_input"},
                }
            ]
        ),
        "/label/text",
    ),
    "input hint over 2000": (
        lambda: problems_in_view(
            [
                {
                    "type": "input",
                    "label": plain("L"),
                    "hint": plain("h" * 2001),
                    "element": {"type": "plain_text_input"},
                }
            ]
        ),
        "/hint/text",
    ),
    "input label as mrkdwn": (
        lambda: problems_in_view(
            [{"type": "input", "label": mrkdwn("L"), "element": {"type": "plain_text_input"}}]
        ),
        "/label/type",
    ),
    "a button in an input block": (
        lambda: problems_in_view([{"type": "input", "label": plain("L"), "element": button()}]),
        "/element/type",
    ),
    "modal title over 24": (
        lambda: validate_view(modal([], title=plain("t" * 25))),
        "/view/title/text",
    ),
    "modal submit over 24": (
        lambda: validate_view(modal([], submit=plain("s" * 25))),
        "/view/submit/text",
    ),
    "modal close over 24": (
        lambda: validate_view(modal([], close=plain("c" * 25))),
        "/view/close/text",
    ),
    "private_metadata over 3000": (
        lambda: validate_view(modal([], private_metadata="m" * 3001)),
        "/view/private_metadata",
    ),
    "callback_id over 255": (
        lambda: validate_view(modal([], callback_id="c" * 256)),
        "/view/callback_id",
    ),
    "view over 100 blocks": (
        lambda: problems_in_view([{"type": "divider"}] * 101),
        "/view/blocks]",
    ),
    "message over 50 blocks": (
        lambda: validate_message_blocks([{"type": "divider"}] * 51),
        "/blocks]",
    ),
    "header over 150": (
        lambda: validate_message_blocks([{"type": "header", "text": plain("h" * 151)}]),
        "/blocks/0/text/text",
    ),
    "section text over 3000": (
        lambda: validate_message_blocks([{"type": "section", "text": mrkdwn("s" * 3001)}]),
        "/blocks/0/text/text",
    ),
    "section over 10 fields": (
        lambda: validate_message_blocks([{"type": "section", "fields": [mrkdwn("f")] * 11}]),
        "/blocks/0/fields]",
    ),
    "section field over 2000": (
        lambda: validate_message_blocks([{"type": "section", "fields": [mrkdwn("f" * 2001)]}]),
        "/blocks/0/fields/0/text",
    ),
    "context over 10 elements": (
        lambda: validate_message_blocks([{"type": "context", "elements": [mrkdwn("c")] * 11}]),
        "/blocks/0/elements]",
    ),
    "context element over 3000": (
        lambda: validate_message_blocks([{"type": "context", "elements": [mrkdwn("c" * 3001)]}]),
        "/blocks/0/elements/0/text",
    ),
    "actions over 25 elements": (
        lambda: validate_message_blocks(
            [
                {
                    "type": "actions",
                    "elements": [button(action_id=f"b{i}") for i in range(26)],
                }
            ]
        ),
        "/blocks/0/elements]",
    ),
    "button text over 75": (
        lambda: validate_message_blocks(section_with(button(text=plain("b" * 76)))),
        "/accessory/text/text",
    ),
    "button value over 2000": (
        lambda: validate_message_blocks(section_with(button(value="v" * 2001))),
        "/accessory/value",
    ),
    "button url over 3000": (
        lambda: validate_message_blocks(
            section_with(button(url="https://e.example/" + "u" * 3000))
        ),
        "/accessory/url",
    ),
    "block_id over 255": (
        lambda: validate_message_blocks([{"type": "divider", "block_id": "b" * 256}]),
        "/blocks/0/block_id",
    ),
    "duplicate block_id": (
        lambda: validate_message_blocks([{"type": "divider", "block_id": "x"}] * 2),
        "/blocks/1/block_id",
    ),
    "duplicate action_id in one block": (
        lambda: validate_message_blocks([{"type": "actions", "elements": [button(), button()]}]),
        "/blocks/0/elements/1/action_id",
    ),
    "emoji on a mrkdwn text": (
        lambda: validate_message_blocks(
            [{"type": "section", "text": {**mrkdwn("x"), "emoji": True}}]
        ),
        "/blocks/0/text/emoji",
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_emulator_refuses_what_slack_refuses(case: str) -> None:
    check, pointer = REFUSED[case]
    problems = check()
    assert any(pointer in f"{p}]" for p in problems), (case, problems)


def test_what_slack_accepts_passes() -> None:
    choices = [option("1", description=mrkdwn("*why*")), option("2")]
    blocks = [
        {
            "type": "input",
            "block_id": "pairs",
            "label": plain("Pairs"),
            "element": {
                "type": "checkboxes",
                "action_id": "a",
                "options": [{**choices[0], "text": mrkdwn("<@U1> → <@U2>")}, choices[1]],
                "initial_options": [{**choices[0], "text": mrkdwn("<@U1> → <@U2>")}],
            },
        },
        {
            "type": "input",
            "block_id": "n",
            "label": plain("N"),
            "element": {
                "type": "number_input",
                "action_id": "a",
                "is_decimal_allowed": True,
                "min_value": "0.5",
                "max_value": "10",
                "initial_value": "2.5",
            },
        },
        {
            "type": "input",
            "block_id": "t",
            "label": plain("T"),
            "element": {
                "type": "plain_text_input",
                "action_id": "a",
                "min_length": 0,
                "max_length": 3000,
                "initial_value": "x" * 3000,
            },
        },
        {
            "type": "input",
            "block_id": "when",
            "label": plain("When"),
            "element": {
                "type": "datetimepicker",
                "action_id": "a",
                "initial_date_time": 1_900_000_000,
            },
        },
        *section_with(
            {
                "type": "overflow",
                "action_id": "o",
                "options": [option("1", url="https://example.com")],
            }
        ),
        *section_with(button(confirm=confirm(style="danger"))),
    ]
    assert problems_in_view(blocks) == []


def test_message_text_limit() -> None:
    assert validate_message_text("x" * 40_000) == []
    assert validate_message_text("x" * 40_001)


# ------------------------------------------------------------------ through the server


@pytest.fixture
def slack():
    with SlackEmulator() as emu:
        for user, name in ((ALICE, "alice"), (BOB, "bob"), (CAROL, "carol")):
            emu.add_user(user, name=name)
        yield emu


@pytest.fixture
def client(slack):
    return WebClient(token="xoxb-test", base_url=slack.base_url)


def post_json(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(
        url, json.dumps(body).encode(), {"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_messages_and_views_are_refused_through_the_api(slack, client) -> None:
    long_description = in_input(
        {
            "type": "checkboxes",
            "action_id": "a",
            "options": [option("1", description=plain("d" * 76))],
        }
    )
    with pytest.raises(SlackApiError) as info:
        client.views_publish(user_id=ALICE, view={"type": "home", "blocks": long_description})
    assert "description" in str(info.value.response["response_metadata"])
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(
            channel=ALICE, text="x", blocks=section_with(button(confirm=confirm(style="x")))
        )
    assert info.value.response["error"] == "invalid_blocks"


def test_response_urls_check_text_and_blocks(slack) -> None:
    url = slack.new_response_url(channel=slack.dm_channel(ALICE), user=ALICE)
    status, body = post_json(url, {"text": "x" * 40_001})
    assert (status, body["error"]) == (400, "msg_too_long")
    status, body = post_json(
        url, {"text": "x", "blocks": [{"type": "header", "text": plain("h" * 151)}]}
    )
    assert (status, body["error"]) == (400, "invalid_blocks")
    assert post_json(url, {"text": "fine"})[0] == 200


class FakeApp:
    """The app's side of the driver's HTTP: scripted answers, requests kept."""

    def __init__(self) -> None:
        self.answers: list[dict | None] = []
        self.seen: list[bytes] = []

    def __call__(self, method: str, url: str, body: bytes, headers: dict) -> tuple:
        self.seen.append(body)
        answer = self.answers.pop(0) if self.answers else None
        if answer is None:
            return 200, {}, b""
        return 200, {"Content-Type": "application/json"}, json.dumps(answer).encode()


def open_modal(slack, client, user: str, blocks: list[dict]) -> dict:
    trigger = slack.issue_trigger(user)
    return client.views_open(trigger_id=trigger, view=modal(blocks))["view"]


FOCUS = [
    {
        "type": "input",
        "block_id": "focus",
        "label": plain("Focus"),
        "element": {"type": "plain_text_input", "action_id": "text"},
    }
]


def test_response_action_views_go_through_the_validator(slack, client) -> None:
    app = FakeApp()
    driver = slack.driver("http://app.invalid", "secret", http=app)
    view = open_modal(slack, client, ALICE, FOCUS)
    app.answers.append({"response_action": "update", "view": modal([], title=plain("t" * 25))})
    with pytest.raises(ValueError, match="title"):
        driver.submit_view(ALICE, view, {"focus": {"text": Input.plain_text("x")}})
    refused = slack.calls_to("view_submission.response_action")
    assert refused and refused[-1].response["error"] == "invalid_arguments"
    assert slack.open_views(ALICE)[0]["id"] == view["id"], "the modal is left as it was"
    app.answers.append({"response_action": "push", "view": modal(FOCUS, submit=None)})
    with pytest.raises(ValueError, match="submit"):
        driver.submit_view(ALICE, view, {"focus": {"text": Input.plain_text("x")}})
    app.answers.append({"response_action": "update", "view": modal(FOCUS, title=plain("Fine"))})
    driver.submit_view(ALICE, view, {"focus": {"text": Input.plain_text("x")}})
    assert slack.open_views(ALICE)[0]["title"]["text"] == "Fine"


def test_slash_command_answers_go_through_the_validator(slack) -> None:
    app = FakeApp()
    driver = slack.driver("http://app.invalid", "secret", http=app)
    app.answers.append({"text": "x", "blocks": [{"type": "header", "text": plain("h" * 151)}]})
    with pytest.raises(ValueError, match="151|150"):
        driver.slash(ALICE, "help")
    assert slack.calls_to("slash_command.response")[-1].response["error"] == "invalid_blocks"
    app.answers.append({"response_type": "ephemeral", "text": "fine"})
    assert driver.slash(ALICE, "help").json["text"] == "fine"


# ------------------------------------------------------------------------ mrkdwn taint


def test_live_tokens_and_mrkdwn_strings() -> None:
    assert live_tokens(EVIL) == [
        "<!here>",
        "<@U0CAROL>",
        "<https://evil.example|Confirm your meeting>",
    ]
    assert live_tokens("&lt;!here&gt; <!date^1^{date}|x> a < b") == []
    assert live_tokens("<!subteam^S1|team> <#C1|general> <mailto:a@b.example>") == [
        "<!subteam^S1|team>",
        "<#C1|general>",
        "<mailto:a@b.example>",
    ]
    payload = {
        "text": "top",
        "blocks": [
            {"type": "header", "text": plain("plain")},
            {"type": "section", "text": mrkdwn("md"), "fields": [mrkdwn("f")]},
            {"type": "context", "elements": [plain("p"), mrkdwn("c")]},
        ],
    }
    shown = dict(mrkdwn_strings(payload, message=True))
    assert shown == {
        "/text": "top",
        "/blocks/1/text/text": "md",
        "/blocks/1/fields/0/text": "f",
        "/blocks/2/elements/1/text": "c",
    }
    assert "/text" not in dict(mrkdwn_strings({**payload, "mrkdwn": False}, message=True))


def test_typed_text_sent_live_to_someone_else_is_flagged(slack, client) -> None:
    slack.note_typed(BOB, EVIL)
    client.chat_postMessage(channel=ALICE, text=f"Bob says: {EVIL}")
    flagged = slack.mrkdwn_violations
    assert len(flagged) == 3 and all(BOB in v and ALICE in v for v in flagged)
    assert any("'<!here>'" in v and "/text" in v for v in flagged)


def test_escaped_plain_or_only_seen_by_the_typist_is_fine(slack, client) -> None:
    slack.note_typed(BOB, EVIL)
    escaped = EVIL.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    client.chat_postMessage(
        channel=ALICE,
        text=f"Bob says: {escaped}",
        blocks=[
            {"type": "section", "text": mrkdwn(escaped)},
            {"type": "header", "text": plain(EVIL[:150])},
        ],
    )
    client.chat_postMessage(channel=BOB, text=f"You said: {EVIL}")  # their own DM
    client.chat_postEphemeral(channel=slack.dm_channel(BOB), user=BOB, text=EVIL)
    client.chat_postMessage(channel=ALICE, text=EVIL, mrkdwn=False)  # shown literally
    open_modal(slack, client, BOB, [{"type": "section", "text": mrkdwn(EVIL)}])
    assert slack.mrkdwn_violations == []


def test_views_group_dms_updates_and_response_urls_are_checked(slack, client) -> None:
    slack.note_typed(BOB, "<!channel>")
    group = client.conversations_open(users=f"{ALICE},{BOB}")["channel"]["id"]
    ts = client.chat_postMessage(channel=group, text="hi")["ts"]
    client.chat_update(channel=group, ts=ts, text="Bob: <!channel>")
    open_modal(slack, client, ALICE, [{"type": "section", "text": mrkdwn("<!channel>")}])
    url = slack.new_response_url(channel=group, user=BOB)
    assert post_json(url, {"response_type": "in_channel", "text": "<!channel>"})[0] == 200
    assert post_json(url, {"text": "<!channel>"})[0] == 200  # ephemeral to Bob: fine
    surfaces = [v.split(":")[0] for v in slack.mrkdwn_violations]
    assert len(surfaces) == 3, slack.mrkdwn_violations
    assert surfaces[0].startswith("chat.update") and surfaces[1].startswith("modal view")
    assert surfaces[2].startswith("response_url in")


def test_driver_records_what_people_type(slack, client) -> None:
    app = FakeApp()
    driver = slack.driver("http://app.invalid", "secret", http=app)
    # A mention typed as a command's argument is one Slack resolved, not content.
    driver.slash(BOB, f"start <@{ALICE}|alice> <!everyone>")
    view = open_modal(slack, client, BOB, FOCUS)
    driver.submit_view(BOB, view, {"focus": {"text": Input.plain_text("<https://evil.example>")}})
    client.chat_postMessage(channel=ALICE, text=f"<@{ALICE}> <!everyone> <https://evil.example>")
    flagged = slack.mrkdwn_violations
    assert len(flagged) == 2, flagged
    assert "<!everyone>" in flagged[0] and "evil.example" in flagged[1]
