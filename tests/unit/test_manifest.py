"""manifest.yml is a valid Slack app manifest and agrees with the app (SPEC §5).

The schema is Slack's published app manifest schema, copied (with its MIT
licence) into tests/data/ so the suite needs nothing outside the repository.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "manifest.yml"
SCHEMA = ROOT / "tests" / "data" / "manifest.schema.1.0.0.json"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


def mentor_command(manifest: dict[str, Any]) -> dict[str, Any]:
    [command] = [c for c in manifest["features"]["slash_commands"] if c["command"] == "/mentor"]
    return command


def test_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    validator = jsonschema.Draft7Validator(
        schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(manifest), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}" for e in errors
    )


def test_display_information(manifest: dict[str, Any]) -> None:
    assert manifest["_metadata"]["major_version"] == 1
    info = manifest["display_information"]
    assert info["name"] == "Mentor Bot"
    assert len(info["description"]) <= 140
    assert 175 <= len(info["long_description"]) <= 4000
    # The schema spells this constraint with a non-standard "regex" keyword,
    # which jsonschema ignores, so it is checked here.
    assert re.fullmatch(r"#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?", info["background_color"])


def test_app_home_and_bot_user(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": True,
    }
    assert features["bot_user"] == {"display_name": "Mentor Bot", "always_online": True}


def test_mentor_command_escapes_mentions_and_has_usage_hint(manifest: dict[str, Any]) -> None:
    command = mentor_command(manifest)
    # Mentions must arrive as <@U123|name> so the parser gets user IDs.
    assert command["should_escape"] is True
    assert command["description"].strip()
    assert "start @person" in command["usage_hint"]


def test_bot_scopes_match_the_app(manifest: dict[str, Any]) -> None:
    from bot.app import BOT_SCOPES

    scopes = manifest["oauth_config"]["scopes"]
    assert sorted(scopes["bot"]) == sorted(BOT_SCOPES)
    assert len(scopes["bot"]) == len(set(scopes["bot"]))
    assert not scopes.get("user"), "the app acts only as its bot user"


def test_request_urls_all_point_at_slack_events(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    urls = [c["url"] for c in manifest["features"]["slash_commands"]]
    urls.append(settings["event_subscriptions"]["request_url"])
    urls.append(settings["interactivity"]["request_url"])
    if "message_menu_options_url" in settings["interactivity"]:
        urls.append(settings["interactivity"]["message_menu_options_url"])
    assert settings["interactivity"]["is_enabled"] is True
    for url in urls:
        assert url.startswith("https://") and url.endswith("/slack/events"), url
    # The one exception: OAuth comes back to the app's redirect path.
    for url in manifest["oauth_config"]["redirect_urls"]:
        assert url.startswith("https://") and url.endswith("/slack/oauth_redirect"), url


def test_http_mode_settings(manifest: dict[str, Any]) -> None:
    settings = manifest["settings"]
    assert settings["socket_mode_enabled"] is False
    assert settings["org_deploy_enabled"] is False
    assert settings["token_rotation_enabled"] is False


def test_manifest_events_and_commands_are_those_the_app_listens_for(
    manifest: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Build the real app and record what its listeners register for."""
    from slack_bolt.async_app import AsyncApp

    from bot.app import create_app
    from bot.config import Settings

    registered: dict[str, set[str]] = {"event": set(), "command": set()}
    for kind in registered:
        original = getattr(AsyncApp, kind)

        def recording(self: AsyncApp, key: Any, *args: Any, _kind=kind, _orig=original, **kw: Any):
            assert isinstance(key, str), f"app.{_kind}({key!r}): expected a plain name"
            registered[_kind].add(key)
            return _orig(self, key, *args, **kw)

        monkeypatch.setattr(AsyncApp, kind, recording)

    settings = Settings(
        signing_secret="test-secret",
        bot_token="xoxb-test",
        database_url=f"sqlite:///{tmp_path / 'manifest.db'}",
    )
    _app, deps = create_app(settings)
    try:
        events = manifest["settings"]["event_subscriptions"]["bot_events"]
        assert sorted(events) == sorted(registered["event"])
        assert registered["event"] == {"app_home_opened", "app_uninstalled", "tokens_revoked"}
        commands = {c["command"] for c in manifest["features"]["slash_commands"]}
        assert commands == registered["command"]
    finally:
        deps.db.dispose()
