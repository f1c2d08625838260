"""The user side of Slack: signed requests from "people" into the app.

``SlackDriver`` builds the payloads Slack sends to an app's request URL
(slash commands, Events API callbacks, ``block_actions``, ``view_submission``,
``view_closed``), signs them with the app's signing secret and POSTs them to
``{app_url}/slack/events`` synchronously, so plain pytest tests can drive the
app step by step. Trigger ids and response URLs come from the
``SlackEmulator`` so the app's follow-up Web API calls are accepted there.
"""

from __future__ import annotations

import contextlib
import http.client
import itertools
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from .server import SlackEmulator
from .signing import FORM, JSON, signed_headers

VERIFICATION_TOKEN = "emulated-verification-token"

# (method, url, body, headers) -> (status, headers, body)
HttpTransport = Callable[[str, str, bytes, dict[str, str]], tuple[int, dict[str, str], bytes]]


class CalledSlackBeforeAck(AssertionError):
    """Strict mode: the app made Web API calls while Slack was waiting for its answer."""


@dataclass
class DriverResponse:
    status: int
    body: bytes
    json: dict | None
    text: str
    headers: dict[str, str] = field(default_factory=dict)
    response_url: str | None = None
    trigger_id: str | None = None
    payload: dict | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class SentRequest:
    """One request the driver made, for logs and the local preview."""

    kind: str
    user_id: str | None
    summary: str
    payload: dict | None
    response: DriverResponse
    at: float


class Input:
    """Builders for ``view.state.values`` entries, in Slack's shapes."""

    @staticmethod
    def plain_text(value: str | None) -> dict:
        return {"type": "plain_text_input", "value": value}

    @staticmethod
    def number(value: int | float | str | None) -> dict:
        return {"type": "number_input", "value": None if value is None else str(value)}

    @staticmethod
    def datetime(unix: int | None) -> dict:
        return {
            "type": "datetimepicker",
            "selected_date_time": None if unix is None else int(unix),
        }

    @staticmethod
    def date(iso_date: str | None) -> dict:
        return {"type": "datepicker", "selected_date": iso_date}

    @staticmethod
    def time(hh_mm: str | None) -> dict:
        return {"type": "timepicker", "selected_time": hh_mm}

    @staticmethod
    def static_select(value: str | None, text: str | None = None) -> dict:
        return {"type": "static_select", "selected_option": _option(value, text)}

    @staticmethod
    def radio(value: str | None, text: str | None = None) -> dict:
        return {"type": "radio_buttons", "selected_option": _option(value, text)}

    @staticmethod
    def multi_static_select(values: list[str], texts: list[str] | None = None) -> dict:
        texts = texts or [None] * len(values)  # type: ignore[list-item]
        return {
            "type": "multi_static_select",
            "selected_options": [_option(v, t) for v, t in zip(values, texts, strict=True)],
        }

    @staticmethod
    def checkboxes(values: list[str], texts: list[str] | None = None) -> dict:
        texts = texts or [None] * len(values)  # type: ignore[list-item]
        return {
            "type": "checkboxes",
            "selected_options": [_option(v, t) for v, t in zip(values, texts, strict=True)],
        }

    @staticmethod
    def users_select(user_id: str | None) -> dict:
        return {"type": "users_select", "selected_user": user_id}


def _option(value: str | None, text: str | None) -> dict | None:
    if value is None:
        return None
    return {"text": {"type": "plain_text", "text": text or value, "emoji": True}, "value": value}


def iter_elements(blocks: list[dict]) -> Iterator[tuple[dict, dict]]:
    """Every (block, interactive element) pair in ``blocks``."""
    for block in blocks or []:
        kind = block.get("type")
        if kind == "actions":
            for el in block.get("elements", []):
                yield block, el
        elif kind == "section" and isinstance(block.get("accessory"), dict):
            yield block, block["accessory"]
        elif kind == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]


def find_action(
    blocks: list[dict], action_id: str, *, block_id: str | None = None
) -> tuple[dict, dict]:
    """The (block, element) carrying ``action_id``; ``LookupError`` when absent."""
    for block, el in iter_elements(blocks):
        if el.get("action_id") == action_id and (
            block_id is None or block.get("block_id") == block_id
        ):
            return block, el
    present = [el.get("action_id") for _, el in iter_elements(blocks)]
    raise LookupError(f"no element with action_id {action_id!r}; present: {present}")


def _block_id(block: dict, index_hint: int = 0) -> str:
    # Slack fills in a random block_id when the app gave none; the payload always has one.
    return block.get("block_id") or f"emu{index_hint}"


def _choose_option(el: dict, value: Any) -> dict | None:
    options = list(el.get("options") or [])
    for group in el.get("option_groups") or []:
        options.extend(group.get("options", []))
    if value is None:
        return el.get("initial_option") or (options[0] if options else None)
    for opt in options:
        if opt.get("value") == value:
            return opt
    raise LookupError(
        f"{el.get('action_id')!r} has no option {value!r}; "
        f"options: {[o.get('value') for o in options]}"
    )


def _action_for(block: dict, el: dict, value: Any) -> dict:
    kind = el.get("type")
    action: dict[str, Any] = {
        "action_id": el.get("action_id"),
        "block_id": _block_id(block),
        "type": kind,
        "action_ts": f"{time.time():.6f}",
    }
    if kind == "button":
        action["text"] = el.get("text")
        if el.get("value") is not None or value is not None:
            action["value"] = value if value is not None else el.get("value")
        if el.get("style"):
            action["style"] = el["style"]
    elif kind in ("static_select", "radio_buttons", "overflow"):
        action["selected_option"] = _choose_option(el, value)
        if el.get("placeholder"):
            action["placeholder"] = el["placeholder"]
    elif kind in ("multi_static_select", "checkboxes"):
        values = value if isinstance(value, list) else ([value] if value is not None else [])
        action["selected_options"] = [_choose_option(el, v) for v in values]
    elif kind == "datepicker":
        action["selected_date"] = value
    elif kind == "timepicker":
        action["selected_time"] = value
    elif kind == "datetimepicker":
        action["selected_date_time"] = value
    elif kind in ("users_select",):
        action["selected_user"] = value
    elif kind in ("plain_text_input", "number_input", "email_text_input", "url_text_input"):
        action["value"] = value
    elif value is not None:
        action["value"] = value
    return action


def _state_entry(el: dict, given: Any) -> dict:
    """Coerce a test's shorthand (or a full dict) into Slack's state value shape."""
    kind = el.get("type", "plain_text_input")
    if isinstance(given, dict) and "type" in given:
        entry = dict(given)
        # Fill option text from the view so the payload matches what Slack sends.
        if entry.get("selected_option"):
            entry["selected_option"] = _choose_option(el, entry["selected_option"]["value"])
        if entry.get("selected_options"):
            entry["selected_options"] = [
                _choose_option(el, o["value"]) for o in entry["selected_options"]
            ]
        return entry
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "rich_text_input"):
        return {"type": kind, "value": given}
    if kind == "number_input":
        return {"type": kind, "value": None if given is None else str(given)}
    if kind == "datetimepicker":
        return Input.datetime(given)
    if kind == "datepicker":
        return Input.date(given)
    if kind == "timepicker":
        return Input.time(given)
    if kind in ("static_select", "radio_buttons"):
        return {
            "type": kind,
            "selected_option": None if given is None else _choose_option(el, given),
        }
    if kind in ("multi_static_select", "checkboxes"):
        values = given if isinstance(given, list) else ([] if given is None else [given])
        return {"type": kind, "selected_options": [_choose_option(el, v) for v in values]}
    if kind == "users_select":
        return {"type": kind, "selected_user": given}
    if kind == "multi_users_select":
        return {"type": kind, "selected_users": list(given or [])}
    return {"type": kind, "value": given}


def build_state(view: dict, values: dict[str, dict[str, Any]] | None) -> dict:
    """``view.state`` as Slack sends it: every input block, filled from ``values``."""
    values = values or {}
    state: dict[str, dict[str, Any]] = {}
    known: set[tuple[str, str]] = set()
    for i, block in enumerate(view.get("blocks") or []):
        if block.get("type") != "input" or not isinstance(block.get("element"), dict):
            continue
        el = block["element"]
        bid = _block_id(block, i)
        aid = el.get("action_id") or "emu_action"
        known.add((bid, aid))
        given = values.get(bid, {}).get(aid)
        initial = None
        if given is None:
            initial = (
                el.get("initial_value")
                or el.get("initial_date_time")
                or el.get("initial_date")
                or el.get("initial_time")
            )
            if el.get("initial_option"):
                initial = el["initial_option"]["value"]
            if el.get("initial_options"):
                # Untouched checkboxes and multi-selects submit their preselected options.
                initial = [o["value"] for o in el["initial_options"]]
        state.setdefault(bid, {})[aid] = _state_entry(el, given if given is not None else initial)
    for bid, by_action in values.items():
        for aid in by_action:
            if (bid, aid) not in known:
                raise LookupError(
                    f"view has no input block {bid!r} with action {aid!r}; inputs: {sorted(known)}"
                )
    return {"values": state}


_TYPED_INPUTS = ("plain_text_input", "email_text_input", "url_text_input")


def typed_values(state: dict | None, actions: list[dict] | None = None) -> Iterator[str]:
    """Free text a person typed, in a view's ``state`` and a payload's ``actions``."""
    for by_action in ((state or {}).get("values") or {}).values():
        for entry in by_action.values():
            if entry.get("type") in _TYPED_INPUTS and isinstance(entry.get("value"), str):
                yield entry["value"]
    for action in actions or []:
        if action.get("type") in _TYPED_INPUTS and isinstance(action.get("value"), str):
            yield action["value"]


class SlackDriver:
    """Plays Slack's side towards the app's ``POST /slack/events``."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        emulator: SlackEmulator,
        *,
        team_id: str | None = None,
        api_app_id: str | None = None,
        http: HttpTransport | None = None,
        path: str = "/slack/events",
        timeout: float = 30.0,
        strict: bool = False,
        quiet: Callable[[], AbstractContextManager[Any]] | None = None,
    ) -> None:
        """``strict``: fail any request during which the emulator recorded a Web API
        call (or a response_url post). Slack waits at most 3 s for the answer
        (docs.slack.dev/tools/bolt-python/concepts/acknowledge) and, with Bolt's
        ``process_before_response``, the answer leaves only when the listener
        returns (slack_bolt/listener/asyncio_runner.py), so a call made while the
        request is in flight delays the ack. ``quiet``: a context manager held
        around each request that keeps the app's own work after earlier acks
        from running meanwhile, so that whatever is recorded came from this
        request's listener."""
        parts = urlsplit(app_url.rstrip("/"))
        self.app_url = app_url.rstrip("/")
        self.events_url = self.app_url + path
        self._scheme = parts.scheme
        self._netloc = parts.netloc
        self._path = (parts.path or "") + path
        self.signing_secret = signing_secret
        self.emulator = emulator
        self.team_id = team_id or emulator.team_id
        self.api_app_id = api_app_id or emulator.app_id
        self.timeout = timeout
        self._http = http
        self._local = threading.local()
        self._conns: list[http.client.HTTPConnection] = []
        self._conns_lock = threading.Lock()
        self._event_seq = itertools.count(1)
        self.sent: list[SentRequest] = []
        self.strict = strict
        self._quiet = quiet

    def __enter__(self) -> SlackDriver:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
        self._local = threading.local()

    # ------------------------------------------------------------------ transport

    def _connection(self) -> tuple[http.client.HTTPConnection, bool]:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn, True
        cls = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
        conn = cls(self._netloc, timeout=self.timeout)
        self._local.conn = conn
        with self._conns_lock:
            self._conns.append(conn)
        return conn, False

    def _drop_connection(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            with self._conns_lock:
                if conn in self._conns:
                    self._conns.remove(conn)
            self._local.conn = None

    def _send(self, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        if self._http is not None:
            return self._http("POST", self.events_url, body, headers)
        for _attempt in range(2):
            conn, reused = self._connection()
            try:
                conn.request("POST", self._path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                resp_headers = {k: v for k, v in resp.getheaders()}
                if resp.will_close:
                    self._drop_connection()
                return resp.status, resp_headers, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self._drop_connection()
                # Only a kept-alive socket the server had already closed is safe to
                # retry: the request never reached the app.
                if not reused:
                    raise
            except BaseException:
                self._drop_connection()
                raise
        raise ConnectionError("unreachable")  # pragma: no cover

    def post(
        self,
        body: bytes | str,
        content_type: str = FORM,
        *,
        timestamp: int | None = None,
        bad_signature: bool = False,
        sign: bool = True,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        headers_override: dict[str, str | None] | None = None,
        kind: str = "raw",
        user_id: str | None = None,
        summary: str = "",
        payload: dict | None = None,
    ) -> DriverResponse:
        """POST ``body`` to the app, signed as Slack would unless told otherwise."""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = signed_headers(
            self.signing_secret,
            body,
            timestamp=timestamp,
            retry_num=retry_num,
            retry_reason=retry_reason,
            content_type=content_type,
        )
        if bad_signature:
            headers["X-Slack-Signature"] = "v0=" + "0" * 64
        if not sign:
            headers.pop("X-Slack-Signature")
        for key, value in (headers_override or {}).items():
            if value is None:
                headers.pop(key, None)
            else:
                headers[key] = value
        with self._quiet() if self._quiet is not None else contextlib.nullcontext():
            before = self.emulator.mark()
            status, resp_headers, data = self._send(body, headers)
            after = self.emulator.mark()
        text = data.decode("utf-8", "replace")
        parsed = None
        if data and "json" in resp_headers.get(
            "Content-Type", resp_headers.get("content-type", "")
        ):
            try:
                parsed = json.loads(data)
            except ValueError:
                parsed = None
        response = DriverResponse(status, data, parsed, text, resp_headers, payload=payload)
        self.sent.append(SentRequest(kind, user_id, summary, payload, response, time.time()))
        if self.strict and after > before:
            calls = ", ".join(
                f"{c.method}({c.args.get('channel') or c.args.get('user') or ''})"
                for c in self.emulator.calls[before:after]
            )
            raise CalledSlackBeforeAck(
                f"{kind} {summary!r}: the app called Slack before answering the request "
                f"(HTTP {status}): {calls}. Ack first and spawn Slack calls on "
                "deps.background."
            )
        return response

    # ------------------------------------------------------------------- people

    def _user(self, user_id: str) -> dict:
        user = self.emulator.user(user_id)
        if user is None:
            raise LookupError(f"unknown user {user_id!r}; add it with emulator.add_user()")
        return user

    def _user_ref(self, user_id: str) -> dict:
        user = self._user(user_id)
        return {
            "id": user_id,
            "username": user["name"],
            "name": user["name"],
            "team_id": self.team_id,
        }

    def _team(self) -> dict:
        return {"id": self.team_id, "domain": self.emulator.team_domain}

    def _channel_name(self, channel: str) -> str:
        if channel.startswith("D"):
            return "directmessage"
        info = self.emulator.channel_info(channel)
        return info["name"] if info else channel

    # ------------------------------------------------------------ slash commands

    def slash(
        self,
        user_id: str,
        text: str = "",
        *,
        command: str = "/mentor",
        channel: str | None = None,
        **post_kwargs: Any,
    ) -> DriverResponse:
        user = self._user(user_id)
        channel = channel or self.emulator.dm_channel(user_id)
        response_url = self.emulator.new_response_url(channel=channel, user=user_id)
        trigger_id = self.emulator.issue_trigger(user_id)
        form = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.emulator.team_domain,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user_id,
            "user_name": user["name"],
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": trigger_id,
        }
        self.emulator.note_typed(user_id, text, kind="slash")
        resp = self.post(
            urlencode(form),
            FORM,
            kind="slash",
            user_id=user_id,
            summary=f"{command} {text}".strip(),
            payload=form,
            **post_kwargs,
        )
        resp.response_url = response_url
        resp.trigger_id = trigger_id
        if resp.ok and resp.json:
            self.emulator.check_command_response(user_id, channel, resp.json)
        return resp

    def socket_slash(self, user_id: str, text: str = "", *, command: str = "/mentor") -> dict:
        """The same slash command, delivered over Socket Mode; returns the app's ack."""
        user = self._user(user_id)
        channel = self.emulator.dm_channel(user_id)
        payload = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "team_domain": self.emulator.team_domain,
            "channel_id": channel,
            "channel_name": self._channel_name(channel),
            "user_id": user_id,
            "user_name": user["name"],
            "command": command,
            "text": text,
            "api_app_id": self.api_app_id,
            "is_enterprise_install": "false",
            "response_url": self.emulator.new_response_url(channel=channel, user=user_id),
            "trigger_id": self.emulator.issue_trigger(user_id),
        }
        self.emulator.note_typed(user_id, text, kind="slash")
        ack = self.emulator.socket_send("slash_commands", payload)
        self.emulator.check_command_response(user_id, channel, ack.get("payload"))
        return ack

    # -------------------------------------------------------------------- events

    def event(
        self,
        event: dict,
        *,
        event_id: str | None = None,
        event_time: int | None = None,
        retry_num: int | None = None,
        retry_reason: str | None = None,
        **post_kwargs: Any,
    ) -> DriverResponse:
        now = time.time()
        event = dict(event)
        event.setdefault("event_ts", f"{now:.6f}")
        if isinstance(event.get("user"), str) and isinstance(event.get("text"), str):
            self.emulator.note_typed(event["user"], event["text"])  # a message someone wrote
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._event_seq):06d}{secrets.token_hex(3).upper()}",
            "event_time": int(now) if event_time is None else event_time,
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self.team_id,
                    "user_id": self.emulator.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-" + secrets.token_hex(16),
        }
        resp = self.post(
            json.dumps(envelope),
            JSON,
            retry_num=retry_num,
            retry_reason=retry_reason,
            kind="event",
            user_id=event.get("user"),
            summary=str(event.get("type")),
            payload=envelope,
            **post_kwargs,
        )
        return resp

    def app_home_opened(self, user_id: str, *, tab: str = "home", **kwargs: Any) -> DriverResponse:
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": self.emulator.dm_channel(user_id),
            "tab": tab,
        }
        home = self.emulator.home_view(user_id)
        if home is not None:
            event["view"] = home
        return self.event(event, **kwargs)

    def url_verification(self, challenge: str = "emulated-challenge") -> DriverResponse:
        body = {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}
        return self.post(json.dumps(body), JSON, kind="url_verification", payload=body)

    # ------------------------------------------------------- app lifecycle events

    def _app_event(self, event: dict, **post_kwargs: Any) -> DriverResponse:
        # The documented envelope of these app events: no ``authorizations`` (the
        # app holds none any more) and no ``event_ts`` in the inner event.
        envelope = {
            "token": VERIFICATION_TOKEN,
            "team_id": self.team_id,
            "api_app_id": self.api_app_id,
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{next(self._event_seq):06d}{secrets.token_hex(3).upper()}",
            "event_time": int(time.time()),
        }
        return self.post(
            json.dumps(envelope),
            JSON,
            kind="event",
            summary=str(event["type"]),
            payload=envelope,
            **post_kwargs,
        )

    def app_uninstalled(self, *, uninstall: bool = True, **post_kwargs: Any) -> DriverResponse:
        """Slack's ``app_uninstalled`` event, after the emulator has uninstalled the app
        (its bot tokens then answer ``account_inactive``) unless ``uninstall=False``.
        Shape: https://api.slack.com/events/app_uninstalled ("event": {"type":
        "app_uninstalled"}; "The team_id indicates which workspace uninstalled")."""
        if uninstall:
            self.emulator.uninstall(self.team_id)
        return self._app_event({"type": "app_uninstalled"}, **post_kwargs)

    def tokens_revoked(
        self,
        *,
        bot: list[str] | None = None,
        oauth: list[str] | None = None,
        revoke: bool = True,
        **post_kwargs: Any,
    ) -> DriverResponse:
        """Slack's ``tokens_revoked`` event: ``{"type": "tokens_revoked", "tokens":
        {"oauth": [user ids], "bot": [bot user ids]}}`` -- "Each key contains an array of
        user IDs, not the actual token strings" (docs.slack.dev/reference/events/
        tokens_revoked). ``bot`` defaults to the bot user. Unless ``revoke=False`` the
        emulator first revokes the workspace's bot tokens (they answer ``token_revoked``)."""
        bots = list(bot if bot is not None else [self.emulator.bot_user_id])
        if revoke and bots:
            self.emulator.revoke_bot_tokens(self.team_id)
        tokens = {"oauth": list(oauth or []), "bot": bots}
        return self._app_event({"type": "tokens_revoked", "tokens": tokens}, **post_kwargs)

    # ------------------------------------------------------------- interactivity

    def _note_typed(self, user_id: str, payload: dict) -> None:
        """Tell the emulator what the person typed, for its mrkdwn taint check."""
        state = payload.get("state") or (payload.get("view") or {}).get("state")
        for text in typed_values(state, payload.get("actions")):
            self.emulator.note_typed(user_id, text)

    def _interactive(self, kind: str, user_id: str, payload: dict, summary: str) -> DriverResponse:
        self._note_typed(user_id, payload)
        body = urlencode({"payload": json.dumps(payload)})
        return self.post(body, FORM, kind=kind, user_id=user_id, summary=summary, payload=payload)

    def click(
        self,
        user_id: str,
        message: dict,
        action_id: str,
        *,
        value: Any = None,
        channel: str | None = None,
        block_id: str | None = None,
    ) -> DriverResponse:
        """Press/choose ``action_id`` in ``message`` (as stored in the emulator).

        Shape of docs.slack.dev/reference/interaction-payloads/block_actions-payload
        for a message surface: ``container`` {type "message", message_ts,
        channel_id, is_ephemeral}, ``channel``, a ``response_url`` ("a short-lived
        webhook that can be used to send messages in response to interactions"),
        a fresh ``trigger_id``, and the ``message`` itself unless it is ephemeral.
        """
        ts = message["ts"]
        ephemeral = self.emulator.ephemeral(ts) is not None
        channel = channel or message.get("channel") or self.emulator.channel_of(ts)
        if channel is None:
            raise LookupError(f"message {ts} is not in any channel; pass channel=")
        block, el = find_action(message.get("blocks") or [], action_id, block_id=block_id)
        response_url = self.emulator.new_response_url(channel=channel, user=user_id, message_ts=ts)
        trigger_id = self.emulator.issue_trigger(user_id)
        clean = {k: v for k, v in message.items() if k not in ("channel", "user_id")}
        if ephemeral:
            clean.pop("user", None)
        payload: dict[str, Any] = {
            "type": "block_actions",
            "user": self._user_ref(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": {
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": ephemeral,
            },
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "channel": {"id": channel, "name": self._channel_name(channel)},
            "response_url": response_url,
            "actions": [_action_for(block, el, value)],
            "state": {"values": {}},
        }
        if not ephemeral:
            payload["message"] = clean
        resp = self._interactive("block_actions", user_id, payload, f"click {action_id}")
        resp.response_url = response_url
        resp.trigger_id = trigger_id
        return resp

    def click_in_view(
        self,
        user_id: str,
        view: dict,
        action_id: str,
        *,
        value: Any = None,
        block_id: str | None = None,
        values: dict[str, dict[str, Any]] | None = None,
    ) -> DriverResponse:
        """Press/choose ``action_id`` in a modal or Home tab view.

        A view surface sends ``container`` {type "view", view_id} and the ``view``
        (the source surface, "the full state of the message, or the view",
        docs.slack.dev/reference/interaction-payloads/block_actions-payload), and
        no ``response_url`` and no ``channel``: a modal or Home is not in any
        conversation (slackapi/bolt-js#332: in modals "the payload doesn't have any
        information about a channel"; Bolt's ``respond`` is then None,
        slack_bolt/request/internals.py). Answers go through views.update with
        ``view.id`` (docs.slack.dev/tools/bolt-python/concepts/updating-pushing-views),
        views.publish, or a DM.
        """
        block, el = find_action(view.get("blocks") or [], action_id, block_id=block_id)
        trigger_id = self.emulator.issue_trigger(user_id)
        sent_view = {**view, "state": build_state(view, values)}
        payload = {
            "type": "block_actions",
            "user": self._user_ref(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "container": {"type": "view", "view_id": view.get("id")},
            "trigger_id": trigger_id,
            "team": self._team(),
            "enterprise": None,
            "is_enterprise_install": False,
            "view": sent_view,
            "actions": [_action_for(block, el, value)],
            "state": sent_view["state"],
        }
        resp = self._interactive("block_actions", user_id, payload, f"click {action_id} in view")
        resp.trigger_id = trigger_id
        return resp

    def submit_view(
        self,
        user_id: str,
        view: dict,
        values: dict[str, dict[str, Any]] | None = None,
    ) -> DriverResponse:
        """Submit a modal. ``values``: block_id -> action_id -> shorthand or ``Input.*``.

        A view_submission has ``view`` and ``response_urls: []`` and no
        ``response_url`` (docs.slack.dev/reference/interaction-payloads/
        view-interactions-payload; ``response_urls`` fill only for inputs with
        ``response_url_enabled``, and Bolt reads ``response_urls[0]`` then,
        slack_bolt/request/internals.py). The app answers in the HTTP response
        (``response_action``) or with views.update.

        The emulator's modal stack follows the app's answer as Slack's would:
        closed on an empty 200, changed on ``update``/``push``/``clear``, kept
        on ``errors``.
        """
        trigger_id = self.emulator.issue_trigger(user_id)
        sent_view = {**view, "state": build_state(view, values)}
        payload = {
            "type": "view_submission",
            "team": self._team(),
            "user": self._user_ref(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "trigger_id": trigger_id,
            "view": sent_view,
            "response_urls": [],
            "enterprise": None,
            "is_enterprise_install": False,
        }
        callback = view.get("callback_id") or view.get("id")
        resp = self._interactive("view_submission", user_id, payload, f"submit {callback}")
        resp.trigger_id = trigger_id
        if resp.ok:
            self._follow_response_action(user_id, view, resp)
        return resp

    def _follow_response_action(self, user_id: str, view: dict, resp: DriverResponse) -> None:
        """Slack's handling of the answer to a view_submission (docs.slack.dev/surfaces/
        modals, "Updating views on submission" and "Displaying errors in views"): an
        answer it cannot use is refused, as Slack shows the person an error instead."""
        answer = resp.json or {}
        action = answer.get("response_action")
        if action is None:
            self.emulator.close_view(user_id, view.get("id"))
        elif action == "clear":
            self.emulator.close_view(user_id, clear=True)
        elif action == "errors":
            _check_errors_answer(view, answer.get("errors"))
        elif action not in ("update", "push"):
            raise ValueError(f"Slack knows no response_action {action!r}")
        elif not isinstance(answer.get("view"), dict):
            raise ValueError(f"response_action {action!r} without a view")
        elif action == "update" and self.emulator.open_views(user_id):
            # (a forged submission from someone with no modal open has nothing to update)
            self.emulator.replace_top_view(user_id, answer["view"])
        elif action == "push":
            self.emulator.push_view(user_id, answer["view"])

    def close_view(self, user_id: str, view: dict) -> DriverResponse | None:
        """Dismiss a modal; Slack tells the app only when ``notify_on_close`` is set."""
        self.emulator.close_view(user_id, view.get("id"), clear=bool(view.get("clear_on_close")))
        if not view.get("notify_on_close"):
            return None
        payload = {
            "type": "view_closed",
            "team": self._team(),
            "user": self._user_ref(user_id),
            "api_app_id": self.api_app_id,
            "token": VERIFICATION_TOKEN,
            "view": {**view, "state": build_state(view, None)},
            "is_cleared": bool(view.get("clear_on_close")),
            "enterprise": None,
            "is_enterprise_install": False,
        }
        callback = view.get("callback_id") or view.get("id")
        return self._interactive("view_closed", user_id, payload, f"close {callback}")

    # ------------------------------------------------------------------- lookups

    def last_message_to(self, user_id: str) -> dict | None:
        """The latest message in ``user_id``'s DM with the bot, as it is now."""
        msgs = self.emulator.messages_in(user_id)
        return msgs[-1] if msgs else None

    def last_view_opened(self, user_id: str) -> dict | None:
        """The latest modal opened, pushed or updated for ``user_id`` (current state)."""
        for call in reversed(self.emulator.calls):
            if call.method not in ("views.open", "views.push", "views.update"):
                continue
            view = call.response.get("view") if call.response.get("ok") else None
            if view and self.emulator.view_user(view["id"]) == user_id:
                return self.emulator.view(view["id"]) or view
        return None


__all__ = [
    "CalledSlackBeforeAck",
    "DriverResponse",
    "Input",
    "SentRequest",
    "SlackDriver",
    "build_state",
    "find_action",
    "iter_elements",
    "typed_values",
]


def _check_errors_answer(view: dict, errors: Any) -> None:
    """``response_action: errors`` names input blocks of the submitted view, each with
    a message (docs.slack.dev/surfaces/modals, "Displaying errors in views": "errors
    ... an object keyed by the block_id of the input blocks"). Slack cannot show an
    error against a block the view does not have: refused."""
    if not isinstance(errors, dict) or not errors:
        raise ValueError("response_action 'errors' needs an object of block_id -> message")
    inputs = {
        block.get("block_id") for block in view.get("blocks", []) if block.get("type") == "input"
    }
    for block_id, message in errors.items():
        if block_id not in inputs:
            raise ValueError(
                f"response_action 'errors' names {block_id!r}, not an input block of the view"
            )
        if not isinstance(message, str) or not message:
            raise ValueError(f"response_action 'errors' gives {block_id!r} no message")
