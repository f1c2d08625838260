"""Typed text that reaches someone else as live mrkdwn.

Slack treats ``&``, ``<`` and ``>`` as control characters in mrkdwn: text an
app shows must have them escaped as ``&amp;``, ``&lt;`` and ``&gt;`` unless the
app means the control sequence ("Escaping text" in "Formatting text for app
surfaces", https://api.slack.com/reference/surfaces/formatting#escaping, now
https://docs.slack.dev/messaging/formatting-message-text). When an
app forwards what one person typed into a message or view someone else sees,
an unescaped ``<!here>``, ``<@U…>``, ``<#C…>``, ``<!subteam^…>`` or
``<https://…|label>`` becomes a real ping or a disguised link in the app's name.

The driver records every piece of free text a person types (``note``); the
server scans each outgoing message, view and response-URL body (``check``):

* only mrkdwn-rendered strings count: a message's top-level ``text`` (mrkdwn
  unless ``mrkdwn: false``), ``mrkdwn`` text objects anywhere in blocks (and
  ``markdown`` blocks); ``plain_text`` objects show ``<`` literally;
* a live control sequence that occurs verbatim in text someone typed is a
  violation when anyone other than that typist can see the surface (a DM or an
  ephemeral to the typist alone, or the typist's own modal, is fine);
* a user mention typed as a slash command's argument (``/mentor start @alex``
  arrives as ``<@U123|alex>``) is an argument Slack resolved, not content, so
  it does not taint: the app naming that person is what was asked for.

A limit of the rule: a control sequence the app builds itself that happens to
equal one someone typed earlier cannot be told apart from a copy.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any

# The control sequences Slack turns into pings, mentions and links.
LIVE_TOKEN = re.compile(
    r"<(?:"
    r"!(?:here|channel|everyone)(?:\|[^<>]*)?"
    r"|!subteam\^[^<>]*"
    r"|[@#][A-Z][A-Z0-9]*(?:\|[^<>]*)?"
    r"|(?:https?|mailto):[^<>]*"
    r")>"
)


def live_tokens(text: str) -> list[str]:
    return LIVE_TOKEN.findall(text) if isinstance(text, str) else []


def mrkdwn_strings(payload: Any, *, message: bool) -> Iterator[tuple[str, str]]:
    """(JSON pointer, text) of every string Slack renders as mrkdwn in ``payload``."""
    if message and isinstance(payload, dict):
        text = payload.get("text")
        if isinstance(text, str) and str(payload.get("mrkdwn", True)).lower() not in (
            "false",
            "0",
        ):
            yield "/text", text
        for key in ("blocks", "attachments"):
            if key in payload:
                yield from _walk(payload[key], f"/{key}")
    else:
        yield from _walk(payload, "")


def _walk(node: Any, pointer: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in ("mrkdwn", "markdown") and isinstance(node.get("text"), str):
            yield f"{pointer}/text", node["text"]
        for key, value in node.items():
            if isinstance(value, (dict, list)):
                yield from _walk(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk(value, f"{pointer}/{i}")


class TaintTracker:
    """What people typed, and where it later showed up live."""

    def __init__(self) -> None:
        self._typists: dict[str, set[str]] = {}  # live token -> who typed it
        self.violations: list[str] = []

    def note(self, user_id: str, text: Any, *, kind: str = "input") -> None:
        """``user_id`` typed ``text``; ``kind`` "slash" for a slash command's text."""
        for token in live_tokens(text):
            if kind == "slash" and token.startswith("<@"):
                continue
            self._typists.setdefault(token, set()).add(user_id)

    def check(
        self, surface: str, viewers: Collection[str], payload: Any, *, message: bool
    ) -> list[str]:
        """Record (and return) violations in ``payload``, seen by ``viewers``."""
        if not self._typists:
            return []
        found: list[str] = []
        for pointer, text in mrkdwn_strings(payload, message=message):
            for token in live_tokens(text):
                for typist in sorted(self._typists.get(token, ())):
                    others = sorted(set(viewers) - {typist})
                    if others:
                        found.append(
                            f"{surface}: {token!r} typed by {typist} is live mrkdwn at "
                            f"{pointer}, seen by {', '.join(others)}"
                        )
        self.violations.extend(found)
        return found


__all__ = ["LIVE_TOKEN", "TaintTracker", "live_tokens", "mrkdwn_strings"]
