"""Small formatting helpers shared by the builders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject, SectionBlock

SECTION_LIMIT = 3000


def mention(user_id: str) -> str:
    return f"<@{user_id}>"


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


def clip(text: str, limit: int = SECTION_LIMIT) -> str:
    """Coordinators edit the copy; a long edit is cut rather than rejected by Slack."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_dicts(blocks: Sequence[Block]) -> list[dict]:
    return [b.to_dict() for b in blocks]
