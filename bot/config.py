"""Settings from the environment (SPEC §2), validated once at start-up.

Every problem is reported as one line naming the variable and what is expected,
so an operator never has to read a traceback to fix a deployment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///mentor-bot.db"
DEFAULT_PORT = 3000

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    signing_secret: str | None = None
    bot_token: str | None = None
    app_token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_url: str = DEFAULT_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    port: int = DEFAULT_PORT
    content_dir: Path | None = None
    admins: frozenset[str] = field(default_factory=frozenset)
    scheduler_enabled: bool = True

    @property
    def oauth_enabled(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)


def load_settings(
    env: Mapping[str, str] | None = None,
    *,
    require_slack: bool = True,
    dotenv: bool = True,
) -> Settings:
    """Read settings from ``env`` (default: the process environment plus ``.env``).

    ``require_slack`` is false for commands that never talk to Slack
    (``db upgrade``, ``content check``), so they run without tokens.
    """
    if env is None:
        if dotenv:
            _read_dotenv()
        env = os.environ

    def get(name: str) -> str | None:
        value = env.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    bot_token = get("SLACK_BOT_TOKEN")
    app_token = get("SLACK_APP_TOKEN")
    signing_secret = get("SLACK_SIGNING_SECRET")
    client_id = get("SLACK_CLIENT_ID")
    client_secret = get("SLACK_CLIENT_SECRET")

    if bot_token is not None and not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
    if bool(client_id) != bool(client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(f"{missing} is required when the other OAuth variable is set")
    if require_slack:
        if not bot_token and not client_id:
            raise ConfigError(
                "SLACK_BOT_TOKEN is required (a bot token 'xoxb-…'), or set "
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs"
            )
        if not signing_secret and not app_token:
            raise ConfigError(
                "SLACK_SIGNING_SECRET is required in HTTP mode "
                "(Basic Information → App Credentials → Signing Secret)"
            )
        if app_token and not bot_token:
            raise ConfigError("SLACK_BOT_TOKEN is required with SLACK_APP_TOKEN (Socket Mode)")

    api_url = get("SLACK_API_URL") or DEFAULT_API_URL
    if not re.match(r"^https?://[^\s/]+", api_url):
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL, got {api_url!r}")
    if not api_url.endswith("/"):
        api_url += "/"

    database_url = get("DATABASE_URL") or DEFAULT_DATABASE_URL
    if "://" not in database_url:
        raise ConfigError(
            "DATABASE_URL must be a SQLAlchemy URL such as sqlite:///mentor-bot.db "
            "or postgresql+psycopg://user@host/db"
        )
    if database_url.startswith(("postgres://", "postgresql://")):
        # Hosting platforms hand out bare postgres:// URLs; psycopg 3 is the driver we ship.
        database_url = "postgresql+psycopg://" + database_url.split("://", 1)[1]

    port_text = get("PORT") or str(DEFAULT_PORT)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"PORT must be a TCP port number (1–65535), got {port_text!r}")

    content_text = get("MENTOR_CONTENT_DIR")
    content_dir = Path(content_text).expanduser() if content_text else None
    if content_dir is not None and not content_dir.is_dir():
        raise ConfigError(f"MENTOR_CONTENT_DIR must be a folder of content YAML: {content_dir}")

    admins = frozenset(a.strip() for a in (get("MENTOR_ADMINS") or "").split(",") if a.strip())
    for admin in admins:
        if not _USER_ID.match(admin):
            raise ConfigError(
                "MENTOR_ADMINS must be comma-separated Slack user IDs like U0123ABCD, "
                f"got {admin!r}"
            )

    scheduler_text = (get("MENTOR_SCHEDULER") or "on").lower()
    if scheduler_text not in {"on", "off"}:
        raise ConfigError(f"MENTOR_SCHEDULER must be 'on' or 'off', got {scheduler_text!r}")

    return Settings(
        signing_secret=signing_secret,
        bot_token=bot_token,
        app_token=app_token,
        client_id=client_id,
        client_secret=client_secret,
        api_url=api_url,
        database_url=database_url,
        port=int(port_text),
        content_dir=content_dir,
        admins=admins,
        scheduler_enabled=scheduler_text == "on",
    )


def _read_dotenv() -> None:
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - python-dotenv is a declared dependency
        return
    load_dotenv(Path.cwd() / ".env", override=False)
