"""Posting scheduled messages to Slack, with Slack's failures sorted by what to do next."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.scheduling.transport import PooledWebClient, PooledWebhookClient, connection_pool

if TYPE_CHECKING:
    from bot.metrics import Metrics
    from bot.scheduling.pacing import Gate

# Slack refuses these for one person only; the pass pauses that person and goes on.
PERSON_ERRORS = frozenset(
    {
        "user_not_found",
        "user_disabled",
        "cannot_dm_bot",
        "messages_tab_disabled",
        "user_not_visible",
        "restricted_action",
        "channel_not_found",
        "is_archived",
        "not_in_channel",
        # conversations.open: these people cannot share a group DM (slack-api-ref's
        # errors), because of a member: the kickoff tells both, as for the others here.
        "invalid_user_combination",
    }
)
# The workspace's bot token is dead, so nothing more can go to anyone there: the
# pass pauses the whole workspace until a reinstall or a new token. Slack's words
# (slack-api-ref, every method's errors): invalid_auth "Method was called with
# invalid credentials"; not_authed "No authentication token provided";
# account_inactive "Authentication token is for a deleted user or workspace when
# using a bot token" (the app was removed: slackapi/bolt-python#1029);
# token_revoked "... or the app has been removed".
WORKSPACE_ERRORS = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked"})
# The message, or the call, is wrong in a way that sending it again cannot change: the
# row fails at once (an operator retries it with `mentor-bot outbox retry` once the
# cause is fixed, e.g. a scope added to the install) instead of six attempts over
# hours. From slack-api-ref's error lists: chat.postMessage (missing_scope, no_permission,
# ekm_access_denied "Administrators have suspended the ability to post a message",
# the restricted_action_* channel kinds, the malformed-request errors), chat.update
# (markdown_text_conflict, invalid_blocks_format), views.update/publish (view_too_large:
# "greater than 250kb"). Transient ones (fatal_error, request_timeout,
# team_added_to_org, org_login_required) are retried like any unknown error.
MESSAGE_ERRORS = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "invalid_arguments",
        "invalid_arg_name",
        "invalid_charset",
        "invalid_form_data",
        "invalid_post_type",
        "missing_post_type",
        "markdown_text_conflict",
        "msg_too_long",
        "msg_blocks_too_long",
        "no_text",
        "too_many_attachments",
        "view_too_large",
        "missing_scope",
        "no_permission",
        "not_allowed_token_type",
        "as_user_not_supported",
        "ekm_access_denied",
        "restricted_action_read_only_channel",
        "restricted_action_thread_only_channel",
        "restricted_action_non_threadable_channel",
    }
)


class DeliveryError(Exception):
    """``outcome`` is "retry", "person", "workspace" or "permanent"; ``retry_after`` in
    seconds if Slack said; ``token`` the token Slack refused, for a "workspace" error."""

    def __init__(
        self,
        outcome: str,
        error: str,
        retry_after: float | None = None,
        token: str | None = None,
    ) -> None:
        super().__init__(error)
        self.outcome = outcome
        self.error = error
        self.retry_after = retry_after
        self.token = token


@dataclass(frozen=True)
class Posted:
    channel: str
    ts: str


TokenLookup = Callable[[str], str | None]


class SlackSender:
    """Holds one WebClient per workspace; safe to use from several threads."""

    def __init__(
        self,
        *,
        api_url: str,
        token_for_team: TokenLookup,
        retries: int = 2,
        metrics: Metrics | None = None,
    ) -> None:
        self._api_url = api_url
        # Counts Slack's 429s per workspace for /metrics when given.
        self._metrics = metrics
        self._token_for_team = token_for_team
        self._retries = retries
        self._clients: dict[str, WebClient] = {}
        self._lock = threading.Lock()
        # Set by the engine (bot.scheduling.pacing): paces every call and waits out a
        # 429 itself, where a stopping process can cut the wait short.
        self.gate: Gate | None = None
        # Every client of this sender shares one pool of kept-alive connections.
        self._pool = connection_pool()

    def current_token(self, team_id: str) -> str | None:
        """The workspace's bot token as stored now (refreshed first if it rotates)."""
        return self._token_for_team(team_id)

    def forget(self, team_id: str | None = None) -> None:
        """Drop cached clients (one workspace's, or all), so the next call reads the
        token again: a client never outlives its token."""
        with self._lock:
            if team_id is None:
                self._clients.clear()
            else:
                self._clients.pop(team_id, None)

    def client(self, team_id: str) -> WebClient:
        with self._lock:
            client = self._clients.get(team_id)
            if client is None:
                token = self._token_for_team(team_id)
                if not token:
                    # Uninstalled, or never installed: nothing can be sent there.
                    raise DeliveryError("workspace", "no_installation_for_team")
                rate_retries = 0 if self.gate is not None else self._retries
                client = PooledWebClient(
                    pool=self._pool,
                    token=token,
                    base_url=self._api_url,
                    retry_handlers=[
                        # Waits Retry-After in this worker thread; other threads go on.
                        # With a gate, the gate waits instead (the handler only counts).
                        self._metrics.counting_handler(team_id, max_retry_count=rate_retries)
                        if self._metrics is not None
                        else RateLimitErrorRetryHandler(max_retry_count=rate_retries),
                        ServerErrorRetryHandler(max_retry_count=self._retries),
                        ConnectionErrorRetryHandler(max_retry_count=self._retries),
                    ],
                )
                self._clients[team_id] = client
            return client

    def interval(self, method: str) -> float:
        """Seconds between two calls of ``method`` (Slack's name) at the pace kept."""
        return 0.0 if self.gate is None else self.gate.interval(method)

    def ready_in(self, team_id: str, method: str) -> float:
        """Seconds a call of ``method`` (Slack's name) would wait for its slot now."""
        return 0.0 if self.gate is None else self.gate.ready_in(team_id, method)

    def post(
        self, team_id: str, channel: str, *, text: str, blocks: list[dict[str, Any]]
    ) -> Posted:
        response = self._call(
            team_id, "chat_postMessage", channel=channel, text=text, blocks=blocks
        )
        return Posted(channel=response["channel"], ts=response["ts"])

    def delete(self, team_id: str, target: dict[str, Any]) -> None:
        """Delete one of the bot's own messages (``chat.delete``, scope chat:write) or
        files (``files.delete``, scope files:write)."""
        if target.get("file"):
            self._call(team_id, "files_delete", file=target["file"])
        else:
            self._call(team_id, "chat_delete", channel=target["channel"], ts=target["ts"])

    def user_tz(self, team_id: str, user_id: str) -> str | None:
        return self.user_info(team_id, user_id).get("tz")

    def user_info(self, team_id: str, user_id: str) -> dict[str, Any]:
        """``users.info``'s user object (scope users:read)."""
        return dict(self._call(team_id, "users_info", user=user_id)["user"])

    def open_conversation(self, team_id: str, users: list[str]) -> str:
        """The DM or group DM with these people (``conversations.open``; scopes im:write,
        mpim:write): the same channel every time it is asked for."""
        response = self._call(team_id, "conversations_open", users=",".join(users))
        return str(response["channel"]["id"])

    def update(
        self, team_id: str, channel: str, ts: str, *, text: str, blocks: list[dict[str, Any]]
    ) -> Posted:
        """Replace one of the bot's messages in place (``chat.update``)."""
        response = self._call(
            team_id, "chat_update", channel=channel, ts=ts, text=text, blocks=blocks
        )
        return Posted(channel=response.get("channel") or channel, ts=response.get("ts") or ts)

    def upload(
        self,
        team_id: str,
        channel: str,
        *,
        content: bytes,
        filename: str,
        title: str,
        comment: str | None = None,
    ) -> list[str]:
        """Share a file into a conversation (``files.uploadV2``); the ids of the files."""
        extra = {"initial_comment": comment} if comment else {}
        response = self._call(
            team_id,
            "files_upload_v2",
            channel=channel,
            content=content,
            filename=filename,
            title=title,
            **extra,
        )
        files = response.get("files") or [response.get("file") or {}]
        return [str(f["id"]) for f in files if isinstance(f, dict) and f.get("id")]

    def upload_files(
        self, team_id: str, channel: str, files: list[tuple[bytes, str, str]]
    ) -> list[str]:
        """Share several files into a conversation as one message (``files.uploadV2``:
        ``files.getUploadURLExternal`` and an upload per file, then one
        ``files.completeUploadExternal``, the only call anyone sees); (content, filename,
        title) each; the ids of the files."""
        response = self._call(
            team_id,
            "files_upload_v2",
            channel=channel,
            file_uploads=[
                {"content": content, "filename": filename, "title": title}
                for content, filename, title in files
            ],
        )
        shared = response.get("files") or [response.get("file") or {}]
        return [str(f["id"]) for f in shared if isinstance(f, dict) and f.get("id")]

    def update_view(self, team_id: str, view_id: str, view: dict[str, Any]) -> None:
        """``views.update`` of a modal still open, by its id."""
        self._call(team_id, "views_update", view_id=view_id, view=view)

    def publish_home(self, team_id: str, user_id: str, view: dict[str, Any]) -> None:
        """``views.publish`` of the person's App Home."""
        self._call(team_id, "views_publish", user_id=user_id, view=view)

    def respond(self, url: str, body: dict[str, Any]) -> None:
        """POST an answer to a request's response_url (no token: the URL is the key).
        Slack keeps it 30 minutes for 5 answers; afterwards it answers 404."""
        webhook = PooledWebhookClient(
            url,
            pool=self._pool,
            retry_handlers=[
                RateLimitErrorRetryHandler(max_retry_count=self._retries),
                ServerErrorRetryHandler(max_retry_count=self._retries),
                ConnectionErrorRetryHandler(max_retry_count=self._retries),
            ],
        )
        try:
            response = webhook.send_dict(body)
        except (OSError, TimeoutError) as error:
            raise DeliveryError("retry", f"connection: {error}"[:200]) from None
        if response.status_code == 429 or response.status_code >= 500:
            raise DeliveryError("retry", f"response_url: http_{response.status_code}")
        if response.status_code != 200:
            # expired_url, used_url, no_active_hooks (404), or a refused body (400).
            raise DeliveryError("permanent", f"response_url: {_webhook_error(response.body)}")
        if self.gate is not None:
            self.gate.call_made()  # the row has said something: it is finished, not handed back

    def _call(self, team_id: str, method: str, **kwargs: Any) -> Any:
        client = self.client(team_id)
        name = method.replace("_", ".", 1)  # chat_postMessage -> chat.postMessage
        waited = 0.0
        while True:
            try:
                if self.gate is not None:
                    self.gate.before(team_id, name, kwargs.get("channel"))
                response = getattr(client, method)(**kwargs)
                if self.gate is not None:
                    self.gate.call_made()
                return response
            except SlackApiError as error:
                failure = classify(error)
                if failure.error == "ratelimited" and self.gate is not None:
                    pause = self.gate.after_429(team_id, name, failure.retry_after, waited)
                    if pause is not None:
                        waited += pause
                        continue  # the same call again, inside the pass
                if failure.outcome == "workspace" or failure.error == "token_expired":
                    failure.token = client.token
                    self.forget(team_id)
                raise failure from None
            except (OSError, TimeoutError) as error:
                raise DeliveryError("retry", f"connection: {error}"[:200]) from None


def classify(error: SlackApiError) -> DeliveryError:
    response = error.response
    status = getattr(response, "status_code", 200)
    code = response.get("error") if hasattr(response, "get") else None
    if status == 429 or code == "ratelimited":
        retry_after = None
        headers = getattr(response, "headers", {}) or {}
        value = headers.get("Retry-After") or headers.get("retry-after")
        if isinstance(value, list):
            value = value[0]
        if value:
            try:
                retry_after = float(value)
            except ValueError:
                retry_after = None
        return DeliveryError("retry", "ratelimited", retry_after)
    if status >= 500:
        return DeliveryError("retry", f"http_{status}")
    if code in WORKSPACE_ERRORS:
        return DeliveryError("workspace", code)
    if code in PERSON_ERRORS:
        return DeliveryError("person", code)
    if code == "missing_scope" and isinstance(needed := response.get("needed"), str):
        # Which scope: what an operator adds to the install (`outbox list` shows it).
        return DeliveryError("permanent", f"missing_scope (needed: {needed[:80]})")
    if code in MESSAGE_ERRORS:
        return DeliveryError("permanent", code)
    return DeliveryError("retry", code or f"http_{status}")


def _webhook_error(body: str) -> str:
    """The ``error`` of a response_url's JSON answer, or its first words."""
    try:
        parsed = json.loads(body or "")
    except ValueError:
        return (body or "refused")[:60]
    return str(parsed.get("error") or "refused") if isinstance(parsed, dict) else "refused"
