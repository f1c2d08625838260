"""Configurations Slack cannot serve are refused at start with one clear line."""

from __future__ import annotations

import pytest

from bot.config import DEFAULT_UNINSTALL_RETENTION_DAYS, ConfigError, load_settings

HTTP = {"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_SIGNING_SECRET": "secret"}
OAUTH = {
    "SLACK_CLIENT_ID": "111.222",
    "SLACK_CLIENT_SECRET": "client-secret",
    "SLACK_SIGNING_SECRET": "secret",
}


def refusal(env: dict[str, str]) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(env, dotenv=False)
    message = str(info.value)
    assert "\n" not in message
    return message


@pytest.mark.parametrize(
    "env",
    [
        {**OAUTH, "SLACK_APP_TOKEN": "xapp-1-abc"},
        {**OAUTH, "SLACK_APP_TOKEN": "xapp-1-abc", "SLACK_BOT_TOKEN": "xoxb-1-abc"},
    ],
)
def test_oauth_with_socket_mode_is_refused(env: dict[str, str]) -> None:
    message = refusal(env)
    assert "SLACK_APP_TOKEN" in message and "SLACK_CLIENT_ID" in message
    assert "Socket Mode" in message


def test_a_rotating_bot_token_without_oauth_is_refused_pointing_at_oauth() -> None:
    message = refusal({**HTTP, "SLACK_BOT_TOKEN": "xoxe.xoxb-1-abc"})
    assert message.startswith("SLACK_BOT_TOKEN is a rotating token")
    assert "OAuth mode" in message and "SLACK_CLIENT_ID" in message
    # Socket Mode has the same problem.
    socket = {"SLACK_BOT_TOKEN": "xoxe.xoxb-1-abc", "SLACK_APP_TOKEN": "xapp-1-abc"}
    assert refusal(socket).startswith("SLACK_BOT_TOKEN is a rotating token")


def test_the_usual_modes_still_start() -> None:
    assert load_settings(HTTP, dotenv=False).bot_token == "xoxb-1-abc"
    assert load_settings(OAUTH, dotenv=False).oauth_enabled
    socket = {"SLACK_BOT_TOKEN": "xoxb-1-abc", "SLACK_APP_TOKEN": "xapp-1-abc"}
    assert load_settings(socket, dotenv=False).socket_mode


def test_uninstall_retention_days() -> None:
    assert load_settings(HTTP, dotenv=False).uninstall_retention_days == (
        DEFAULT_UNINSTALL_RETENTION_DAYS
    )
    assert DEFAULT_UNINSTALL_RETENTION_DAYS == 30
    env = {**HTTP, "MENTOR_UNINSTALL_RETENTION_DAYS": "7"}
    assert load_settings(env, dotenv=False).uninstall_retention_days == 7
    for bad in ("-1", "two weeks", "99999"):
        message = refusal({**HTTP, "MENTOR_UNINSTALL_RETENTION_DAYS": bad})
        assert message.startswith("MENTOR_UNINSTALL_RETENTION_DAYS must be")


def test_slack_posts_per_minute_sets_the_schedulers_pacing() -> None:
    from bot.runtime import make_pacer

    settings = load_settings(HTTP, dotenv=False)
    assert settings.slack_posts_per_minute == 600
    assert make_pacer(settings).posts_per_minute == 600  # type: ignore[union-attr]
    paced = load_settings({**HTTP, "MENTOR_SLACK_POSTS_PER_MINUTE": "300"}, dotenv=False)
    assert make_pacer(paced).posts_per_minute == 300  # type: ignore[union-attr]
    off = load_settings({**HTTP, "MENTOR_SLACK_POSTS_PER_MINUTE": "0"}, dotenv=False)
    assert make_pacer(off) is None
    for bad in ("-1", "lots", "6e2"):
        message = refusal({**HTTP, "MENTOR_SLACK_POSTS_PER_MINUTE": bad})
        assert message.startswith("MENTOR_SLACK_POSTS_PER_MINUTE must be a whole number")


def test_commands_that_only_send_need_no_signing_secret() -> None:
    """`worker` and `tick` receive no request from Slack: a cron box asked for
    SLACK_SIGNING_SECRET "in HTTP mode" was told something that is not so."""
    only_token = {"SLACK_BOT_TOKEN": "xoxb-1-abc"}
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is required"):
        load_settings(only_token, dotenv=False)
    assert load_settings(only_token, serves_slack=False, dotenv=False).bot_token == "xoxb-1-abc"
