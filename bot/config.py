"""Settings from the environment (SPEC §2), validated once at start-up.

Every problem is reported as one line naming the variable and what is expected,
so an operator never has to read a traceback to fix a deployment.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///mentor-bot.db"
DEFAULT_PORT = 3000
DEFAULT_UNINSTALL_RETENTION_DAYS = 30
# The HTTP face under abuse (see README, "Behind a reverse proxy").
DEFAULT_HTTP_MAX_CONNECTIONS = 1000
DEFAULT_HTTP_IDLE_SECONDS = 15
DEFAULT_HTTP_BODY_SECONDS = 10
# chat.postMessage per workspace per minute (Slack: "several hundred"); 0: no pacing.
DEFAULT_SLACK_POSTS_PER_MINUTE = 600

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    # Secrets stay out of repr(), so a logged Settings never carries them.
    signing_secret: str | None = field(default=None, repr=False)
    bot_token: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    api_url: str = DEFAULT_API_URL
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)  # may hold a password
    port: int = DEFAULT_PORT
    content_dir: Path | None = None
    admins: frozenset[str] = field(default_factory=frozenset)
    scheduler_enabled: bool = True
    # Days a workspace's data is kept after Slack says the app was uninstalled.
    uninstall_retention_days: int = DEFAULT_UNINSTALL_RETENTION_DAYS
    # MENTOR_ENCRYPTION_KEY: Fernet keys; the first seals stored bot tokens, all open them.
    encryption_keys: tuple[str, ...] = field(default=(), repr=False)
    # Open connections past this are refused with 503 at once.
    http_max_connections: int = DEFAULT_HTTP_MAX_CONNECTIONS
    # A connection must deliver a whole request header within this many seconds of
    # opening or of its last response, else it is closed (idle and trickling sockets).
    http_idle_seconds: int = DEFAULT_HTTP_IDLE_SECONDS
    # A request's body must arrive within this many seconds (Slack sends it at once).
    http_body_seconds: int = DEFAULT_HTTP_BODY_SECONDS
    # MENTOR_SLACK_POSTS_PER_MINUTE: the scheduler paces chat.postMessage per workspace
    # to this (and 1 a second per channel); 0 turns pacing off.
    slack_posts_per_minute: int = DEFAULT_SLACK_POSTS_PER_MINUTE
    # MENTOR_LOG_FORMAT: "plain" lines or "json", one object a line.
    log_format: str = "plain"
    # MENTOR_METRICS_PORT: /metrics for the processes with no HTTP server of their own
    # (worker, Socket Mode serve); None: not served there.
    metrics_port: int | None = None

    @property
    def cipher(self):  # type: ignore[no-untyped-def]
        """The ``TokenCipher`` for stored tokens, or None when no key is set."""
        from bot.store.crypto import cipher_for

        return cipher_for(self.encryption_keys)

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
    serves_slack: bool = True,
    dotenv: bool = True,
) -> Settings:
    """Read settings from ``env`` (default: the process environment plus ``.env``).

    ``require_slack`` is false for commands that never talk to Slack
    (``db upgrade``, ``content check``), so they run without tokens;
    ``serves_slack`` false for those that only send (``worker``, ``tick``), so they
    need no signing secret: no request of Slack's reaches them.
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

    if bot_token is not None and bot_token.startswith("xoxe."):
        # Token rotation: the token expires every 12 hours and only its refresh
        # token gets a new one (docs.slack.dev/authentication/using-token-rotation).
        # A bare environment variable has nowhere to keep the refreshed pair.
        raise ConfigError(
            "SLACK_BOT_TOKEN is a rotating token (xoxe.xoxb-…) that expires in 12 hours and "
            "cannot be refreshed from an environment variable: turn token rotation off for the "
            "app, or use OAuth mode (SLACK_CLIENT_ID and SLACK_CLIENT_SECRET), which stores "
            "and refreshes it"
        )
    if bot_token is not None and not bot_token.startswith("xoxb-"):
        raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
    if bool(client_id) != bool(client_secret):
        missing = "SLACK_CLIENT_SECRET" if client_id else "SLACK_CLIENT_ID"
        raise ConfigError(f"{missing} is required when the other OAuth variable is set")
    if require_slack:
        if app_token and client_id:
            # Socket Mode serves no HTTP port, so there is no /slack/install or
            # /slack/oauth_redirect; and Slack's docs: "Apps using Socket Mode are not
            # currently allowed in the public Slack Marketplace" (docs.slack.dev/apis/
            # events-api/using-socket-mode, api.slack.com/apis/connections/socket).
            raise ConfigError(
                "SLACK_APP_TOKEN (Socket Mode) cannot be combined with SLACK_CLIENT_ID/"
                "SLACK_CLIENT_SECRET (OAuth installs): Socket Mode serves no install or "
                "redirect URL and Slack does not distribute Socket Mode apps; unset one of them"
            )
        if not bot_token and not client_id:
            raise ConfigError(
                "SLACK_BOT_TOKEN is required (a bot token 'xoxb-…'), or set "
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET for OAuth installs"
            )
        if not signing_secret and not app_token and serves_slack:
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
    if not _ascii_number(port_text, 5) or not 0 < int(port_text) < 65536:
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

    retention_text = get("MENTOR_UNINSTALL_RETENTION_DAYS") or str(DEFAULT_UNINSTALL_RETENTION_DAYS)
    if not _ascii_number(retention_text, 4) or int(retention_text) > 3650:
        raise ConfigError(
            "MENTOR_UNINSTALL_RETENTION_DAYS must be a whole number of days (0–3650) to keep "
            f"an uninstalled workspace's data, got {retention_text!r}"
        )

    http_max_connections = _whole_number(
        get, "MENTOR_HTTP_MAX_CONNECTIONS", DEFAULT_HTTP_MAX_CONNECTIONS, low=10, high=100_000
    )
    http_idle_seconds = _whole_number(
        get, "MENTOR_HTTP_IDLE_SECONDS", DEFAULT_HTTP_IDLE_SECONDS, low=1, high=3600
    )
    http_body_seconds = _whole_number(
        get, "MENTOR_HTTP_BODY_SECONDS", DEFAULT_HTTP_BODY_SECONDS, low=1, high=300
    )

    slack_posts_per_minute = _whole_number(
        get, "MENTOR_SLACK_POSTS_PER_MINUTE", DEFAULT_SLACK_POSTS_PER_MINUTE, low=0, high=1_000_000
    )

    metrics_text = get("MENTOR_METRICS_PORT")
    if metrics_text is not None and (
        not _ascii_number(metrics_text, 5) or not 0 < int(metrics_text) < 65536
    ):
        raise ConfigError(
            f"MENTOR_METRICS_PORT must be a TCP port number (1–65535), got {metrics_text!r}"
        )

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
        uninstall_retention_days=int(retention_text),
        encryption_keys=_encryption_keys(get("MENTOR_ENCRYPTION_KEY")),
        http_max_connections=http_max_connections,
        http_idle_seconds=http_idle_seconds,
        http_body_seconds=http_body_seconds,
        slack_posts_per_minute=slack_posts_per_minute,
        log_format=log_format(env),
        metrics_port=int(metrics_text) if metrics_text is not None else None,
    )


LOG_FORMATS = ("plain", "json")


def log_format(env: Mapping[str, str] | None = None) -> str:
    """MENTOR_LOG_FORMAT, checked: "plain" (the default) or "json". The command line
    reads it before anything else, so that every line it logs has the format."""
    if env is None:
        _read_dotenv()
        env = os.environ
    text = (env.get("MENTOR_LOG_FORMAT") or "").strip().lower() or "plain"
    if text not in LOG_FORMATS:
        raise ConfigError(f"MENTOR_LOG_FORMAT must be 'plain' or 'json', got {text!r}")
    return text


def _whole_number(
    get: Callable[[str], str | None], name: str, default: int, *, low: int, high: int
) -> int:
    text = get(name) or str(default)
    if not _ascii_number(text, len(str(high))) or not low <= int(text) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)


def _ascii_number(text: str, digits: int) -> bool:
    """Whole number in ASCII digits: ``str.isdigit`` alone accepts "²", which ``int`` refuses."""
    return text.isascii() and text.isdigit() and len(text) <= digits


def _encryption_keys(text: str | None) -> tuple[str, ...]:
    from bot.store.crypto import parse_keys

    try:
        return parse_keys(text)
    except ValueError as error:
        raise ConfigError(
            f"MENTOR_ENCRYPTION_KEY must be Fernet keys, comma-separated (the first encrypts): "
            f"{error}"
        ) from None


# The .env files read already: the command line asks for its log format, then for its
# settings, and a line python-dotenv cannot parse was warned of twice.
_DOTENV_READ: set[Path] = set()


def _read_dotenv() -> None:
    try:
        from dotenv import load_dotenv
    except ImportError:  # pragma: no cover - python-dotenv is a declared dependency
        return
    path = Path.cwd() / ".env"
    if path in _DOTENV_READ:
        return  # override=False: a second read could change nothing anyway
    try:
        load_dotenv(path, override=False)
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text: save it as UTF-8, or remove it") from None
    _DOTENV_READ.add(path)
