"""The emulator's tokens as Slack has them: scopes, dead tokens, rotation, lifecycle events.

Each rule and its public reference are in ``slackemu/scopes.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier

from slackemu import BOT_USER_ID, SlackEmulator
from slackemu.scopes import METHOD_SCOPES, manifest_bot_scopes, needed_scopes

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def slack():
    with SlackEmulator(rate_limits=None) as emu:
        emu.add_user("U0ALICE", name="alice")
        emu.add_user("U0BOB", name="bob")
        yield emu


def error_of(call) -> dict:
    with pytest.raises(SlackApiError) as info:
        call()
    return info.value.response.data


def client(slack: SlackEmulator, token: str) -> WebClient:
    return WebClient(token=token, base_url=slack.base_url)


def test_tokens_carry_the_manifests_bot_scopes_by_default(slack: SlackEmulator) -> None:
    manifest = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert manifest_bot_scopes() == tuple(manifest["oauth_config"]["scopes"]["bot"])
    assert slack.default_scopes == manifest_bot_scopes()
    assert slack.token_scopes("xoxb-anything") == manifest_bot_scopes()
    # Everything the app calls works with them.
    bot = client(slack, "xoxb-default")
    assert bot.users_info(user="U0ALICE")["ok"]
    assert bot.conversations_open(users="U0ALICE,U0BOB")["ok"]
    assert bot.chat_postMessage(channel="U0ALICE", text="hi")["ok"]


def test_every_method_served_has_its_scopes_listed() -> None:
    assert set(SlackEmulator._methods) <= set(METHOD_SCOPES)


def test_a_missing_scope_is_refused_with_needed_and_provided(slack: SlackEmulator) -> None:
    slack.add_token("xoxb-few", scopes=["chat:write", "commands"])
    few = client(slack, "xoxb-few")
    assert error_of(lambda: few.users_info(user="U0ALICE")) == {
        "ok": False,
        "error": "missing_scope",
        "needed": "users:read",
        "provided": "chat:write,commands",
    }
    # Nothing happened: the refusal comes before the method runs.
    assert few.chat_postMessage(channel="U0ALICE", text="allowed")["ok"]
    assert (
        error_of(lambda: few.files_getUploadURLExternal(filename="a.png", length=3))["needed"]
        == "files:write"
    )
    # Methods that need no scope still work.
    assert few.auth_test()["ok"]


def test_conversation_scopes_follow_the_conversation_type(slack: SlackEmulator) -> None:
    slack.add_token("xoxb-dm-only", scopes=["im:write", "chat:write"])
    dm_only = client(slack, "xoxb-dm-only")
    assert dm_only.conversations_open(users="U0ALICE")["ok"]
    refused = error_of(lambda: dm_only.conversations_open(users="U0ALICE,U0BOB"))
    assert (refused["error"], refused["needed"]) == ("missing_scope", "mpim:write")
    group = slack.mpim_for("U0ALICE", "U0BOB")
    info = error_of(lambda: dm_only.conversations_info(channel=group))
    assert info["needed"] == "mpim:read"
    assert needed_scopes("conversations.info", "im") == ("im:read",)
    assert needed_scopes("chat.postMessage", "im") == ("chat:write",)


def test_token_errors(slack: SlackEmulator) -> None:
    # No token at all, then an unknown one (this emulator knows its tokens).
    with SlackEmulator(tokens={}, rate_limits=None) as strict:
        assert error_of(lambda: WebClient(base_url=strict.base_url).auth_test())["error"] == (
            "not_authed"
        )
        assert error_of(lambda: client(strict, "xoxb-nope").auth_test())["error"] == "invalid_auth"
        strict.add_token("xoxb-known")
        assert client(strict, "xoxb-known").auth_test()["ok"]

    slack.add_token("xoxb-one")
    slack.add_token("xoxb-two")
    slack.revoke_token("xoxb-one")
    assert error_of(lambda: client(slack, "xoxb-one").auth_test())["error"] == "token_revoked"
    assert client(slack, "xoxb-two").auth_test()["ok"]


def test_uninstall_kills_the_workspaces_bot_tokens(slack: SlackEmulator) -> None:
    bot = client(slack, "xoxb-bot")
    assert bot.chat_postMessage(channel="U0ALICE", text="before")["ok"]
    slack.uninstall()
    assert not slack.is_installed()
    for call in (
        lambda: bot.chat_postMessage(channel="U0ALICE", text="after"),
        lambda: bot.auth_test(),
        lambda: client(slack, "xoxb-never-seen").auth_test(),
    ):
        assert error_of(call) == {"ok": False, "error": "account_inactive"}
    assert len(slack.messages_in("U0ALICE")) == 1


def test_reinstall_issues_a_live_token_and_old_ones_stay_dead() -> None:
    with SlackEmulator(tokens={}, rate_limits=None) as slack:
        first = client(slack, "")
        code = slack.authorize("1.2")
        first_token = first.oauth_v2_access(client_id="1.2", client_secret="s", code=code)[
            "access_token"
        ]
        assert client(slack, first_token).auth_test()["ok"]
        slack.uninstall()
        assert error_of(lambda: client(slack, first_token).auth_test())["error"] == (
            "account_inactive"
        )
        code = slack.authorize("1.2")
        answer = first.oauth_v2_access(client_id="1.2", client_secret="s", code=code)
        assert answer["scope"] == ",".join(manifest_bot_scopes())
        assert slack.is_installed()
        assert client(slack, answer["access_token"]).auth_test()["ok"]
        assert error_of(lambda: client(slack, first_token).auth_test())["error"] == (
            "account_inactive"
        )


def test_token_rotation_issues_expiring_tokens_and_refreshes_them() -> None:
    with SlackEmulator(tokens={}, rate_limits=None, token_rotation=True) as slack:
        anon = client(slack, "")
        code = slack.authorize("1.2")
        installed = anon.oauth_v2_access(client_id="1.2", client_secret="s", code=code)
        assert installed["access_token"].startswith("xoxe.xoxb-")
        assert installed["refresh_token"].startswith("xoxe-")
        assert installed["expires_in"] == 43_200
        token = installed["access_token"]
        assert client(slack, token).auth_test()["ok"]

        refreshed = anon.oauth_v2_access(
            client_id="1.2",
            client_secret="s",
            grant_type="refresh_token",
            refresh_token=installed["refresh_token"],
        )
        assert refreshed["token_type"] == "bot"
        assert refreshed["access_token"] != token
        assert refreshed["refresh_token"] != installed["refresh_token"]
        # A used refresh token is revoked.
        again = error_of(
            lambda: anon.oauth_v2_access(
                client_id="1.2",
                client_secret="s",
                grant_type="refresh_token",
                refresh_token=installed["refresh_token"],
            )
        )
        assert again["error"] == "invalid_refresh_token"

        slack.advance(43_200)
        assert error_of(lambda: client(slack, token).auth_test())["error"] == "token_expired"


def test_driver_sends_the_documented_lifecycle_events(slack: SlackEmulator) -> None:
    received: list[dict] = []

    def app(method: str, url: str, body: bytes, headers: dict[str, str]):
        assert SignatureVerifier("secret").is_valid_request(body, headers)
        received.append(json.loads(body))
        return 200, {}, b""

    driver = slack.driver("http://app.invalid", "secret", http=app)
    bot = client(slack, "xoxb-bot")
    assert bot.auth_test()["ok"]

    assert driver.tokens_revoked().status == 200
    assert error_of(bot.auth_test)["error"] == "token_revoked"
    assert driver.app_uninstalled().status == 200
    assert not slack.is_installed()

    revoked, uninstalled = received
    for envelope in (revoked, uninstalled):
        assert envelope["type"] == "event_callback"
        assert envelope["team_id"] == slack.team_id
        assert envelope["api_app_id"] == slack.app_id
        assert envelope["event_id"].startswith("Ev")
        assert "authorizations" not in envelope
    assert revoked["event"] == {
        "type": "tokens_revoked",
        "tokens": {"oauth": [], "bot": [BOT_USER_ID]},
    }
    assert uninstalled["event"] == {"type": "app_uninstalled"}


def test_oauth_codes_are_the_ones_slack_issued_used_once_within_ten_minutes() -> None:
    with SlackEmulator(tokens={}, rate_limits=None, client_id="1.2", client_secret="s") as slack:
        anon = client(slack, "")

        def exchange(code: str, **extra: str) -> dict:
            args = {"client_id": "1.2", "client_secret": "s", "code": code, **extra}
            return error_of(lambda: anon.oauth_v2_access(**args))

        assert exchange("never-issued")["error"] == "invalid_code"
        code = slack.authorize("1.2", installer="U0ALICE")
        assert exchange(code, client_secret="wrong")["error"] == "bad_client_secret"
        assert (
            error_of(lambda: anon.oauth_v2_access(client_id="9.9", client_secret="s", code=code))[
                "error"
            ]
            == "invalid_client_id"
        )
        answer = anon.oauth_v2_access(client_id="1.2", client_secret="s", code=code)
        assert answer["authed_user"]["id"] == "U0ALICE"
        assert exchange(code)["error"] == "invalid_code"  # a code works once
        late = slack.authorize("1.2")
        slack.advance(10 * 60 + 1)
        assert exchange(late)["error"] == "invalid_code"  # ... and for ten minutes
        bound = slack.authorize("1.2", redirect_uri="https://app.example/slack/oauth_redirect")
        assert exchange(bound, redirect_uri="https://evil.example/")["error"] == "bad_redirect_uri"
