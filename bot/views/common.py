"""Small formatting helpers shared by the builders."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

from bot.domain.forgotten import TOMBSTONE_PREFIX

SECTION_LIMIT = 3000
# Text a message's blocks may carry in all, well under what chat.postMessage takes
# before it answers msg_blocks_too_long (undocumented; about 11,000–13,000 characters,
# slackapi/bolt-js#2509 and #2867). What grows with people's use is cut to fit it.
MESSAGE_TEXT_BUDGET = 8_000


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


# A person someone mentioned in a command's text, stored by ID (``plain_text``): shaped
# like Slack's IDs (eight or more, with a digit), so a typed "@URGENT" stays words; and
# one of those since forgotten (their ID replaced by a tombstone).
_TYPED_MENTION = re.compile(r"(?<![\w@])@([UW](?=[A-Z0-9]*[0-9])[A-Z0-9]{7,})\b")
_TYPED_FORGOTTEN = re.compile(rf"(?<![\w@])@{re.escape(TOMBSTONE_PREFIX)}\w+")


def typed_mentions(escaped: str) -> str:
    """Escaped typed text with the people it mentioned shown as Slack shows a mention,
    by their current name (the person typed them as mentions: Slack sent them as
    ``<@U…|name>``), and anyone since forgotten as "someone who left"."""
    return _TYPED_MENTION.sub(r"<@\1>", _TYPED_FORGOTTEN.sub("someone who left", escaped))


def escape_mrkdwn(text: str, limit: int | None = None) -> str:
    """What a person typed, for showing to anyone else in mrkdwn: literally, never live.

    Slack reads ``&``, ``<`` and ``>`` as control characters in mrkdwn (``<!here>``
    pings a channel, ``<@U…>`` mentions, ``<https://…|label>`` is a link in the bot's
    name), so they must be sent as ``&amp;``, ``&lt;`` and ``&gt;`` ("Escaping text",
    https://api.slack.com/reference/surfaces/formatting#escaping). With ``limit`` the
    escaped text is cut to at most ``limit`` characters, with an ellipsis, never
    inside an entity.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if limit is None or len(escaped) <= limit:
        return escaped
    return _whole_markup(escaped[: max(limit - 1, 0)]) + "…"


def _whole_markup(head: str) -> str:
    """``head`` (the start of a longer text), shortened so that it never ends inside a
    Slack token (``<@U123>``, ``<!date^…|…>``, a link) or an escape (``&amp;``): half
    of one would show as markup debris, or a link to somewhere else."""
    opened = head.rfind("<")
    if opened != -1 and ">" not in head[opened:]:
        head = head[:opened]
    # Only the last four characters can hold the start of an unfinished escape: the
    # longest, "&amp;", is five long. An earlier "&" is a plain one ("Q&A").
    amp = head.rfind("&", max(len(head) - 4, 0))
    if amp != -1 and ";" not in head[amp:]:
        head = head[:amp]
    return head


def slack_date(when: datetime, token: str = "{date_short_pretty} at {time}") -> str:
    """A date each reader sees in their own time zone; the fallback is UTC."""
    fallback = when.astimezone(UTC).strftime("%a %d %b %Y %H:%M UTC")
    return f"<!date^{int(when.timestamp())}^{token}|{fallback}>"


def section(text: str, **kwargs: object) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=clip(text)), **kwargs)


def context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=clip(text))])


def numbered(items: Sequence[str]) -> str:
    return "\n".join(f"{i}. {item}" for i, item in enumerate(items, start=1))


class CopyTooLong(ValueError):
    """Raised by ``clip`` instead of cutting, inside ``refusing_cuts``."""

    def __init__(self, length: int, limit: int) -> None:
        super().__init__(f"{length:,} characters where Slack shows at most {limit:,}")
        self.length, self.limit = length, limit


_REFUSING_CUTS: ContextVar[bool] = ContextVar("refusing_cuts", default=False)


@contextmanager
def refusing_cuts() -> Iterator[None]:
    """Inside the block ``clip`` raises ``CopyTooLong`` instead of cutting: what
    ``content check`` uses to find copy that Slack would show cut."""
    token = _REFUSING_CUTS.set(True)
    try:
        yield
    finally:
        _REFUSING_CUTS.reset(token)


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """Coordinators edit the copy; a long edit is cut rather than rejected by Slack,
    never inside a Slack token or an escape (``_whole_markup``). ``content check``
    reports such copy first (``refusing_cuts``)."""
    if len(text) <= limit:
        return text
    if _REFUSING_CUTS.get():
        raise CopyTooLong(len(text), limit)
    return _whole_markup(text[: limit - 1]) + "…"


def text_length(blocks: Any) -> int:
    """Characters of every ``text`` string in ``blocks`` (as dicts): what
    ``MESSAGE_TEXT_BUDGET`` holds a message's blocks to."""
    if isinstance(blocks, dict):
        return sum(
            len(value) if key == "text" and isinstance(value, str) else text_length(value)
            for key, value in blocks.items()
        )
    if isinstance(blocks, list):
        return sum(text_length(item) for item in blocks)
    return 0


def fitting(lines: Sequence[str], budget: int, *, sep: str = "\n") -> int:
    """How many of ``lines``, from the first, fit in ``budget`` characters in all."""
    used = 0
    for count, line in enumerate(lines):
        used += len(line) + len(sep)
        if used > budget:
            return count
    return len(lines)


def packed(lines: Sequence[str], *, first_room: int = SECTION_LIMIT, sep: str = "\n") -> list[str]:
    """Lines joined into as few texts as a section's 3,000 characters allow (the first
    with ``first_room``, when a heading takes the rest); a line is never split."""
    texts: list[str] = []
    chunk: list[str] = []
    room = first_room
    for line in lines:
        if chunk and sum(len(x) + len(sep) for x in chunk) + len(line) > room:
            texts.append(sep.join(chunk))
            chunk, room = [], SECTION_LIMIT
        chunk.append(line)
    if chunk:
        texts.append(sep.join(chunk))
    return texts


def as_dicts(blocks: Sequence[Block]) -> list[dict]:
    return [b.to_dict() for b in blocks]


def notice_modal(title: str, text: str) -> dict[str, Any]:
    """A modal that only says something (a refusal, a summary), with a Close button."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": (title or "Mentor Bot")[:24]},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [section(text).to_dict()],
    }
