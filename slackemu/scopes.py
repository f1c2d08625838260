"""OAuth scopes and token errors, as Slack's Web API checks them.

Every rule here is taken from a public reference, named beside it:

* ``METHOD_SCOPES``: each method's bot-token scopes, from slack-ruby/slack-api-ref
  (``docs.slack.dev/methods/<method>.json``, field ``scope.bot``; commit
  f4837c0cb6dba1b1122ce66a5b69195ce47213f8), which mirrors the "Scopes" fact of
  each method's page on docs.slack.dev. An empty tuple: no scope is needed.
* Where a method lists several scopes, Slack asks for the one that fits the
  conversation's type (``im:*`` for a DM, ``mpim:*`` for a group DM, ...):
  Slack answered ``"needed": "im:read"`` for a DM lookup with only
  ``channels:read,groups:read`` granted (getsentry/sentry#18317), and
  ``conversations.info`` "takes one of channels:read / groups:read / im:read /
  mpim:read depending on the conversation type" (agentconnect-md/agentconnect#1660).
* The refusal: ``{"ok": false, "error": "missing_scope", "needed": "<scope>",
  "provided": "<the token's scopes, comma-separated>"}``, as Slack answers it
  (responses quoted in apache/superset#15904, elementary-data/elementary#705,
  DataDog/slapr#47; the ``needed``/``provided`` fields are in the Node SDK's
  response types, docs.slack.dev/tools/node-slack-sdk/reference/web-api).
* Token errors (``methods/auth/auth.test.json`` in slack-api-ref, the same on
  every method): ``not_authed`` "No authentication token provided.";
  ``invalid_auth`` "Method was called with invalid credentials";
  ``account_inactive`` "Authentication token is for a deleted user or workspace
  when using a bot token." (what a bot token answers once the app is removed
  from the workspace: slackapi/bolt-python#1029, slack-go/slack#66);
  ``token_revoked`` "Authentication token is for a deleted user or workspace or
  the app has been removed"; ``token_expired`` "Authentication token has
  expired." (a rotating token past its ``expires_in``).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

# method -> the bot scopes any one of which lets the call through.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "auth.test": (),
    "team.info": ("team:read",),
    "users.info": ("users:read",),
    "users.list": ("users:read",),
    "conversations.open": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "conversations.info": ("channels:read", "groups:read", "im:read", "mpim:read"),
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "views.open": (),
    "views.push": (),
    "views.update": (),
    "views.publish": (),
    "files.getUploadURLExternal": ("files:write",),
    "files.completeUploadExternal": ("files:write",),
    "files.delete": ("files:write",),
    # Not called with a bot token: oauth.v2.access authenticates with the client
    # ID and secret, apps.connections.open with an app-level token
    # (connections:write, checked by the token's xapp- type).
    "oauth.v2.access": (),
    "apps.connections.open": (),
}

# A conversation's type -> the scope of each family Slack asks for with it.
_WRITE_BY_KIND = {"im": "im:write", "mpim": "mpim:write", "public": "channels:manage"}
_READ_BY_KIND = {"im": "im:read", "mpim": "mpim:read", "public": "channels:read"}

# The emulator's own token errors, each a dead token's answer.
TOKEN_REVOKED = "token_revoked"
ACCOUNT_INACTIVE = "account_inactive"
TOKEN_EXPIRED = "token_expired"

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"


@lru_cache(maxsize=4)
def manifest_bot_scopes(path: Path = MANIFEST) -> tuple[str, ...] | None:
    """``oauth_config.scopes.bot`` of the app's manifest.yml: what an install grants.

    None when the manifest is not beside the package (an installed wheel): the
    emulator then grants every scope and checks none.
    """
    try:
        import yaml

        manifest = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, ImportError):
        return None
    return tuple(manifest["oauth_config"]["scopes"]["bot"])


def needed_scopes(method: str, conversation_kind: str | None = None) -> tuple[str, ...]:
    """The scopes Slack accepts for ``method`` on a conversation of ``conversation_kind``
    (``im``, ``mpim``, ``public``; None when the call names no conversation)."""
    scopes = METHOD_SCOPES.get(method, ())
    if conversation_kind is None:
        return scopes
    if method == "conversations.open":
        return (_WRITE_BY_KIND[conversation_kind],)
    if method == "conversations.info":
        return (_READ_BY_KIND[conversation_kind],)
    return scopes


def missing_scope(needed: Iterable[str], provided: Iterable[str]) -> dict[str, object] | None:
    """Slack's refusal body when none of ``needed`` is among ``provided``, else None."""
    needed = tuple(needed)
    provided = tuple(provided)
    if not needed or set(needed) & set(provided):
        return None
    return {
        "ok": False,
        "error": "missing_scope",
        "needed": ",".join(needed),
        "provided": ",".join(provided),
    }
