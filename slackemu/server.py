"""A Slack-compatible Web API server for tests, local demos and benchmarks.

``SlackEmulator`` runs an aiohttp server in its own daemon thread and event
loop, so both sync and async code can point ``slack_sdk`` clients at it
(``base_url=slack.base_url``). It keeps a small model of one workspace
(people, DMs, group DMs, messages, modals, Home tabs), enforces Block Kit
limits the way Slack does, records every call, and can inject failures.

Ids it uses:

* team ``T0001`` (domain ``emulated``), bot user ``U0BOT`` with bot id ``B0BOT``
  and app id ``A0MENTOR``;
* a person's DM with the bot: ``"D" + user_id[1:]`` (``U0ALICE`` -> ``D0ALICE``);
* a group DM: ``"G"`` + 10 upper-case hex digits of a hash of the sorted member
  set including the bot, so the same people always get the same id;
* views ``V000001``..., message ts ``<unix seconds>.<6 digits>``, unique and
  increasing across the workspace.

Tokens carry scopes (by default manifest.yml's bot scopes; ``add_token(...,
scopes=[...])`` grants fewer) and every call is checked against the method's
scopes (``slackemu.scopes.METHOD_SCOPES``, from slack-api-ref), answering
``missing_scope`` with ``needed``/``provided`` as Slack does. Tokens die as on
Slack: ``revoke_token``/``revoke_bot_tokens`` (``token_revoked``), ``uninstall``
(``account_inactive``), a rotating token past its life (``token_expired``); an
unknown token is ``invalid_auth``, none at all ``not_authed``. With
``token_rotation=True`` installs return ``xoxe.xoxb-`` tokens with a refresh
token, refreshed through ``oauth.v2.access`` ``grant_type=refresh_token``.

Rate limits (``RateLimits``) are ON by default, as on Slack, and use the
emulator's clock (real time, moved on by ``advance``); ``rate_limits=None``
turns them off for a test that measures something else. Every figure comes
from Slack's rate-limit guide (https://docs.slack.dev/apis/web-api/rate-limits,
"per API method per app per workspace") and each method's reference page ("Rate limits: Tier N"):

* each method's tier (``SLACK_TIERS``: Tier 1 1+/min, Tier 2 20+/min, Tier 3
  50+/min, Tier 4 100+/min), a token bucket per workspace and method that
  refills at the tier's rate and holds one minute's worth (the guide: Tier 3
  "sporadic bursts are welcome", Tier 4 "generous burst behavior");
* ``chat.postMessage`` (special tier): "1 per second per channel; short bursts
  >1 allowed; no guarantee" -- a bucket per channel (a user id counts as that
  user's DM) refilling ``per_channel_per_second`` and holding
  ``per_channel_burst`` (default 3: a short burst, no more);
* a workspace-wide cap on ``chat.postMessage`` ("a workspace-wide limit",
  "several hundred messages per minute" in the method's reference):
  ``workspace_per_minute``, default 600, a bucket per workspace.

A limited call gets HTTP 429, ``Retry-After: <whole seconds, at least 1>`` and
``{"ok": false, "error": "ratelimited"}``, as Slack answers.

``latency=0.1`` answers every Web API call 100 ms late (a far-away Slack), for
benches of how delivery overlaps its calls; calls still run concurrently.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import math
import re
import secrets
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from aiohttp import web

from . import limits
from . import scopes as scopes_module
from .taint import TaintTracker

BOT_USER_ID = "U0BOT"
BOT_ID = "B0BOT"
APP_ID = "A0MENTOR"
TEAM_ID = "T0001"
TEAM_DOMAIN = "emulated"
TRIGGER_TTL = 3.0
OAUTH_CODE_TTL = 10 * 60.0
RESPONSE_URL_TTL = 30 * 60.0
RESPONSE_URL_USES = 5
MAX_VIEW_STACK = 3
MAX_MPIM_MEMBERS = 8
# A rotating token's life: oauth.v2.access answers "expires_in": 43200 with token
# rotation on (slack-api-ref docs.slack.dev/methods/oauth.v2.access.json, example
# "success_with_token_rotation"; docs.slack.dev/authentication/using-token-rotation:
# "With token rotation, it expires every 12 hours").
ROTATING_TOKEN_LIFETIME = 43_200

# Published Slack tier minimums (requests per minute per workspace), from each
# method's reference page on docs.slack.dev ("Rate limits"); also listed per
# method in slack-ruby/slack-api-ref.
TIER1, TIER2, TIER3, TIER4 = 1, 20, 50, 100
TIER1_BURST = 3
SLACK_TIERS: dict[str, int] = {
    "auth.test": TIER4,  # "Special": documented as generous; held to Tier 4 here
    "users.info": TIER4,
    "users.list": TIER2,
    "conversations.open": TIER3,
    "conversations.info": TIER3,
    "chat.postEphemeral": TIER4,
    "chat.update": TIER3,
    "chat.delete": TIER3,
    "views.open": TIER4,
    "views.push": TIER4,
    "views.update": TIER4,
    "views.publish": TIER4,
    "team.info": TIER3,
    "files.getUploadURLExternal": TIER4,
    "files.completeUploadExternal": TIER4,
    "files.delete": TIER3,
    "oauth.v2.access": TIER4,
    "apps.connections.open": TIER1,
}

# chat.postMessage's workspace-wide cap: Slack publishes "several hundred per minute".
WORKSPACE_POSTS_PER_MINUTE = 600

# Fields slack_sdk may send JSON-encoded inside form bodies.
_JSON_FIELDS = ("blocks", "attachments", "view", "metadata")


@dataclass(frozen=True)
class RecordedCall:
    method: str
    args: dict
    response: dict
    at: float
    status: int = 200


@dataclass
class RateLimits:
    """Slack's limits; the defaults are Slack's own (see the module docstring)."""

    per_channel_per_second: float = 1.0
    per_channel_burst: int = 3
    workspace_per_minute: int | None = WORKSPACE_POSTS_PER_MINUTE
    method_per_minute: dict[str, int] = field(default_factory=lambda: dict(SLACK_TIERS))


# ``SlackEmulator(rate_limits=...)`` default: Slack's limits, on.
SLACK_LIMITS: Any = object()


@dataclass
class _Fault:
    status: int
    error: str | None
    retry_after: int
    remaining: int
    drop_connection: bool
    # Only calls whose arguments it accepts fail (e.g. one channel); None: every call.
    when: Callable[[dict], bool] | None = None


class _Bucket:
    """Token bucket; ``take`` returns 0 when allowed, else seconds to wait."""

    __slots__ = ("rate", "capacity", "tokens", "stamp")

    def __init__(self, rate: float, capacity: float, now: float) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = capacity
        self.stamp = now

    def take(self, now: float) -> float:
        if now > self.stamp:
            self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
            self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


def _with_block_ids(blocks: list) -> list:
    # Slack stores a generated block_id on every block that lacks one, and
    # interaction payloads carry it, so apps see the same here.
    if all(not isinstance(b, dict) or "block_id" in b for b in blocks):
        return blocks
    return [
        b if not isinstance(b, dict) or "block_id" in b else {**b, "block_id": secrets.token_hex(3)}
        for b in blocks
    ]


def _need_app_token(request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer xapp-"):
        raise _ApiError("not_allowed_token_type")


def _basic_auth(header: str) -> dict[str, str]:
    import base64

    if not header.startswith("Basic "):
        return {}
    try:
        client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return {}
    return {"client_id": client_id, "client_secret": secret}


def _mimetype(name: str) -> str:
    return {
        "png": "image/png",
        "csv": "text/csv",
        "json": "application/json",
        "ics": "text/calendar",  # RFC 5545 §8.1
    }.get(name.rsplit(".", 1)[-1].lower(), "application/octet-stream")


@dataclass
class _Token:
    """One bot token the emulator issued or was told about."""

    team_id: str
    scopes: tuple[str, ...] | None  # None: the emulator's default scopes
    # Why the token no longer works (``token_revoked``, ``account_inactive``), if so.
    dead: str | None = None
    expires_at: float | None = None  # wall-clock seconds (``SlackEmulator.wall_time``)


class _ApiError(Exception):
    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.body = {"ok": False, "error": error, **extra}


class SlackEmulator:
    """One emulated Slack workspace served over HTTP on loopback."""

    def __init__(
        self,
        *,
        port: int = 0,
        host: str = "127.0.0.1",
        team_id: str = TEAM_ID,
        team_domain: str = TEAM_DOMAIN,
        team_name: str = "Emulated Workspace",
        bot_user_id: str = BOT_USER_ID,
        bot_id: str = BOT_ID,
        app_id: str = APP_ID,
        tokens: dict[str, str] | None = None,
        rate_limits: RateLimits | None = SLACK_LIMITS,
        scopes: Iterable[str] | None = None,
        token_rotation: bool = False,
        token_expires_in: int = ROTATING_TOKEN_LIFETIME,
        client_id: str | None = None,
        client_secret: str | None = None,
        latency: float = 0.0,
    ) -> None:
        self.host = host
        # Seconds each Web API call takes before it is answered (a far-away Slack).
        self.latency = latency
        # slow(): methods answered this many seconds late (a Slack that hangs), and
        # how many calls of each have arrived so far (answered or not).
        self._slow: dict[str, float] = {}
        self.arrived: Counter[str] = Counter()
        # The app's OAuth credentials; None accepts any, as long as codes match.
        self.client_id = client_id
        self.client_secret = client_secret
        self._port = port
        self.team_id = team_id
        self.team_domain = team_domain
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id
        self.app_id = app_id
        # None: any xoxb- token maps to this team. Otherwise token -> team_id.
        self.tokens = tokens
        # What a token carries unless add_token says otherwise: the bot scopes
        # of manifest.yml, as an install grants them (None: every scope).
        manifest = scopes_module.manifest_bot_scopes()
        self.default_scopes: tuple[str, ...] | None = (
            tuple(scopes) if scopes is not None else manifest
        )
        # Token rotation on (the app's "token_rotation_enabled"): installs hand out
        # expiring xoxe.xoxb- tokens with a refresh token (see _api_oauth_v2_access).
        self.token_rotation = token_rotation
        self.token_expires_in = token_expires_in
        self._token_state: dict[str, _Token] = {}
        self._refresh_tokens: dict[str, str] = {}  # live refresh token -> team_id
        # Workspaces whose bot tokens are dead, and why (tokens not seen before too).
        self._dead_teams: dict[str, str] = {}
        self.rate_limits: RateLimits | None = (
            RateLimits() if rate_limits is SLACK_LIMITS else rate_limits
        )

        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._calls: list[RecordedCall] = []

        self._users: dict[str, dict] = {}
        self._dm_by_user: dict[str, str] = {}
        self._mpim_by_members: dict[frozenset[str], str] = {}
        # channel id -> {"id", "members": set, "is_im", "is_mpim", "name"}
        self._channels: dict[str, dict] = {}
        self._messages: dict[str, dict[str, dict]] = {}
        self._ts_channel: dict[str, str] = {}
        self._ephemeral: dict[str, dict] = {}
        self._last_ts = 0
        self._views: dict[str, dict] = {}
        self._view_user: dict[str, str] = {}
        self._view_by_external: dict[str, str] = {}
        self._stacks: dict[str, list[str]] = {}
        self._homes: dict[str, str] = {}
        self._view_seq = itertools.count(1)
        self._triggers: dict[str, dict] = {}
        self._oauth_codes: dict[str, dict] = {}
        self._response_urls: dict[str, dict] = {}
        self._faults: dict[str, deque[_Fault]] = {}
        self._channel_buckets: dict[str, _Bucket] = {}
        self._workspace_buckets: dict[str, _Bucket] = {}
        self._method_buckets: dict[tuple[str, str], _Bucket] = {}
        self._clock_offset = 0.0
        self._files: dict[str, dict] = {}
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_acks: dict[str, asyncio.Future[dict]] = {}
        self._socket_connected = threading.Event()
        self._file_seq = itertools.count(1)

        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._drivers: list[Any] = []
        self._taint = TaintTracker()

        self.add_user(bot_user_id, name="mentorbot", real_name="Mentor Bot", is_bot=True)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> SlackEmulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> SlackEmulator:
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="slackemu", daemon=True
        )
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            try:
                loop.run_until_complete(self._serve())
            except BaseException as exc:  # noqa: BLE001 - handed to start()
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            assert self._runner is not None
            loop.run_until_complete(self._runner.cleanup())
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()

    async def _serve(self) -> None:
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/api/{method}", self._handle_api)
        app.router.add_post("/response/{rid}", self._handle_response_url)
        app.router.add_post("/upload/{file_id}", self._handle_upload)
        app.router.add_get("/socket", self._handle_socket)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        sockets = site._server.sockets  # type: ignore[union-attr]
        self._port = sockets[0].getsockname()[1]

    def stop(self) -> None:
        for driver in self._drivers:
            driver.close()
        self._drivers.clear()
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop = None

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}/"

    @property
    def base_url(self) -> str:
        return f"{self.url}api/"

    def driver(self, app_url: str, signing_secret: str, **kwargs: Any) -> Any:
        """A ``SlackDriver`` for this workspace, closed when the emulator stops."""
        from .driver import SlackDriver

        drv = SlackDriver(app_url, signing_secret, self, **kwargs)
        self._drivers.append(drv)
        return drv

    # ---------------------------------------------------------------------- clock

    def now(self) -> float:
        """The emulator's clock (monotonic seconds), movable with ``advance``."""
        return time.monotonic() + self._clock_offset

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock on, e.g. to expire trigger ids."""
        self._clock_offset += seconds

    def wall_time(self) -> float:
        """Unix time on the emulator's clock: what rotating tokens expire by."""
        return time.time() + self._clock_offset

    # --------------------------------------------------------------------- tokens

    def add_token(
        self,
        token: str,
        *,
        team_id: str | None = None,
        scopes: Iterable[str] | None = None,
        expires_in: float | None = None,
    ) -> str:
        """Accept ``token`` for ``team_id`` (default: this workspace), granting ``scopes``
        (default: ``default_scopes``, i.e. manifest.yml's bot scopes)."""
        team = team_id or self.team_id
        with self._lock:
            if self.tokens is not None:
                self.tokens[token] = team
            self._token_state[token] = _Token(
                team_id=team,
                scopes=None if scopes is None else tuple(scopes),
                expires_at=None if expires_in is None else self.wall_time() + expires_in,
            )
        return token

    def token_scopes(self, token: str) -> tuple[str, ...] | None:
        """The scopes ``token`` carries (None: every scope)."""
        with self._lock:
            state = self._token_state.get(token)
        if state is None or state.scopes is None:
            return self.default_scopes
        return state.scopes

    def revoke_token(self, token: str) -> None:
        """The token is revoked (``auth.revoke``, an admin, a tokens_revoked event):
        every later call with it answers ``token_revoked``."""
        with self._lock:
            state = self._token_state.get(token)
            if state is None:
                team = (self.tokens or {}).get(token, self.team_id)
                state = self._token_state[token] = _Token(team_id=team, scopes=None)
            state.dead = scopes_module.TOKEN_REVOKED

    def uninstall(self, team_id: str | None = None) -> None:
        """The app is removed from the workspace: its bot tokens, and any token used
        before a reinstall, answer ``account_inactive`` from now on."""
        self._kill_team_tokens(team_id or self.team_id, scopes_module.ACCOUNT_INACTIVE)

    def revoke_bot_tokens(self, team_id: str | None = None) -> None:
        """Every bot token of the workspace is revoked: they answer ``token_revoked``."""
        self._kill_team_tokens(team_id or self.team_id, scopes_module.TOKEN_REVOKED)

    def _kill_team_tokens(self, team: str, error: str) -> None:
        with self._lock:
            self._dead_teams.setdefault(team, error)
            for state in self._token_state.values():
                if state.team_id == team and not state.dead:
                    state.dead = error
            for refresh, owner in list(self._refresh_tokens.items()):
                if owner == team:
                    del self._refresh_tokens[refresh]

    def is_installed(self, team_id: str | None = None) -> bool:
        """False once uninstalled or its bot tokens revoked, until the next install."""
        with self._lock:
            return (team_id or self.team_id) not in self._dead_teams

    def _issue_bot_token(self, team_id: str, granted: tuple[str, ...] | None) -> dict:
        """A new bot token for ``team_id`` (an install or a refresh): the token fields of
        oauth.v2.access's answer, with ``refresh_token``/``expires_in`` under rotation."""
        self._dead_teams.pop(team_id, None)
        if not self.token_rotation:
            token = f"xoxb-installed-{team_id}-{secrets.token_hex(4)}"
            self.add_token(token, team_id=team_id, scopes=granted)
            return {"access_token": token}
        token = f"xoxe.xoxb-1-{team_id}-{secrets.token_hex(6)}"
        refresh = f"xoxe-1-{team_id}-{secrets.token_hex(8)}"
        self.add_token(token, team_id=team_id, scopes=granted, expires_in=self.token_expires_in)
        self._refresh_tokens[refresh] = team_id
        return {
            "access_token": token,
            "refresh_token": refresh,
            "expires_in": self.token_expires_in,
        }

    def _refresh_bot_token(self, args: dict) -> dict:
        """``grant_type=refresh_token``: a new access token and a new refresh token; the
        used refresh token is revoked (docs.slack.dev/authentication/using-token-rotation:
        "The refresh token is then revoked, and a new refresh token is used")."""
        client_id = str(args.get("client_id") or "")
        if not client_id or (self.client_id is not None and client_id != self.client_id):
            raise _ApiError("invalid_client_id")
        secret = str(args.get("client_secret") or "")
        if not secret or (self.client_secret is not None and secret != self.client_secret):
            raise _ApiError("bad_client_secret")
        team = self._refresh_tokens.pop(str(args.get("refresh_token") or ""), None)
        if team is None:
            raise _ApiError("invalid_refresh_token")
        old = next(
            (s.scopes for s in self._token_state.values() if s.team_id == team and not s.dead),
            None,
        )
        issued = self._issue_bot_token(team, old)
        return {
            "ok": True,
            "app_id": self.app_id,
            "scope": ",".join(old or self.default_scopes or ()),
            "token_type": "bot",
            **issued,
            "bot_user_id": self.bot_user_id,
            "team": {"id": team, "name": self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # --------------------------------------------------------------------- people

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        tz: str = "UTC",
        is_bot: bool = False,
        deleted: bool = False,
        is_admin: bool = False,
        is_owner: bool = False,
        display_name: str | None = None,
        email: str | None = None,
        home_team: str | None = None,
    ) -> dict:
        """``home_team``: a person of another workspace who reaches this one through
        Slack Connect; users.info then reports their own ``team_id`` and
        ``is_stranger: true`` (docs.slack.dev/reference/methods/users.info)."""
        ZoneInfo(tz)  # fail early on a bad zone name
        user = {
            "id": user_id,
            "team_id": home_team or self.team_id,
            "name": name,
            "real_name": real_name or name,
            "tz": tz,
            "is_bot": is_bot,
            "deleted": deleted,
            "is_admin": is_admin or is_owner,
            "is_owner": is_owner,
            "profile": {
                "display_name": display_name if display_name is not None else name,
                "real_name": real_name or name,
                "email": email or f"{name}@{self.team_domain}.example",
                "team": self.team_id,
            },
        }
        if user_id == self.bot_user_id:
            user["profile"]["bot_id"] = self.bot_id
        if home_team and home_team != self.team_id:
            user["is_stranger"] = True
        with self._lock:
            self._users[user_id] = user
            # A profile name is text its owner typed, shown to others by apps.
            for typed in {name, real_name or name, user["profile"]["display_name"]}:
                self._taint.note(user_id, typed)
        return user

    def user(self, user_id: str) -> dict | None:
        with self._lock:
            user = self._users.get(user_id)
        return self._user_object(user) if user else None

    def _user_object(self, user: dict) -> dict:
        zone = ZoneInfo(user["tz"])
        moment = datetime.fromtimestamp(time.time(), zone)
        offset = moment.utcoffset()
        return {
            **user,
            "profile": dict(user["profile"]),
            "tz_label": moment.tzname() or user["tz"],
            "tz_offset": int(offset.total_seconds()) if offset else 0,
            "is_app_user": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
        }

    # -------------------------------------------------------------- conversations

    def dm_channel(self, user_id: str) -> str:
        """The id of ``user_id``'s DM with the bot (created on first use)."""
        with self._lock:
            dm = self._dm_by_user.get(user_id)
            if dm is None:
                dm = "D" + user_id[1:]
                while dm in self._channels:
                    dm += "X"
                self._dm_by_user[user_id] = dm
                self._channels[dm] = {
                    "id": dm,
                    "is_im": True,
                    "is_mpim": False,
                    "user": user_id,
                    "members": {user_id, self.bot_user_id},
                    "name": user_id,
                }
                self._messages[dm] = {}
            return dm

    def mpim_for(self, *user_ids: str) -> str:
        """The id of the group DM of ``user_ids`` and the bot (created on first use)."""
        members = frozenset(user_ids) | {self.bot_user_id}
        with self._lock:
            gid = self._mpim_by_members.get(members)
            if gid is None:
                digest = hashlib.sha1(",".join(sorted(members)).encode()).hexdigest()
                gid = "G" + digest[:10].upper()
                self._mpim_by_members[members] = gid
                name = "mpdm-" + "--".join(
                    self._users.get(u, {}).get("name", u) for u in sorted(members)
                )
                self._channels[gid] = {
                    "id": gid,
                    "is_im": False,
                    "is_mpim": True,
                    "members": set(members),
                    "name": name + "-1",
                }
                self._messages[gid] = {}
            return gid

    def add_channel(self, channel_id: str, name: str, members: list[str] | None = None) -> str:
        """A public channel the bot is a member of (for apps that post to channels)."""
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "is_im": False,
                "is_mpim": False,
                "members": set(members or []) | {self.bot_user_id},
                "name": name,
            }
            self._messages.setdefault(channel_id, {})
        return channel_id

    def channel_info(self, channel_id: str) -> dict | None:
        with self._lock:
            ch = self._channels.get(channel_id)
            return None if ch is None else {**ch, "members": sorted(ch["members"])}

    # ---------------------------------------------------------------- state views

    def messages_in(self, channel_or_user: str) -> list[dict]:
        """Messages now in a channel (or a user's DM), oldest first, after edits."""
        with self._lock:
            channel = self._resolve_existing(channel_or_user)
            msgs = self._messages.get(channel, {}) if channel else {}
            return [dict(m) for m in msgs.values()]

    def message(self, ts: str) -> dict | None:
        with self._lock:
            channel = self._ts_channel.get(ts)
            if channel is None:
                return None
            msg = self._messages[channel].get(ts)
            return dict(msg) if msg else None

    def channel_of(self, ts: str) -> str | None:
        with self._lock:
            if ts in self._ts_channel:
                return self._ts_channel[ts]
            eph = self._ephemeral.get(ts)
            return eph["channel"] if eph else None

    def ephemerals_for(self, user_id: str) -> list[dict]:
        """Ephemeral messages shown to ``user_id`` (postEphemeral and response URLs)."""
        with self._lock:
            return [dict(m) for m in self._ephemeral.values() if m["user"] == user_id]

    def ephemeral(self, ts: str) -> dict | None:
        with self._lock:
            m = self._ephemeral.get(ts)
            return dict(m) if m else None

    def home_view(self, user_id: str) -> dict | None:
        with self._lock:
            vid = self._homes.get(user_id)
            return dict(self._views[vid]) if vid else None

    def open_views(self, user_id: str) -> list[dict]:
        """The user's modal stack, root first."""
        with self._lock:
            return [dict(self._views[v]) for v in self._stacks.get(user_id, [])]

    def view(self, view_id: str) -> dict | None:
        with self._lock:
            v = self._views.get(view_id)
            return dict(v) if v else None

    def view_user(self, view_id: str) -> str | None:
        with self._lock:
            return self._view_user.get(view_id)

    def _resolve_existing(self, channel_or_user: str) -> str | None:
        if channel_or_user in self._channels:
            return channel_or_user
        if channel_or_user[:1] in ("U", "W"):
            return self._dm_by_user.get(channel_or_user)
        return None

    # ------------------------------------------------------------ typed text (taint)

    def note_typed(self, user_id: str, text: Any, *, kind: str = "input") -> None:
        """``user_id`` typed ``text`` (the driver calls this; see ``slackemu.taint``)."""
        with self._lock:
            self._taint.note(user_id, text, kind=kind)

    @property
    def mrkdwn_violations(self) -> list[str]:
        """Typed control sequences that reached someone else as live mrkdwn."""
        with self._lock:
            return list(self._taint.violations)

    def _humans_in(self, channel: str | None) -> set[str]:
        ch = self._channels.get(channel or "")
        if ch is None:
            return set()
        return {u for u in ch["members"] if not self._users.get(u, {}).get("is_bot")}

    def _scan(self, surface: str, viewers: set[str], payload: Any, *, message: bool) -> None:
        self._taint.check(surface, viewers, payload, message=message)

    # ------------------------------------------------------------------ recording

    @property
    def calls(self) -> list[RecordedCall]:
        with self._lock:
            return list(self._calls)

    def mark(self) -> int:
        with self._lock:
            return len(self._calls)

    def reset_calls(self) -> None:
        with self._lock:
            self._calls.clear()

    def calls_to(self, method: str, **match: Any) -> list[RecordedCall]:
        with self._lock:
            return [
                c
                for c in self._calls
                if c.method == method and all(c.args.get(k) == v for k, v in match.items())
            ]

    def wait_for(
        self,
        method: str,
        predicate: Callable[[RecordedCall], bool] | None = None,
        *,
        timeout: float = 5.0,
        after: int = 0,
        **match: Any,
    ) -> RecordedCall:
        """Block until a call to ``method`` at index >= ``after`` matches; return it."""
        deadline = time.monotonic() + timeout
        i = after
        with self._cond:
            while True:
                while i < len(self._calls):
                    call = self._calls[i]
                    i += 1
                    if call.method == method and self._matches(call, predicate, match):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_report(method, timeout, after))
                self._cond.wait(remaining)

    @staticmethod
    def _matches(call: RecordedCall, predicate: Any, match: dict) -> bool:
        if any(call.args.get(k) != v for k, v in match.items()):
            return False
        if predicate is None:
            return True
        try:
            return bool(predicate(call))
        except (KeyError, IndexError, TypeError):
            # A predicate reaching into a differently shaped call is simply no match.
            return False

    def _timeout_report(self, method: str, timeout: float, after: int) -> str:
        recent = self._calls[max(after, len(self._calls) - 20) :]
        lines = [f"no matching {method!r} call within {timeout}s (after index {after})"]
        lines.append(f"recent calls ({len(recent)} of {len(self._calls) - after} since {after}):")
        for c in recent:
            args = {k: v for k, v in c.args.items() if k not in ("blocks", "view")}
            summary = json.dumps(args, default=str)[:200]
            outcome = "ok" if c.response.get("ok") else c.response.get("error")
            lines.append(f"  {c.method} {summary} -> {c.status} {outcome}")
        return "\n".join(lines)

    def _record(self, method: str, args: dict, response: dict, status: int = 200) -> None:
        call = RecordedCall(method, args, response, time.time(), status)
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()

    # ------------------------------------------------------------ fault injection

    def inject(
        self,
        method: str,
        *,
        status: int = 200,
        error: str | None = None,
        retry_after: int = 1,
        times: int = 1,
        drop_connection: bool = False,
        when: Callable[[dict], bool] | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (``"response_url"`` too);
        ``when``: only calls whose arguments it accepts (``when=lambda args:
        args.get("channel") == group``), the others pass untouched."""
        if status == 200 and error is None and not drop_connection:
            raise ValueError("a 200 fault needs an error code, e.g. error='user_not_found'")
        fault = _Fault(status, error, retry_after, times, drop_connection, when)
        with self._lock:
            self._faults.setdefault(method, deque()).append(fault)

    def slow(self, method: str, seconds: float) -> None:
        """Answer ``method`` ``seconds`` late from now on (Slack hanging on it): the
        caller's own timeout decides what happens first."""
        self._slow[method] = seconds

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._slow.clear()

    def _take_fault(self, method: str, args: dict | None = None) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        if fault.when is not None and not fault.when(args or {}):
            return None
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.popleft()
        return fault

    def _fault_response(
        self, request: web.Request, method: str, args: dict, fault: _Fault
    ) -> web.StreamResponse:
        if fault.drop_connection:
            self._record(method, args, {"ok": False, "error": "connection_dropped"}, 0)
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if fault.status == 429:
            body = {"ok": False, "error": "ratelimited"}
            self._record(method, args, body, 429)
            return web.json_response(
                body, status=429, headers={"Retry-After": str(fault.retry_after)}
            )
        if fault.status >= 500:
            body = {"ok": False, "error": f"http_{fault.status}"}
            self._record(method, args, body, fault.status)
            return web.Response(
                status=fault.status,
                text="<html><body><h1>Slack is having trouble</h1></body></html>",
                content_type="text/html",
            )
        body = {"ok": False, "error": fault.error or "fatal_error"}
        self._record(method, args, body, fault.status)
        return web.json_response(body, status=fault.status)

    # ---------------------------------------------------------------- rate limits

    def _rate_limited(self, team_id: str, method: str, args: dict) -> int:
        """0 when allowed, else the Retry-After seconds. Limits are per workspace."""
        rl = self.rate_limits
        if rl is None:
            return 0
        # The emulator's clock, so a preview that moves through days (``advance``)
        # sees the limits of those days, not of the seconds it takes to run.
        now = self.now()
        wait = 0.0
        cap = rl.method_per_minute.get(method)
        if cap:
            key = (team_id, method)
            bucket = self._method_buckets.get(key)
            if bucket is None:
                # A minute's worth of burst; Tier 1 "tolerates a small amount of burst".
                bucket = self._method_buckets[key] = _Bucket(cap / 60.0, max(cap, TIER1_BURST), now)
            wait = bucket.take(now)
        if method == "chat.postMessage" and not wait:
            channel = str(args.get("channel", ""))
            if channel[:1] in ("U", "W") and channel in self._users:
                # A user id and that user's DM share one limit, as they are one channel.
                channel = self.dm_channel(channel)
            bucket = self._channel_buckets.get(channel)
            if bucket is None:
                bucket = self._channel_buckets[channel] = _Bucket(
                    rl.per_channel_per_second, max(1, rl.per_channel_burst), now
                )
            wait = bucket.take(now)
            if not wait and rl.workspace_per_minute:
                workspace = self._workspace_buckets.get(team_id)
                if workspace is None:
                    workspace = self._workspace_buckets[team_id] = _Bucket(
                        rl.workspace_per_minute / 60.0, rl.workspace_per_minute, now
                    )
                wait = workspace.take(now)
                if wait:
                    # The channel was not posted to after all; give its token back.
                    bucket.tokens += 1.0
        return max(1, math.ceil(wait)) if wait else 0

    # ----------------------------------------------------------------- HTTP layer

    async def _parse_args(self, request: web.Request) -> dict:
        args: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            raw = await request.read()
            ctype = request.content_type
            if ctype == "application/json":
                if raw:
                    body = json.loads(raw)
                    if isinstance(body, dict):
                        args.update(body)
            elif ctype == "multipart/form-data":
                form = await request.post()
                args.update({k: v for k, v in form.items() if isinstance(v, str)})
            else:
                args.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
        for key in _JSON_FIELDS:
            value = args.get(key)
            if isinstance(value, str) and value[:1] in ("[", "{"):
                try:
                    args[key] = json.loads(value)
                except ValueError:
                    pass
        return args

    def _auth(self, request: web.Request, args: dict, method: str | None = None) -> str:
        """The token's workspace; Slack's token and scope errors (see ``slackemu.scopes``)."""
        header = request.headers.get("Authorization", "")
        token = header[7:].strip() if header.startswith("Bearer ") else args.get("token")
        if not token:
            raise _ApiError("not_authed")
        state = self._token_state.get(token)
        if state is None:
            if self.tokens is None:
                if not token.startswith(("xoxb-", "xoxe.xoxb-")):
                    raise _ApiError("invalid_auth")
                team = self.team_id
            else:
                team = self.tokens.get(token)
                if team is None:
                    raise _ApiError("invalid_auth")
            # Known from now on, so an uninstall can kill it like any other.
            state = self._token_state[token] = _Token(
                team_id=team,
                scopes=None,
                dead=self._dead_teams.get(team),
            )
        if state.dead:
            raise _ApiError(state.dead)
        if state.expires_at is not None and self.wall_time() >= state.expires_at:
            raise _ApiError(scopes_module.TOKEN_EXPIRED)
        if method is not None:
            granted = state.scopes if state.scopes is not None else self.default_scopes
            if granted is not None:
                refusal = scopes_module.missing_scope(
                    scopes_module.needed_scopes(method, self._conversation_kind(method, args)),
                    granted,
                )
                if refusal is not None:
                    raise _ApiError(
                        "missing_scope", needed=refusal["needed"], provided=refusal["provided"]
                    )
        return state.team_id

    def _conversation_kind(self, method: str, args: dict) -> str | None:
        """``im``, ``mpim`` or ``public`` for the conversation a scope depends on."""
        if method == "conversations.open" and not args.get("channel"):
            users = [u for u in str(args.get("users") or "").split(",") if u.strip()]
            others = {u.strip() for u in users} - {self.bot_user_id}
            return "im" if len(others) <= 1 else "mpim"
        if method in ("conversations.open", "conversations.info"):
            channel = self._channels.get(str(args.get("channel") or ""))
            if channel is None:
                return None  # the method answers channel_not_found itself
            return "im" if channel["is_im"] else "mpim" if channel["is_mpim"] else "public"
        return None

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        try:
            args = await self._parse_args(request)
        except ValueError:
            body = {"ok": False, "error": "invalid_json"}
            self._record(method, {}, body)
            return web.json_response(body)
        args.pop("token", None)
        self.arrived[method] += 1
        if self.latency or method in self._slow:
            await asyncio.sleep(max(self.latency, self._slow.get(method, 0.0)))
        with self._lock:
            fault = self._take_fault(method, args)
            if fault is not None:
                return self._fault_response(request, method, args, fault)
            try:
                team_id = self.team_id
                if method == "apps.connections.open":
                    _need_app_token(request)
                elif method == "oauth.v2.access":
                    # The app authenticates with its client ID and secret, not a token.
                    args.update(_basic_auth(request.headers.get("Authorization", "")))
                else:
                    team_id = self._auth(request, args, method)
                wait = self._rate_limited(team_id, method, args)
                if wait:
                    body = {"ok": False, "error": "ratelimited"}
                    self._record(method, args, body, 429)
                    return web.json_response(body, status=429, headers={"Retry-After": str(wait)})
                handler = self._methods.get(method)
                if handler is None:
                    raise _ApiError("unknown_method")
                body = handler(self, args)
            except _ApiError as exc:
                body = exc.body
            self._record(method, args, body)
        return web.json_response(body)

    # ---------------------------------------------------------------- API methods

    def _need(self, args: dict, key: str) -> Any:
        value = args.get(key)
        if value in (None, ""):
            raise _ApiError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] missing required field: {key}"]},
            )
        return value

    def _next_ts(self) -> str:
        micros = max(int(time.time() * 1_000_000), self._last_ts + 1)
        self._last_ts = micros
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _resolve_post_channel(self, channel: str) -> str:
        if channel in self._channels:
            return channel
        if channel[:1] in ("U", "W"):
            user = self._users.get(channel)
            if user is None:
                raise _ApiError("channel_not_found")
            if user["deleted"]:
                raise _ApiError("user_disabled")
            if user["is_bot"]:
                raise _ApiError("cannot_dm_bot")
            return self.dm_channel(channel)
        raise _ApiError("channel_not_found")

    def _check_blocks(self, args: dict) -> None:
        problems = limits.validate_message_blocks(args.get("blocks"))
        if problems:
            raise _ApiError(
                "invalid_blocks",
                errors=problems,
                response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
            )
        if limits.validate_message_text(args.get("text")):
            raise _ApiError("msg_too_long")
        if limits.blocks_text_length(args.get("blocks")) > limits.MAX_BLOCKS_TEXT:
            raise _ApiError("msg_blocks_too_long")

    def _bot_message(self, args: dict, ts: str) -> dict:
        msg: dict[str, Any] = {
            "type": "message",
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "text": args.get("text") or "",
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if args.get(key) is not None:
                msg[key] = args[key]
        if isinstance(msg.get("blocks"), list):
            msg["blocks"] = _with_block_ids(msg["blocks"])
        return msg

    def _api_auth_test(self, args: dict) -> dict:
        return {
            "ok": True,
            "url": f"https://{self.team_domain}.slack.com/",
            "team": self.team_name,
            "user": self._users[self.bot_user_id]["name"],
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _api_team_info(self, args: dict) -> dict:
        return {
            "ok": True,
            "team": {
                "id": self.team_id,
                "name": self.team_name,
                "domain": self.team_domain,
                "email_domain": f"{self.team_domain}.example",
                "icon": {"image_default": True},
            },
        }

    def _api_users_info(self, args: dict) -> dict:
        user = self._users.get(self._need(args, "user"))
        if user is None:
            raise _ApiError("user_not_found")
        return {"ok": True, "user": self._user_object(user)}

    def _api_users_list(self, args: dict) -> dict:
        return {
            "ok": True,
            "members": [self._user_object(u) for u in self._users.values()],
            "response_metadata": {"next_cursor": ""},
        }

    def _api_conversations_open(self, args: dict) -> dict:
        if args.get("channel"):
            ch = self._channels.get(args["channel"])
            if ch is None:
                raise _ApiError("channel_not_found")
            return {"ok": True, "channel": {"id": ch["id"]}}
        raw = args.get("users")
        if not raw:
            raise _ApiError("users_list_not_supplied")
        users = [u.strip() for u in str(raw).split(",") if u.strip()]
        others = [u for u in dict.fromkeys(users) if u != self.bot_user_id]
        for uid in others:
            user = self._users.get(uid)
            if user is None:
                raise _ApiError("user_not_found")
            if user["deleted"]:
                raise _ApiError("user_disabled")
        if not others:
            raise _ApiError("cannot_dm_bot")
        if len(others) == 1:
            if self._users[others[0]]["is_bot"]:
                raise _ApiError("cannot_dm_bot")
            already = others[0] in self._dm_by_user
            cid = self.dm_channel(others[0])
            channel = {"id": cid}
            if str(args.get("return_im")).lower() in ("1", "true"):
                channel.update({"is_im": True, "user": others[0], "created": 0})
            return {"ok": True, "no_op": already, "already_open": already, "channel": channel}
        if len(others) + 1 > MAX_MPIM_MEMBERS:
            raise _ApiError("too_many_users")
        members = frozenset(others)
        already = (members | {self.bot_user_id}) in self._mpim_by_members
        return {
            "ok": True,
            "no_op": already,
            "already_open": already,
            "channel": {"id": self.mpim_for(*members)},
        }

    def _api_conversations_info(self, args: dict) -> dict:
        ch = self._channels.get(self._need(args, "channel"))
        if ch is None:
            raise _ApiError("channel_not_found")
        info = {k: v for k, v in ch.items() if k != "members"}
        info["num_members"] = len(ch["members"])
        return {"ok": True, "channel": info}

    def _api_chat_post_message(self, args: dict) -> dict:
        channel = self._resolve_post_channel(str(self._need_channel(args)))
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise _ApiError("no_text")
        self._check_blocks(args)
        thread_ts = args.get("thread_ts")
        if thread_ts and thread_ts not in self._messages[channel]:
            raise _ApiError("thread_not_found")
        ts = self._next_ts()
        msg = self._bot_message(args, ts)
        self._messages[channel][ts] = msg
        self._ts_channel[ts] = channel
        self._scan(f"chat.postMessage to {channel}", self._humans_in(channel), args, message=True)
        return {"ok": True, "channel": channel, "ts": ts, "message": msg}

    def _need_channel(self, args: dict) -> str:
        channel = args.get("channel")
        if not channel:
            raise _ApiError("channel_not_found")
        return str(channel)

    def _api_chat_post_ephemeral(self, args: dict) -> dict:
        channel = self._resolve_post_channel(self._need_channel(args))
        user = args.get("user")
        if not user or user not in self._users:
            raise _ApiError("user_not_found")
        if user not in self._channels[channel]["members"]:
            raise _ApiError("user_not_in_channel")
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            raise _ApiError("no_text")
        self._check_blocks(args)
        ts = self._next_ts()
        msg = self._bot_message(args, ts)
        self._ephemeral[ts] = {**msg, "channel": channel, "user": user}
        self._scan(f"chat.postEphemeral to {user} in {channel}", {user}, args, message=True)
        return {"ok": True, "message_ts": ts}

    def _find_message(self, args: dict) -> tuple[str, str, dict]:
        channel = self._need_channel(args)
        if channel not in self._channels:
            raise _ApiError("channel_not_found")
        ts = str(args.get("ts") or "")
        msg = self._messages[channel].get(ts)
        if msg is None:
            raise _ApiError("message_not_found")
        if msg.get("bot_id") != self.bot_id:
            raise _ApiError("cant_update_message")
        return channel, ts, msg

    def _api_chat_update(self, args: dict) -> dict:
        channel, ts, msg = self._find_message(args)
        if not args.get("text") and not args.get("blocks") and not args.get("attachments"):
            # slack-api-ref chat.update errors: "no_text: No text provided" (an update
            # that would leave the message empty).
            raise _ApiError("no_text")
        self._check_blocks(args)
        # A new dict, so snapshots already handed out (recorded responses) stay as they were.
        new = dict(msg)
        if "text" in args:
            new["text"] = args["text"] or ""
        for key in ("blocks", "attachments", "metadata"):
            if key in args:
                if args[key] in (None, "", []):
                    new.pop(key, None)
                else:
                    new[key] = args[key]
        new["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        self._messages[channel][ts] = new
        viewers = self._humans_in(channel)
        self._scan(f"chat.update of {ts} in {channel}", viewers, args, message=True)
        return {"ok": True, "channel": channel, "ts": ts, "text": new["text"], "message": new}

    def _api_chat_delete(self, args: dict) -> dict:
        channel, ts, _ = self._find_message(args)
        del self._messages[channel][ts]
        del self._ts_channel[ts]
        return {"ok": True, "channel": channel, "ts": ts}

    def issue_trigger(self, user_id: str) -> str:
        """A fresh trigger id for ``user_id``, as Slack puts in interactive payloads.

        Good for one exchange (views.open / views.push) within TRIGGER_TTL = 3 s:
        "Pass a valid trigger_id within 3 seconds of receiving it"
        (docs.slack.dev/tools/bolt-python/concepts/opening-modals). Later or again it
        fails with the errors of docs.slack.dev/reference/methods/views.open:
        ``expired_trigger_id`` ("The trigger_id is expired"), ``exchanged_trigger_id``
        ("already exchanged in a previous call"), ``invalid_trigger_id`` (unknown)."""
        trigger = f"{int(time.time())}.{secrets.randbelow(10**10)}.{secrets.token_hex(16)}"
        with self._lock:
            self._triggers[trigger] = {"user": user_id, "at": self.now(), "used": False}
        return trigger

    def _exchange_trigger(self, args: dict) -> str:
        trigger = args.get("trigger_id") or args.get("interactivity_pointer")
        info = self._triggers.get(trigger) if trigger else None
        if info is None:
            raise _ApiError("invalid_trigger_id")
        if info["used"]:
            raise _ApiError("exchanged_trigger_id")
        if self.now() - info["at"] >= TRIGGER_TTL:
            raise _ApiError("expired_trigger_id")
        info["used"] = True
        return info["user"]

    def _checked_view(self, args: dict) -> dict:
        view = args.get("view")
        if isinstance(view, str):
            raise _ApiError(
                "invalid_arguments",
                response_metadata={
                    "messages": ["[ERROR] view must be a JSON object [json-pointer:/view]"]
                },
            )
        problems = limits.validate_view(view)
        if problems:
            raise _ApiError(
                "invalid_arguments",
                response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
            )
        if limits.view_too_large(view):
            raise _ApiError("view_too_large")
        return view

    def _store_view(
        self,
        user_id: str,
        view: dict,
        *,
        view_id: str | None = None,
        root_view_id: str | None = None,
        previous_view_id: str | None = None,
    ) -> dict:
        vid = view_id or f"V{next(self._view_seq):06d}"
        ext = view.get("external_id")
        if ext:
            owner = self._view_by_external.get(ext)
            if owner is not None and owner != vid:
                raise _ApiError("duplicate_external_id")
            self._view_by_external[ext] = vid
        stored = {
            "id": vid,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": _with_block_ids(view.get("blocks") or []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "root_view_id": root_view_id or vid,
            "previous_view_id": previous_view_id,
            "app_id": self.app_id,
            "external_id": ext or "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        for key in ("title", "submit", "close"):
            if view.get(key) is not None:
                stored[key] = view[key]
        self._views[vid] = stored
        self._view_user[vid] = user_id
        self._scan(f"{view.get('type')} view {vid} of {user_id}", {user_id}, view, message=False)
        return stored

    def _api_views_open(self, args: dict) -> dict:
        self._need(args, "view")
        user = self._exchange_trigger(args)
        view = self._checked_view(args)
        if view.get("type") != "modal":
            raise _ApiError(
                "invalid_arguments",
                response_metadata={
                    "messages": ["[ERROR] views.open only opens modals [json-pointer:/view/type]"]
                },
            )
        stored = self._store_view(user, view)
        self._stacks[user] = [stored["id"]]
        return {"ok": True, "view": stored}

    def _api_views_push(self, args: dict) -> dict:
        user = self._exchange_trigger(args)
        view = self._checked_view(args)
        stack = self._stacks.get(user) or []
        if not stack:
            raise _ApiError("not_found")
        if len(stack) >= MAX_VIEW_STACK:
            raise _ApiError("push_limit_reached")
        stored = self._store_view(user, view, root_view_id=stack[0], previous_view_id=stack[-1])
        stack.append(stored["id"])
        return {"ok": True, "view": stored}

    def _api_views_update(self, args: dict) -> dict:
        vid = args.get("view_id") or self._view_by_external.get(args.get("external_id") or "")
        if not vid or vid not in self._views:
            raise _ApiError("not_found")
        if self._views[vid]["type"] == "modal" and vid not in self._stacks.get(
            self._view_user[vid], []
        ):
            # A modal the person closed (or submitted) is gone: "An API error occurred:
            # not_found ... because the modal has already been closed" (slackapi/bolt-js#1309).
            raise _ApiError("not_found")
        view = self._checked_view(args)
        old = self._views[vid]
        if args.get("hash") and args["hash"] != old["hash"]:
            raise _ApiError("hash_conflict")
        if view.get("type") != old["type"]:
            raise _ApiError(
                "invalid_arguments",
                response_metadata={
                    "messages": ["[ERROR] view type cannot change [json-pointer:/view/type]"]
                },
            )
        stored = self._store_view(
            self._view_user[vid],
            view,
            view_id=vid,
            root_view_id=old["root_view_id"],
            previous_view_id=old["previous_view_id"],
        )
        return {"ok": True, "view": stored}

    def _api_views_publish(self, args: dict) -> dict:
        user_id = self._need(args, "user_id")
        user = self._users.get(user_id)
        if user is None or user["is_bot"]:
            raise _ApiError("invalid_arguments" if user else "user_not_found")
        view = self._checked_view(args)
        if view.get("type") != "home":
            raise _ApiError(
                "invalid_arguments",
                response_metadata={
                    "messages": [
                        "[ERROR] views.publish only publishes home views [json-pointer:/view/type]"
                    ]
                },
            )
        old_id = self._homes.get(user_id)
        if old_id and args.get("hash") and args["hash"] != self._views[old_id]["hash"]:
            raise _ApiError("hash_conflict")
        stored = self._store_view(user_id, view, view_id=old_id)
        self._homes[user_id] = stored["id"]
        return {"ok": True, "view": stored}

    # ---------------------------------------------------------------- Socket Mode

    def _api_apps_connections_open(self, args: dict) -> dict:
        return {"ok": True, "url": f"ws://{self.host}:{self._port}/socket"}

    async def _handle_socket(self, request: web.Request) -> web.WebSocketResponse:
        """Slack's Socket Mode: a hello, then envelopes out and acknowledgements back."""
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        await socket.send_json(
            {"type": "hello", "num_connections": 1, "debug_info": {"host": "slackemu"}}
        )
        self._sockets.append(socket)
        self._socket_connected.set()
        try:
            async for frame in socket:
                if frame.type != web.WSMsgType.TEXT:
                    continue
                ack = json.loads(frame.data)
                envelope_id = ack.get("envelope_id", "")
                self._record("socket_ack", ack, {"ok": True})
                waiter = self._socket_acks.pop(envelope_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(ack)
        finally:
            if socket in self._sockets:
                self._sockets.remove(socket)
            if not self._sockets:
                self._socket_connected.clear()
        return socket

    def socket_connections(self) -> int:
        """How many Socket Mode connections the app holds open now."""
        return len(self._sockets)

    def socket_disconnect(
        self, reason: str = "refresh_requested", *, timeout: float = 10.0
    ) -> None:
        """Ask the connected app to reconnect, as Slack does, and wait until it has.

        Slack sends ``{"type": "disconnect", "reason": ...}`` over the socket:
        ``refresh_requested`` (Slack rotates its hosts), ``warning`` (this
        connection closes in about 10 s) or ``link_disabled`` (Socket Mode was
        switched off in the app's settings); an app must open a new connection
        with ``apps.connections.open`` (docs.slack.dev/apis/events-api/using-socket-mode,
        "Disconnects"). The old socket is closed once the app has a new one,
        and whatever the old one still receives is lost, as on Slack.
        """
        if reason not in ("refresh_requested", "warning", "link_disabled"):
            raise ValueError(f"unknown disconnect reason {reason!r}")
        if not self._socket_connected.wait(timeout):
            raise AssertionError("no app is connected over Socket Mode")
        assert self._loop is not None
        old = list(self._sockets)
        opened_before = len(self.calls_to("apps.connections.open"))

        async def send() -> None:
            frame = {"type": "disconnect", "reason": reason, "debug_info": {"host": "slackemu"}}
            for socket in old:
                await socket.send_json(frame)

        asyncio.run_coroutine_threadsafe(send(), self._loop).result(timeout)
        deadline = time.monotonic() + timeout
        while not (
            len(self.calls_to("apps.connections.open")) > opened_before
            and any(s not in old for s in self._sockets)
        ):
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not reconnect within {timeout}s of {reason}")
            time.sleep(0.02)  # waiting for another process's socket, not moving app time

        async def close_old() -> None:
            for socket in old:
                await socket.close()

        asyncio.run_coroutine_threadsafe(close_old(), self._loop).result(timeout)

    def socket_send(self, kind: str, payload: dict, *, timeout: float = 5.0) -> dict:
        """Deliver one envelope (``slash_commands``, ``interactive`` or ``events_api``) to
        the connected app, as Slack does in Socket Mode; returns the app's ack."""
        if not self._socket_connected.wait(timeout):
            raise AssertionError("no app is connected over Socket Mode")
        assert self._loop is not None
        envelope_id = secrets.token_hex(8)

        async def send() -> dict:
            waiter: asyncio.Future[dict] = asyncio.get_running_loop().create_future()
            self._socket_acks[envelope_id] = waiter
            await self._sockets[-1].send_json(
                {
                    "envelope_id": envelope_id,
                    "type": kind,
                    "payload": payload,
                    "accepts_response_payload": kind != "events_api",
                    "retry_attempt": 0,
                    "retry_reason": "",
                }
            )
            return await asyncio.wait_for(waiter, timeout)

        return asyncio.run_coroutine_threadsafe(send(), self._loop).result(timeout + 1)

    # ---------------------------------------------------------------------- OAuth

    def authorize(
        self, client_id: str, *, installer: str = "U0INSTALLER", redirect_uri: str | None = None
    ) -> str:
        """A person approves the install on Slack's authorize page: the temporary
        ``code`` Slack then hands to the app's redirect URL (one use, ten minutes)."""
        code = f"{self.team_id}.{secrets.token_hex(8)}.{secrets.token_hex(16)}"
        with self._lock:
            self._oauth_codes[code] = {
                "client_id": client_id,
                "installer": installer,
                "redirect_uri": redirect_uri,
                "at": self.now(),
                "used": False,
            }
        return code

    def _redeem_oauth_code(self, args: dict) -> dict:
        """Slack's checks on ``oauth.v2.access`` (Slack's "Installing with OAuth"
        guide, docs.slack.dev/authentication/installing-with-oauth: the code is
        temporary, "expires after ten minutes", and is exchanged once; errors as in
        slack-ruby/slack-api-ref methods/oauth/oauth.v2.access.json)."""
        client_id = str(args.get("client_id") or "")
        if not client_id or (self.client_id is not None and client_id != self.client_id):
            raise _ApiError("invalid_client_id")
        secret = str(args.get("client_secret") or "")
        if not secret or (self.client_secret is not None and secret != self.client_secret):
            raise _ApiError("bad_client_secret")
        grant = self._oauth_codes.get(str(args.get("code") or ""))
        if grant is None or grant["client_id"] != client_id:
            raise _ApiError("invalid_code")
        if grant["used"] or self.now() - grant["at"] > OAUTH_CODE_TTL:
            raise _ApiError("invalid_code")
        if grant["redirect_uri"] and args.get("redirect_uri") != grant["redirect_uri"]:
            raise _ApiError("bad_redirect_uri")
        grant["used"] = True
        return grant

    def _api_oauth_v2_access(self, args: dict) -> dict:
        """Exchanges an install code for this workspace's bot token, as Slack's OAuth v2."""
        if args.get("grant_type") == "refresh_token":
            return self._refresh_bot_token(args)
        grant = self._redeem_oauth_code(args)
        # The token carries the scopes the answer names (manifest.yml's bot scopes).
        issued = self._issue_bot_token(self.team_id, None)
        return {
            "ok": True,
            "app_id": self.app_id,
            "authed_user": {"id": grant["installer"]},
            "scope": ",".join(
                self.default_scopes
                or ("chat:write", "commands", "files:write", "im:write", "mpim:write", "users:read")
            ),
            "token_type": "bot",
            **issued,
            "bot_user_id": self.bot_user_id,
            "team": {"id": self.team_id, "name": self.team_name},
            "enterprise": None,
            "is_enterprise_install": False,
        }

    # ---------------------------------------------------------------------- files

    def _api_files_get_upload_url(self, args: dict) -> dict:
        filename = str(args.get("filename") or "")
        length = str(args.get("length") or "")
        if not filename or not length.isdigit():
            raise _ApiError("invalid_arguments")
        file_id = f"F{next(self._file_seq):08d}"
        with self._lock:
            self._files[file_id] = {
                "id": file_id,
                "name": filename,
                "length": int(length),
                "content": None,
                "alt_txt": args.get("alt_txt"),
            }
        return {
            "ok": True,
            "file_id": file_id,
            "upload_url": f"{self.url.rstrip('/')}/upload/{file_id}",
        }

    async def _handle_upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        data = await request.read()
        with self._lock:
            entry = self._files.get(file_id)
            if entry is None:
                return web.Response(status=404, text="unknown upload")
            entry["content"] = data
        self._record("files.upload", {"file_id": file_id, "bytes": len(data)}, {"ok": True})
        return web.Response(status=200, text=f"OK - {len(data)}")

    def _api_files_complete_upload(self, args: dict) -> dict:
        files = args.get("files")
        if isinstance(files, str):
            files = json.loads(files)
        if not isinstance(files, list) or not files:
            raise _ApiError("invalid_arguments")
        done = []
        with self._lock:
            for item in files:
                entry = self._files.get(str(item.get("id")))
                if entry is None or entry["content"] is None:
                    raise _ApiError("file_not_found")
                entry["title"] = item.get("title") or entry["name"]
                done.append(
                    {
                        "id": entry["id"],
                        "name": entry["name"],
                        "title": entry["title"],
                        "size": len(entry["content"]),
                        "mimetype": _mimetype(entry["name"]),
                    }
                )
        channel = args.get("channel_id")
        if channel:
            if not re.fullmatch(r"[CGDZ][A-Z0-9]+", str(channel)):
                # A user's id is not a conversation here, unlike chat.postMessage's
                # channel: "input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$
                # [json-pointer:/channel_id]" (slackapi/bolt-js#2115). The length is
                # not checked: the emulator's DMs take their id from short test users'.
                raise _ApiError(
                    "invalid_arguments",
                    response_metadata={
                        "messages": [
                            "[ERROR] input must match regex pattern: ^[CGDZ][A-Z0-9]{8,}$ "
                            "[json-pointer:/channel_id]"
                        ]
                    },
                )
            channel = self._resolve_post_channel(str(channel))
            ts = self._next_ts()
            msg = self._bot_message({"text": args.get("initial_comment") or ""}, ts)
            msg["files"] = done
            self._messages[channel][ts] = msg
            self._ts_channel[ts] = channel
        return {"ok": True, "files": done}

    def _api_files_delete(self, args: dict) -> dict:
        """Deletes the file and, as in Slack, takes it out of the messages that shared it
        (a message left with nothing else goes too)."""
        file_id = str(self._need(args, "file"))
        with self._lock:
            if self._files.pop(file_id, None) is None:
                raise _ApiError("file_not_found")
            for messages in self._messages.values():
                for ts, msg in list(messages.items()):
                    files = [f for f in msg.get("files") or [] if f.get("id") != file_id]
                    if len(files) == len(msg.get("files") or []):
                        continue
                    if files or msg.get("text") or msg.get("blocks"):
                        messages[ts] = {**msg, "files": files}
                    else:
                        del messages[ts]
                        self._ts_channel.pop(ts, None)
        return {"ok": True}

    def file_content(self, file_id: str) -> bytes | None:
        with self._lock:
            entry = self._files.get(file_id)
        return entry["content"] if entry else None

    _methods: dict[str, Callable[[SlackEmulator, dict], dict]] = {
        "auth.test": _api_auth_test,
        "team.info": _api_team_info,
        "users.info": _api_users_info,
        "users.list": _api_users_list,
        "conversations.open": _api_conversations_open,
        "conversations.info": _api_conversations_info,
        "chat.postMessage": _api_chat_post_message,
        "chat.postEphemeral": _api_chat_post_ephemeral,
        "chat.update": _api_chat_update,
        "chat.delete": _api_chat_delete,
        "views.open": _api_views_open,
        "views.push": _api_views_push,
        "views.update": _api_views_update,
        "views.publish": _api_views_publish,
        "oauth.v2.access": _api_oauth_v2_access,
        "apps.connections.open": _api_apps_connections_open,
        "files.getUploadURLExternal": _api_files_get_upload_url,
        "files.completeUploadExternal": _api_files_complete_upload,
        "files.delete": _api_files_delete,
    }

    # ---------------------------------------------------- view stack (driver side)

    def close_view(self, user_id: str, view_id: str | None = None, *, clear: bool = False) -> None:
        """The user dismissed (or submitted) the top modal; ``clear`` closes them all."""
        with self._lock:
            stack = self._stacks.get(user_id, [])
            if clear or (view_id and stack and stack[0] == view_id and len(stack) == 1):
                stack.clear()
            elif stack and (view_id is None or stack[-1] == view_id):
                stack.pop()

    def _checked_response_view(self, user_id: str, action: str, view: Any) -> None:
        """A view returned in a ``response_action`` goes through Slack's validator too."""
        problems = limits.validate_view(view)
        if not problems and limits.view_too_large(view):
            problems = [f"view is larger than {limits.MAX_VIEW_BYTES} bytes"]
        if not problems:
            return
        body = {
            "ok": False,
            "error": "invalid_arguments",
            "response_metadata": {"messages": [f"[ERROR] {p}" for p in problems]},
        }
        self._record(
            "view_submission.response_action",
            {"response_action": action, "user": user_id, "view": view},
            body,
        )
        raise ValueError(
            f"Slack refuses this response_action {action!r} view: " + "; ".join(problems)
        )

    def replace_top_view(self, user_id: str, view: dict) -> dict:
        """``response_action: update`` from a view submission."""
        with self._lock:
            self._checked_response_view(user_id, "update", view)
            stack = self._stacks.get(user_id) or []
            if not stack:
                raise LookupError(f"{user_id} has no open modal")
            old = self._views[stack[-1]]
            stored = self._store_view(
                user_id,
                view,
                view_id=old["id"],
                root_view_id=old["root_view_id"],
                previous_view_id=old["previous_view_id"],
            )
            return dict(stored)

    def push_view(self, user_id: str, view: dict) -> dict:
        """``response_action: push`` from a view submission."""
        with self._lock:
            self._checked_response_view(user_id, "push", view)
            stack = self._stacks.setdefault(user_id, [])
            if len(stack) >= MAX_VIEW_STACK:
                raise ValueError(f"Slack refuses a push onto a stack of {len(stack)} views")
            stored = self._store_view(
                user_id,
                view,
                root_view_id=stack[0] if stack else None,
                previous_view_id=stack[-1] if stack else None,
            )
            stack.append(stored["id"])
            return dict(stored)

    def check_command_response(self, user_id: str, channel: str, body: Any) -> None:
        """A slash command's immediate answer (its HTTP body), checked as Slack checks it.

        Slack shows the answer only if it would accept it as a message; an answer it
        refuses is recorded as ``slash_command.response`` and raised as ``ValueError``.
        """
        if not isinstance(body, dict) or not (body.get("text") or body.get("blocks")):
            return
        with self._lock:
            problems = limits.validate_message_blocks(body.get("blocks"))
            error = "invalid_blocks" if problems else None
            if not problems and limits.validate_message_text(body.get("text")):
                error, problems = "msg_too_long", ["text is too long [json-pointer:/text]"]
            if error:
                self._record(
                    "slash_command.response",
                    {"user": user_id, "channel": channel, **body},
                    {"ok": False, "error": error, "errors": problems},
                )
                raise ValueError(f"Slack refuses this slash command answer: {'; '.join(problems)}")
            if body.get("response_type") == "in_channel":
                viewers = self._humans_in(channel)
            else:
                viewers = {user_id}
            self._scan(f"slash command answer to {user_id}", viewers, body, message=True)

    # ---------------------------------------------------------------- response URLs

    def new_response_url(
        self,
        *,
        channel: str | None = None,
        user: str | None = None,
        message_ts: str | None = None,
    ) -> str:
        """A response URL tied to where the interaction happened."""
        rid = secrets.token_hex(12)
        with self._lock:
            self._response_urls[rid] = {
                "channel": channel,
                "user": user,
                "message_ts": message_ts,
                "at": self.now(),
                "uses": 0,
            }
        return f"{self.url}response/{rid}"

    async def _handle_response_url(self, request: web.Request) -> web.StreamResponse:
        rid = request.match_info["rid"]
        url = f"{self.url}response/{rid}"
        raw = await request.read()
        try:
            if request.content_type == "application/json":
                args = json.loads(raw or b"{}")
            else:
                form = dict(parse_qsl(raw.decode("utf-8")))
                args = json.loads(form.get("payload", "{}"))
        except ValueError:
            args = {"_raw": raw.decode("utf-8", "replace")}
        if not isinstance(args, dict):
            args = {"_raw": args}
        if isinstance(args.get("blocks"), str):
            try:
                args["blocks"] = json.loads(args["blocks"])
            except ValueError:
                pass
        args["_url"] = url
        args["_id"] = rid
        with self._lock:
            fault = self._take_fault("response_url")
            if fault is not None:
                return self._fault_response(request, "response_url", args, fault)
            status, body = self._apply_response(rid, args)
            self._record("response_url", args, body, status)
        return web.json_response(body, status=status)

    def _apply_response(self, rid: str, args: dict) -> tuple[int, dict]:
        ctx = self._response_urls.get(rid)
        if ctx is None:
            return 404, {"ok": False, "error": "no_active_hooks"}
        if self.now() - ctx["at"] > RESPONSE_URL_TTL:
            return 404, {"ok": False, "error": "expired_url"}
        if ctx["uses"] >= RESPONSE_URL_USES:
            return 404, {"ok": False, "error": "used_url"}
        if not args.get("delete_original") and not args.get("text") and not args.get("blocks"):
            # A message with nothing in it: Slack's webhooks answer 400 "no_text"
            # (docs.slack.dev/messaging/sending-messages-using-incoming-webhooks,
            # "Handling errors"), as a response_url is one.
            return 400, {"ok": False, "error": "no_text"}
        problems = limits.validate_message_blocks(args.get("blocks"))
        if problems:
            return 400, {"ok": False, "error": "invalid_blocks", "errors": problems}
        if limits.validate_message_text(args.get("text")):
            return 400, {"ok": False, "error": "msg_too_long"}
        ctx["uses"] += 1
        channel, ts = ctx["channel"], ctx["message_ts"]
        if args.get("delete_original"):
            if ts in self._ephemeral:
                del self._ephemeral[ts]
            elif channel and ts in self._messages.get(channel, {}):
                del self._messages[channel][ts]
                self._ts_channel.pop(ts, None)
            return 200, {"ok": True}
        if args.get("replace_original") and ts:
            if ts in self._ephemeral:
                old = self._ephemeral[ts]
            else:
                old = self._messages.get(channel or "", {}).get(ts)
            if old is None:
                return 404, {"ok": False, "error": "message_not_found"}
            new = {**old, "text": args.get("text", old.get("text", ""))}
            if "blocks" in args:
                new["blocks"] = args["blocks"]
            if ts in self._ephemeral:
                self._ephemeral[ts] = new
                viewers = {new["user"]}
            else:
                self._messages[channel][ts] = new
                viewers = self._humans_in(channel)
            self._scan(f"response_url replacing {ts}", viewers, args, message=True)
            return 200, {"ok": True}
        if not channel:
            return 200, {"ok": True}
        new_ts = self._next_ts()
        msg = self._bot_message(args, new_ts)
        if args.get("response_type") == "in_channel":
            self._messages.setdefault(channel, {})[new_ts] = msg
            self._ts_channel[new_ts] = channel
            self._scan(f"response_url in {channel}", self._humans_in(channel), args, message=True)
        elif ctx["user"]:
            self._ephemeral[new_ts] = {**msg, "channel": channel, "user": ctx["user"]}
            self._scan(f"response_url to {ctx['user']}", {ctx["user"]}, args, message=True)
        return 200, {"ok": True}


__all__ = [
    "APP_ID",
    "BOT_ID",
    "BOT_USER_ID",
    "SLACK_TIERS",
    "TEAM_ID",
    "RateLimits",
    "RecordedCall",
    "SlackEmulator",
]
