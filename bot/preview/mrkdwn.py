"""Slack mrkdwn to safe HTML, for the offline demo page.

Everything the text contains is escaped before any formatting is applied, so a
message cannot inject markup: formatting only ever wraps already-escaped text
in a fixed set of tags. Slack's own entity escaping (``&amp;``, ``&lt;``,
``&gt;``) is decoded first so that it displays the way Slack shows it rather
than being escaped twice.

Only the subset of mrkdwn Mentor Bot uses (and a little more) is supported;
anything unrecognised is shown as literal text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "EMOJI",
    "decode_entities",
    "escape",
    "format_date",
    "format_date_token",
    "format_time",
    "reader_zone",
    "render_emoji",
    "render_mrkdwn",
    "render_plain",
    "safe_url",
]

EMOJI: dict[str, str] = {
    "tada": "\U0001f389",
    "wave": "\U0001f44b",
    "white_check_mark": "\u2705",
    "sparkles": "\u2728",
    "calendar": "\U0001f4c6",
    "date": "\U0001f4c5",
    "memo": "\U0001f4dd",
    "bulb": "\U0001f4a1",
    "thumbsup": "\U0001f44d",
    "+1": "\U0001f44d",
    "thumbsdown": "\U0001f44e",
    "-1": "\U0001f44e",
    "star": "\u2b50",
    "heart": "\u2764\ufe0f",
    "smile": "\U0001f604",
    "slightly_smiling_face": "\U0001f642",
    "rocket": "\U0001f680",
    "warning": "\u26a0\ufe0f",
    "x": "\u274c",
    "clock1": "\U0001f550",
    "handshake": "\U0001f91d",
    "speech_balloon": "\U0001f4ac",
    "eyes": "\U0001f440",
    "raised_hands": "\U0001f64c",
    "pray": "\U0001f64f",
    "seedling": "\U0001f331",
    "dart": "\U0001f3af",
}

_SAFE_SCHEMES = ("http://", "https://", "mailto:", "tel:", "slack://")

# Placeholders for already-rendered HTML fragments; these characters are
# removed from the input so a message cannot forge one.
_PH_OPEN = "\ue000"
_PH_CLOSE = "\ue001"
_PH_RE = re.compile(f"{_PH_OPEN}(\\d+){_PH_CLOSE}")

_ENTITY_RE = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}

_PRE_RE = re.compile(r"```(.*?)```", re.DOTALL)
_CODE_RE = re.compile(r"`([^`\n]+)`")
_ANGLE_RE = re.compile(r"<([^<>\n]+)>")
_EMOJI_RE = re.compile(r":([a-z0-9_+\-]+):")
_BOLD_RE = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]*?\S|\S)\*(?![\w*])")
_ITALIC_RE = re.compile(r"(?<![\w_])_(?=\S)([^_\n]*?\S|\S)_(?![\w_])")
_STRIKE_RE = re.compile(r"(?<![\w~])~(?=\S)([^~\n]*?\S|\S)~(?![\w~])")

_BULLET_RE = re.compile(r"^\s*(?:•|-|◦|▪)\s+(.*)$")
_NUMBER_RE = re.compile(r"^\s*(\d{1,4})[.)]\s+(.*)$")
_QUOTE_RE = re.compile(r"^(?:>|&gt;) ?(.*)$")

_DATE_TOKEN_RE = re.compile(r"\{(\w+)\}")


def escape(text: object) -> str:
    """HTML-escape any value (quotes too, so the result is safe in attributes)."""
    return html.escape("" if text is None else str(text), quote=True)


def decode_entities(text: str) -> str:
    """Undo Slack's own escaping of ``&``, ``<`` and ``>`` (a single pass)."""
    return _ENTITY_RE.sub(lambda m: _ENTITIES[m.group(1)], text)


def _clean(text: object) -> str:
    s = "" if text is None else str(text)
    return s.replace(_PH_OPEN, "").replace(_PH_CLOSE, "")


def render_emoji(escaped: str) -> str:
    """Replace known ``:shortcode:`` emoji in already-escaped text."""

    def sub(m: re.Match[str]) -> str:
        return EMOJI.get(m.group(1), m.group(0))

    return _EMOJI_RE.sub(sub, escaped)


def render_plain(text: object, *, emoji: bool = True) -> str:
    """A ``plain_text`` object: escaped, emoji shortcodes, line breaks."""
    out = escape(decode_entities(_clean(text)))
    if emoji:
        out = render_emoji(out)
    return out.replace("\n", "<br>")


def safe_url(url: str) -> str | None:
    """The URL if its scheme is one a link may safely use, else None."""
    u = url.strip()
    return u if u.lower().startswith(_SAFE_SCHEMES) else None


# --------------------------------------------------------------------------
# Dates


def reader_zone(name: str | None) -> tzinfo:
    """The reader's zone; UTC when the name is empty or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return UTC


def _ordinal(n: int) -> str:
    if 10 <= n % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def format_time(t: datetime | time, *, seconds: bool = False) -> str:
    """Slack's 12-hour clock: ``9:00 AM``, ``12:30:15 PM``."""
    hour12 = t.hour % 12 or 12
    ampm = "AM" if t.hour < 12 else "PM"
    secs = f":{t.second:02d}" if seconds else ""
    return f"{hour12}:{t.minute:02d}{secs} {ampm}"


def format_date(d: date, style: str = "date_short") -> str:
    """A date in one of Slack's non-relative styles."""
    if style == "date_num":
        return d.strftime("%Y-%m-%d")
    if style == "date_slash":
        return d.strftime("%m/%d/%Y")
    if style == "date":
        return f"{d.strftime('%B')} {_ordinal(d.day)}, {d.year}"
    if style == "date_long":
        return f"{d.strftime('%A')}, {d.strftime('%B')} {_ordinal(d.day)}, {d.year}"
    # date_short
    return f"{d.strftime('%b')} {d.day}, {d.year}"


def _relative_day(d: date, now: datetime | None, zone: tzinfo) -> str | None:
    if now is None:
        return None
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    today = now.astimezone(zone).date()
    delta = (d - today).days
    return {0: "today", 1: "tomorrow", -1: "yesterday"}.get(delta)


def _ago(when: datetime, now: datetime | None) -> str:
    if now is None:
        return format_date(when.date(), "date_short")
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    secs = int((now - when).total_seconds())
    future = secs < 0
    secs = abs(secs)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if secs >= size:
            n = secs // size
            phrase = f"{n} {unit}{'s' if n != 1 else ''}"
            return f"in {phrase}" if future else f"{phrase} ago"
    return "just now"


def format_date_token(
    timestamp: float, fmt: str, *, reader_tz: str, now: datetime | None = None
) -> str | None:
    """Expand a ``<!date^…^fmt>`` format string for a reader; plain text, not escaped.

    Returns None when the format holds a token this renderer does not know (the
    caller then shows Slack's fallback text, as Slack does). Pretty forms say
    "today"/"tomorrow"/"yesterday" relative to ``now`` (in the reader's zone);
    without ``now`` they show the plain date.
    """
    zone = reader_zone(reader_tz)
    when = datetime.fromtimestamp(float(timestamp), tz=UTC).astimezone(zone)
    day = when.date()

    def expand(token: str) -> str | None:
        if token in ("date_num", "date_slash", "date", "date_short", "date_long"):
            return format_date(day, token)
        if token.endswith("_pretty"):
            base = token.removesuffix("_pretty")
            if base not in ("date", "date_short", "date_long"):
                return None
            return _relative_day(day, now, zone) or format_date(day, base)
        if token == "time":
            return format_time(when)
        if token == "time_secs":
            return format_time(when, seconds=True)
        if token == "ago":
            return _ago(when, now)
        return None

    failed = False

    def sub(m: re.Match[str]) -> str:
        nonlocal failed
        value = expand(m.group(1))
        if value is None:
            failed = True
            return m.group(0)
        return value

    out = _DATE_TOKEN_RE.sub(sub, fmt)
    return None if failed else out


# --------------------------------------------------------------------------
# Inline formatting


class _Stash:
    """Rendered fragments parked behind placeholders while formatting runs."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def put(self, fragment: str) -> str:
        self.parts.append(fragment)
        return f"{_PH_OPEN}{len(self.parts) - 1}{_PH_CLOSE}"

    def restore(self, text: str) -> str:
        # Fragments may themselves hold placeholders (none do today); loop to be safe.
        for _ in range(3):
            if _PH_OPEN not in text:
                break
            text = _PH_RE.sub(lambda m: self.parts[int(m.group(1))], text)
        return text


def _label(text: str) -> str:
    return render_emoji(escape(decode_entities(text)))


def _render_angle(
    body: str, *, users: Mapping[str, str], reader_tz: str, now: datetime | None
) -> str:
    """One ``<…>`` token: mention, channel, special command, date or link."""
    target, _, label = body.partition("|")
    if target.startswith("@"):
        uid = target[1:]
        name = users.get(uid) or label.lstrip("@") or uid
        return f'<span class="sk-mention" data-user="{escape(uid)}">@{_label(name)}</span>'
    if target.startswith("#"):
        cid = target[1:]
        name = label or cid
        return f'<span class="sk-mention sk-channel">#{_label(name)}</span>'
    if target.startswith("!"):
        command = target[1:]
        if command.startswith("date^"):
            return _render_date(command, label, reader_tz=reader_tz, now=now)
        if command in ("here", "channel", "everyone"):
            return f'<span class="sk-mention sk-broadcast">@{command}</span>'
        if command.startswith("subteam^"):
            name = label or "@" + command.removeprefix("subteam^")
            return f'<span class="sk-mention">{_label(name)}</span>'
        return _label(label) if label else escape("<" + decode_entities(body) + ">")
    url = safe_url(decode_entities(target))
    if url is None:
        # Not a link Slack would make clickable (or an unsafe scheme): literal text.
        return _label(label) if label else escape("<" + decode_entities(target) + ">")
    shown = label or (url[len("mailto:") :] if url.lower().startswith("mailto:") else url)
    return (
        f'<a class="sk-link" href="{escape(url)}" target="_blank" rel="noopener noreferrer">'
        f"{_label(shown)}</a>"
    )


def _render_date(command: str, fallback: str, *, reader_tz: str, now: datetime | None) -> str:
    parts = command.split("^")
    text: str | None = None
    link: str | None = None
    try:
        ts = float(parts[1])
        fmt = parts[2] if len(parts) > 2 else "{date_short}"
        link = safe_url(decode_entities(parts[3])) if len(parts) > 3 else None
        text = format_date_token(ts, decode_entities(fmt), reader_tz=reader_tz, now=now)
    except (IndexError, ValueError, OverflowError, OSError):
        text = None
    if text is None:
        return _label(fallback)
    inner = f'<time class="sk-date" title="{escape(fallback)}">{_label(text)}</time>'
    if link:
        return f'<a class="sk-link" href="{escape(link)}" rel="noopener noreferrer">{inner}</a>'
    return inner


def _inline(
    text: str, *, users: Mapping[str, str], reader_tz: str, now: datetime | None, stash: _Stash
) -> str:
    """One line (or run of lines) of mrkdwn without pre blocks or list structure."""

    def code(m: re.Match[str]) -> str:
        return stash.put(f'<code class="sk-code">{escape(decode_entities(m.group(1)))}</code>')

    def angle(m: re.Match[str]) -> str:
        return stash.put(_render_angle(m.group(1), users=users, reader_tz=reader_tz, now=now))

    text = _CODE_RE.sub(code, text)
    text = _ANGLE_RE.sub(angle, text)
    out = escape(decode_entities(text))
    out = render_emoji(out)
    out = _BOLD_RE.sub(r"<strong>\1</strong>", out)
    out = _ITALIC_RE.sub(r"<em>\1</em>", out)
    out = _STRIKE_RE.sub(r"<del>\1</del>", out)
    return out


# --------------------------------------------------------------------------
# Line structure


def _render_lines(text: str, inline: Callable[[str], str]) -> str:
    """Group lines into lists and quotes; other lines are joined with <br>."""
    out: list[str] = []
    lines = text.split("\n")
    i = 0
    pending: list[str] = []  # plain lines awaiting a <br> join

    def flush() -> None:
        if pending:
            out.append("<br>".join(pending))
            pending.clear()

    while i < len(lines):
        line = lines[i]
        if _BULLET_RE.match(line):
            flush()
            items = []
            while i < len(lines) and (m := _BULLET_RE.match(lines[i])):
                items.append(f"<li>{inline(m.group(1))}</li>")
                i += 1
            out.append('<ul class="sk-list">' + "".join(items) + "</ul>")
            continue
        if _NUMBER_RE.match(line):
            flush()
            items = []
            while i < len(lines) and (m := _NUMBER_RE.match(lines[i])):
                items.append(f'<li value="{int(m.group(1))}">{inline(m.group(2))}</li>')
                i += 1
            out.append('<ol class="sk-list">' + "".join(items) + "</ol>")
            continue
        if _QUOTE_RE.match(line):
            flush()
            quoted = []
            while i < len(lines) and (m := _QUOTE_RE.match(lines[i])):
                quoted.append(inline(m.group(1)))
                i += 1
            out.append('<blockquote class="sk-quote">' + "<br>".join(quoted) + "</blockquote>")
            continue
        pending.append(inline(line))
        i += 1
    flush()
    # Lists and quotes are block elements that break lines themselves, so the
    # plain runs between them need no extra <br>.
    return "".join(out)


def render_mrkdwn(
    text: object,
    *,
    users: Mapping[str, str],
    reader_tz: str,
    now: datetime | None = None,
) -> str:
    """Slack mrkdwn as safe HTML, dates shown in ``reader_tz`` (an IANA name).

    ``users`` maps user IDs to display names for ``<@U…>`` mentions. ``now`` is
    the reference instant for "today"/"tomorrow"/"yesterday" in pretty date
    tokens; without it those tokens show the plain date.
    """
    source = _clean(text).replace("\r\n", "\n")
    stash = _Stash()

    def inline(line: str) -> str:
        return _inline(line, users=users, reader_tz=reader_tz, now=now, stash=stash)

    pieces: list[str] = []
    pos = 0
    for m in _PRE_RE.finditer(source):
        before = source[pos : m.start()]
        if before.endswith("\n"):
            before = before[:-1]
        if before:
            pieces.append(_render_lines(before, inline))
        body = m.group(1)
        if body.startswith("\n"):
            body = body[1:]
        if body.endswith("\n"):
            body = body[:-1]
        pieces.append(f'<pre class="sk-pre">{escape(decode_entities(body))}</pre>')
        pos = m.end()
        if source.startswith("\n", pos):
            pos += 1
    rest = source[pos:]
    if rest or not pieces:
        pieces.append(_render_lines(rest, inline))
    return stash.restore("".join(pieces))
