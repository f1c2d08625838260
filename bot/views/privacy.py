"""Messages about a person's own data: the forget confirmation and the data export DM."""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    DividerBlock,
    HeaderBlock,
    PlainTextObject,
)

from bot.buttons import FORGET_CANCEL_VALUE, FORGET_VALUE
from bot.domain.forgotten import is_forgotten
from bot.ids import Action
from bot.views.common import (
    MESSAGE_TEXT_BUDGET,
    context,
    escape_mrkdwn,
    fitting,
    packed,
    section,
)

JSON_CHUNK = 2_900  # characters per code-block section, fences included
_FENCE_OPEN, _FENCE_CLOSE = "```\n", "\n```"

FORGET_EXPLAINED = (
    "*Delete my data*\n"
    "*Deleted:* your settings (time zone, tips, pauses), your sign-up for matching, your "
    "prep notes, your feedback (ratings and words), and every message still waiting to "
    "be sent to you. In Slack, my messages that carry your words or name you go too: "
    "our DMs, the prep notes your mentor received, and my posts in your pairs' group "
    "DMs. Your open pairings end, and their upcoming meetings are cancelled.\n"
    "*Kept, anonymously:* your partners' own history — their pairings, meetings and "
    "feedback — your tip votes, and program figures already shown to coordinators. "
    "Where these named you, they now name an anonymous placeholder that can't be "
    "traced back to you.\n"
    "This can't be undone."
)


def forget_confirmation_blocks() -> list[Block]:
    return [
        section(FORGET_EXPLAINED),
        ActionsBlock(
            block_id="forget",
            elements=[
                ButtonElement(
                    text="Delete my data",
                    action_id=Action.FORGET_CONFIRM,
                    value=FORGET_VALUE,
                    style="danger",
                    confirm=ConfirmObject(
                        title="Delete your data?",
                        # Slack's confirmation dialog takes plain_text only.
                        text=PlainTextObject(
                            text="Your data is deleted for good and your open pairings end."
                        ),
                        confirm="Delete",
                        deny="Keep it",
                    ),
                ),
                ButtonElement(
                    text="Cancel", action_id=Action.FORGET_CANCEL, value=FORGET_CANCEL_VALUE
                ),
            ],
        ),
    ]


def forget_cancelled_message() -> tuple[str, list[Block]]:
    text = "Nothing was deleted. Your data stays as it was."
    return text, [section(text)]


def forgotten_message() -> tuple[str, list[Block]]:
    text = (
        "Done: your data is deleted. Your partners keep their own history, with you "
        "shown anonymously. If you use Mentor Bot again, it starts afresh."
    )
    return text, [section(f":wastebasket: {text}")]


# ---------------------------------------------------------------- my data


def _json_chunks(data: dict[str, Any]) -> list[str]:
    """The data as JSON, cut on line ends into code blocks of at most ``JSON_CHUNK``."""
    room = JSON_CHUNK - len(_FENCE_OPEN) - len(_FENCE_CLOSE)
    dumped = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, default=str)
    lines: list[str] = []
    for line in escape_mrkdwn(dumped).splitlines():
        while len(line) > room:
            # Don't split an escape such as "&amp;" across two blocks.
            cut = room
            amp = line.rfind("&", room - 5, room)
            if amp != -1 and ";" not in line[amp:room]:
                cut = amp
            lines.append(line[:cut])
            line = line[cut:]
        lines.append(line)
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        extra = len(line) + (1 if current else 0)
        if current and size + extra > room:
            chunks.append("\n".join(current))
            current, size = [], 0
            extra = len(line)
        current.append(line)
        size += extra
    if current:
        chunks.append("\n".join(current))
    return [f"{_FENCE_OPEN}{chunk}{_FENCE_CLOSE}" for chunk in chunks]


def _when(value: Any) -> str:
    return str(value)[:16].replace("T", " ") + " UTC" if value else "—"


def _summary(data: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    person = data.get("person")
    if person:
        minute = person.get("tip_minute")
        at = f" at {minute // 60:02d}:{minute % 60:02d}" if isinstance(minute, int) else ""
        tips = f"on{at}" if person.get("tips_enabled") else "off"
        lines.append(f"*Settings:* time zone {person.get('tz')}, daily tips {tips}")
    else:
        lines.append("*Settings:* none stored")
    pool = data.get("pool")
    if pool:
        topics = ", ".join(pool.get("topics") or []) or "none"
        lines.append(f"*Matching sign-up:* as {pool.get('roles')}; topics: {topics}")
    pairs = data.get("pairs") or []
    if pairs:
        lines.append(f"*Pairings ({len(pairs)}):*")
        for pair in pairs:
            meetings = pair.get("meetings") or []
            partner = pair.get("partner_id") or ""
            who = "an anonymous former member" if is_forgotten(partner) else f"<@{partner}>"
            lines.append(
                f"• {pair.get('role')} with {who} — {pair.get('status')}, "
                f"since {_when(pair.get('created_at'))}, {len(meetings)} meeting(s)"
            )
    else:
        lines.append("*Pairings:* none")
    lines.append(
        f"*Your prep notes:* {len(data.get('prep_answers') or [])} · "
        f"*your feedback answers:* {len(data.get('feedback') or [])} · "
        f"*tip votes:* {len(data.get('tip_votes') or [])}"
    )
    messages = data.get("scheduled_messages") or {}
    if messages:
        counted = ", ".join(f"{count} {status}" for status, count in sorted(messages.items()))
        lines.append(f"*Messages to you:* {counted}")
    return lines


# More JSON than this many sections goes as a file instead: a record cut across code
# blocks cannot be copied as JSON, and a long one is a wall to scroll.
MAX_INLINE_CHUNKS = 1
# The record is inlined only while the whole DM stays within one message's text
# (``MESSAGE_TEXT_BUDGET``: msg_blocks_too_long); the summary keeps to this share of it.
SUMMARY_BUDGET = 3_000
MY_DATA_FILENAME = "mentor-bot-my-data.json"


def my_data_fits(data: dict[str, Any]) -> bool:
    """Whether the whole record fits in the DM itself; if not, it goes as a file."""
    return _inline_chunks(data, _summary_parts(data)) is not None


def my_data_file(data: dict[str, Any]) -> bytes:
    """The whole record as a JSON file (a file is not mrkdwn: nothing to escape)."""
    dumped = json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, default=str)
    return dumped.encode("utf-8")


def _summary_parts(data: dict[str, Any]) -> list[str]:
    """The readable summary in section-sized parts, at most ``SUMMARY_BUDGET`` in all
    (someone with many pairs has a long one); the last says so when it was cut."""
    lines = _summary(data)
    shown = fitting(lines, SUMMARY_BUDGET)
    parts = packed(lines[:shown], first_room=JSON_CHUNK)
    if shown < len(lines):
        parts.append("…and more; the full record has every pairing.")
    return parts


def _inline_chunks(data: dict[str, Any], summary: list[str]) -> list[str] | None:
    """The record's JSON sections for the DM itself, or None when it goes as a file."""
    chunks = _json_chunks(data)
    text = sum(len(part) for part in summary) + sum(len(chunk) for chunk in chunks)
    if len(chunks) > MAX_INLINE_CHUNKS or text > MESSAGE_TEXT_BUDGET:
        return None
    return chunks


def my_data_message(data: dict[str, Any]) -> tuple[str, list[Block]]:
    """A DM with a readable summary and the full record as JSON, within 50 blocks and
    Slack's text for one message; a record too long for that is sent as a file
    (``my_data_file``) and the DM says so."""
    text = "Here is everything Mentor Bot stores about you."
    summary = _summary_parts(data)
    blocks: list[Block] = [
        HeaderBlock(text="Your data in Mentor Bot"),
        *(section(part) for part in summary),
        DividerBlock(),
    ]
    chunks = _inline_chunks(data, summary)
    if chunks is not None:
        blocks.append(
            context(
                "The full record, as stored. Only you see your own prep notes and feedback "
                "here; `/mentor forget-me` deletes it."
            )
        )
        blocks.extend(section(chunk) for chunk in chunks)
        return text, blocks
    blocks.append(
        context(
            f"Your full record is long, so it comes as a file, `{MY_DATA_FILENAME}`, just "
            "below this message. Only you see your own prep notes and feedback there; "
            "`/mentor forget-me` deletes it."
        )
    )
    return text, blocks
