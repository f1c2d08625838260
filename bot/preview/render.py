"""Block Kit (as the JSON dicts Slack receives) to static, Slack-looking HTML.

Pure functions: every renderer takes data and returns a string. All text from
messages and views is escaped; the only HTML passed through untouched is
``TimelineItem.html``, which callers build with the renderers here.

Rendering never raises on odd input: a block or element this module does not
know (or cannot make sense of) is shown as a labelled grey box instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from typing import Any

from bot.preview.mrkdwn import (
    escape,
    format_date,
    format_time,
    reader_zone,
    render_mrkdwn,
    render_plain,
    safe_url,
)

__all__ = [
    "PAGE_CSS",
    "Column",
    "TimelineItem",
    "initials",
    "page",
    "render_blocks",
    "render_element",
    "render_home",
    "render_message",
    "render_modal",
    "render_text",
]


@dataclass(frozen=True)
class TimelineItem:
    """One thing a person saw or did.

    ``at_label`` is plain text (escaped here); ``html`` is trusted markup from
    the renderers in this module; ``sort_key`` orders a column (e.g. unix time).
    ``kind`` is one of dm, group, ephemeral, modal, home, action.
    """

    at_label: str
    kind: str
    html: str
    sort_key: float


@dataclass(frozen=True)
class Column:
    person_name: str
    subtitle: str
    items: list[TimelineItem] = field(default_factory=list)


@dataclass(frozen=True)
class _Ctx:
    users: Mapping[str, str]
    reader_tz: str
    now: datetime | None
    errors: Mapping[str, str]


# --------------------------------------------------------------------------
# Text objects


def _ctx(
    users: Mapping[str, str] | None,
    reader_tz: str,
    now: datetime | None,
    errors: Mapping[str, str] | None = None,
) -> _Ctx:
    return _Ctx(users=users or {}, reader_tz=reader_tz, now=now, errors=errors or {})


def _text(obj: Any, c: _Ctx) -> str:
    if obj is None:
        return ""
    if isinstance(obj, str):
        return render_plain(obj)
    if not isinstance(obj, dict):
        return escape(obj)
    if obj.get("type") == "mrkdwn":
        return render_mrkdwn(obj.get("text", ""), users=c.users, reader_tz=c.reader_tz, now=c.now)
    return render_plain(obj.get("text", ""), emoji=obj.get("emoji", True) is not False)


def render_text(
    obj: Any,
    *,
    users: Mapping[str, str] | None = None,
    reader_tz: str = "UTC",
    now: datetime | None = None,
) -> str:
    """A Block Kit text object (``plain_text`` or ``mrkdwn``) as HTML."""
    return _text(obj, _ctx(users, reader_tz, now))


def _plain_of(obj: Any) -> str:
    """The raw string of a text object, for attributes such as placeholders."""
    if isinstance(obj, dict):
        return str(obj.get("text", ""))
    return "" if obj is None else str(obj)


def _unknown(kind: str, what: str = "block", detail: str = "") -> str:
    extra = f' <span class="sk-unknown-detail">{escape(detail)}</span>' if detail else ""
    return (
        f'<div class="sk-unknown"><span class="sk-unknown-label">Unsupported {escape(what)}: '
        f"<code>{escape(kind or '?')}</code></span>{extra}</div>"
    )


# --------------------------------------------------------------------------
# Elements


def _button(el: dict, c: _Ctx) -> str:
    style = el.get("style")
    cls = "sk-btn"
    if style in ("primary", "danger"):
        cls += f" sk-btn-{style}"
    label = _text(el.get("text"), c)
    url = safe_url(str(el.get("url", ""))) if el.get("url") else None
    if url:
        return (
            f'<a class="{cls}" href="{escape(url)}" target="_blank" '
            f'rel="noopener noreferrer">{label}</a>'
        )
    return f'<span class="{cls}" role="button">{label}</span>'


def _options(el: dict) -> list[dict]:
    opts = [o for o in el.get("options") or [] if isinstance(o, dict)]
    for group in el.get("option_groups") or []:
        if isinstance(group, dict):
            opts.extend(o for o in group.get("options") or [] if isinstance(o, dict))
    return opts


def _overflow(el: dict, c: _Ctx) -> str:
    items = "".join(f"<li>{_text(o.get('text'), c)}</li>" for o in _options(el))
    return (
        '<details class="sk-overflow"><summary class="sk-btn sk-btn-overflow" '
        f'title="More actions">⋯</summary><ul class="sk-menu">{items}</ul></details>'
    )


def _select(el: dict, c: _Ctx) -> str:
    initial = el.get("initial_option") if isinstance(el.get("initial_option"), dict) else None
    chosen = initial.get("value") if initial else None
    placeholder = _plain_of(el.get("placeholder")) or "Select an item"

    def option(o: dict) -> str:
        sel = " selected" if chosen is not None and o.get("value") == chosen else ""
        label = escape(_plain_of(o.get("text")))
        return f'<option value="{escape(o.get("value", ""))}"{sel}>{label}</option>'

    parts = []
    if initial is None:
        parts.append(f'<option value="" selected>{escape(placeholder)}</option>')
    if el.get("option_groups"):
        for g in el.get("option_groups") or []:
            if isinstance(g, dict):
                inner = "".join(option(o) for o in g.get("options") or [] if isinstance(o, dict))
                parts.append(
                    f'<optgroup label="{escape(_plain_of(g.get("label")))}">{inner}</optgroup>'
                )
    else:
        parts.extend(option(o) for o in _options(el))
    return f'<select class="sk-select" disabled>{"".join(parts)}</select>'


def _user_name(uid: Any, c: _Ctx) -> str:
    return str(c.users.get(str(uid)) or uid)


def _entity_select(el: dict, c: _Ctx) -> str:
    """users_select / conversations_select / channels_select / external_select."""
    kind = el.get("type", "")
    value = None
    if el.get("initial_user"):
        value = "@" + _user_name(el["initial_user"], c)
    elif el.get("initial_conversation") or el.get("initial_channel"):
        value = "#" + str(el.get("initial_conversation") or el.get("initial_channel"))
    elif isinstance(el.get("initial_option"), dict):
        value = _plain_of(el["initial_option"].get("text"))
    text = value or _plain_of(el.get("placeholder")) or "Select an item"
    cls = "sk-control sk-select-like" + ("" if value else " sk-placeholder")
    caret = '<span class="sk-caret">▾</span>'
    return f'<span class="{cls}" data-type="{escape(kind)}">{escape(text)}{caret}</span>'


def _multi_select(el: dict, c: _Ctx) -> str:
    chips: list[str] = []
    for o in el.get("initial_options") or []:
        if isinstance(o, dict):
            chips.append(_plain_of(o.get("text")))
    for u in el.get("initial_users") or []:
        chips.append("@" + _user_name(u, c))
    for ch in (el.get("initial_conversations") or []) + (el.get("initial_channels") or []):
        chips.append("#" + str(ch))
    all_opts = ", ".join(_plain_of(o.get("text")) for o in _options(el))
    title = f' title="{escape("Options: " + all_opts)}"' if all_opts else ""
    if chips:
        body = "".join(
            f'<span class="sk-chip">{escape(t)} <span class="sk-chip-x">×</span></span>'
            for t in chips
        )
        return f'<span class="sk-control sk-multi"{title}>{body}</span>'
    placeholder = _plain_of(el.get("placeholder")) or "Select items"
    return f'<span class="sk-control sk-multi sk-placeholder"{title}>{escape(placeholder)}</span>'


def _picker(icon: str, text: str | None, placeholder: str) -> str:
    cls = "sk-control sk-picker" + ("" if text else " sk-placeholder")
    shown = text or placeholder
    return f'<span class="{cls}"><span class="sk-icon">{icon}</span>{escape(shown)}</span>'


def _datepicker(el: dict, c: _Ctx) -> str:
    text = None
    raw = el.get("initial_date")
    if raw:
        try:
            text = format_date(date.fromisoformat(str(raw)), "date_short")
        except ValueError:
            text = str(raw)
    return _picker("📅", text, _plain_of(el.get("placeholder")) or "Select a date")


def _timepicker(el: dict, c: _Ctx) -> str:
    text = None
    raw = el.get("initial_time")
    if raw:
        try:
            text = format_time(time.fromisoformat(str(raw)))
        except ValueError:
            text = str(raw)
        if el.get("timezone"):
            text += f" ({el['timezone']})"
    return _picker("🕘", text, _plain_of(el.get("placeholder")) or "Select time")


def _datetimepicker(el: dict, c: _Ctx) -> str:
    raw = el.get("initial_date_time")
    day_text = time_text = None
    if raw not in (None, ""):
        try:
            when = datetime.fromtimestamp(float(raw), tz=UTC).astimezone(reader_zone(c.reader_tz))
            day_text = format_date(when.date(), "date_short")
            time_text = format_time(when)
        except (TypeError, ValueError, OverflowError, OSError):
            day_text = str(raw)
    return (
        '<span class="sk-datetime">'
        + _picker("📅", day_text, "Select a date")
        + _picker("🕘", time_text, "Select time")
        + "</span>"
    )


def _text_input(el: dict, c: _Ctx, input_type: str = "text") -> str:
    value = el.get("initial_value")
    value = "" if value is None else str(value)
    placeholder = _plain_of(el.get("placeholder"))
    ph = f' placeholder="{escape(placeholder)}"' if placeholder else ""
    if el.get("multiline"):
        return (
            f'<textarea class="sk-control sk-textarea" rows="4" disabled{ph}>'
            f"{escape(value)}</textarea>"
        )
    return (
        f'<input class="sk-control sk-input" type="{input_type}" disabled '
        f'value="{escape(value)}"{ph}>'
    )


def _choices(el: dict, c: _Ctx, kind: str) -> str:
    if kind == "checkbox":
        chosen = {o.get("value") for o in el.get("initial_options") or [] if isinstance(o, dict)}
    else:
        init = el.get("initial_option")
        chosen = {init.get("value")} if isinstance(init, dict) else set()
    rows = []
    for o in _options(el):
        checked = " checked" if o.get("value") in chosen else ""
        desc = o.get("description")
        desc_html = f'<div class="sk-choice-desc">{_text(desc, c)}</div>' if desc else ""
        rows.append(
            f'<label class="sk-choice"><input type="{kind}" disabled{checked}>'
            f'<span class="sk-choice-text">{_text(o.get("text"), c)}{desc_html}</span></label>'
        )
    return f'<div class="sk-choices sk-{kind}es">{"".join(rows)}</div>'


def _image_el(el: dict, cls: str) -> str:
    url = safe_url(str(el.get("image_url", "")))
    alt = escape(el.get("alt_text", ""))
    if not url:
        return f'<span class="{cls} sk-img-missing" title="{alt}">🖼</span>'
    return f'<img class="{cls}" src="{escape(url)}" alt="{alt}" loading="lazy">'


def _element(el: Any, c: _Ctx) -> str:
    if not isinstance(el, dict):
        return _unknown(type(el).__name__, "element")
    kind = el.get("type", "")
    if kind == "button":
        return _button(el, c)
    if kind == "overflow":
        return _overflow(el, c)
    if kind == "static_select":
        return _select(el, c)
    if kind in ("external_select", "users_select", "conversations_select", "channels_select"):
        return _entity_select(el, c)
    if kind.startswith("multi_") and kind.endswith("_select"):
        return _multi_select(el, c)
    if kind == "datepicker":
        return _datepicker(el, c)
    if kind == "timepicker":
        return _timepicker(el, c)
    if kind == "datetimepicker":
        return _datetimepicker(el, c)
    if kind == "plain_text_input":
        return _text_input(el, c)
    if kind == "email_text_input":
        return _text_input(el, c, "email")
    if kind == "url_text_input":
        return _text_input(el, c, "url")
    if kind == "number_input":
        return _text_input({**el, "multiline": False}, c, "number")
    if kind == "checkboxes":
        return _choices(el, c, "checkbox")
    if kind == "radio_buttons":
        return _choices(el, c, "radio")
    if kind == "image":
        return _image_el(el, "sk-el-img")
    if kind == "rich_text_input":
        initial = el.get("initial_value")
        inner = _block(initial, c) if isinstance(initial, dict) else ""
        return f'<div class="sk-control sk-textarea">{inner}</div>'
    if kind in ("mrkdwn", "plain_text"):
        return _text(el, c)
    return _unknown(kind, "element")


def render_element(
    element: dict,
    *,
    users: Mapping[str, str] | None = None,
    reader_tz: str = "UTC",
    now: datetime | None = None,
) -> str:
    """One interactive element (button, select, picker, input…) as HTML."""
    return _element(element, _ctx(users, reader_tz, now))


# --------------------------------------------------------------------------
# Blocks


def _section(b: dict, c: _Ctx) -> str:
    body = []
    if b.get("text"):
        body.append(f'<div class="sk-text">{_text(b["text"], c)}</div>')
    fields = b.get("fields") or []
    if fields:
        cells = "".join(f'<div class="sk-field">{_text(f, c)}</div>' for f in fields)
        body.append(f'<div class="sk-fields">{cells}</div>')
    acc = b.get("accessory")
    acc_html = ""
    if isinstance(acc, dict):
        inner = (
            _image_el(acc, "sk-accessory-img") if acc.get("type") == "image" else _element(acc, c)
        )
        acc_html = f'<div class="sk-accessory">{inner}</div>'
    return (
        f'<div class="sk-block sk-section"><div class="sk-section-body">{"".join(body)}</div>'
        f"{acc_html}</div>"
    )


def _actions(b: dict, c: _Ctx) -> str:
    els = "".join(_element(e, c) for e in b.get("elements") or [])
    return f'<div class="sk-block sk-actions">{els}</div>'


def _context(b: dict, c: _Ctx) -> str:
    parts = []
    for e in b.get("elements") or []:
        if isinstance(e, dict) and e.get("type") == "image":
            parts.append(_image_el(e, "sk-ctx-img"))
        elif isinstance(e, dict) and e.get("type") in ("mrkdwn", "plain_text"):
            parts.append(f'<span class="sk-ctx-text">{_text(e, c)}</span>')
        else:
            parts.append(_unknown(str(e.get("type") if isinstance(e, dict) else e), "element"))
    return f'<div class="sk-block sk-context">{"".join(parts)}</div>'


def _header(b: dict, c: _Ctx) -> str:
    return f'<div class="sk-block sk-header">{_text(b.get("text"), c)}</div>'


def _image_block(b: dict, c: _Ctx) -> str:
    title = b.get("title")
    title_html = f'<div class="sk-image-title">{_text(title, c)}</div>' if title else ""
    return f'<div class="sk-block sk-image">{title_html}{_image_el(b, "sk-image-img")}</div>'


def _input(b: dict, c: _Ctx) -> str:
    label = _text(b.get("label"), c)
    optional = ' <span class="sk-optional">(optional)</span>' if b.get("optional") else ""
    error = c.errors.get(str(b.get("block_id", ""))) if b.get("block_id") is not None else None
    error_html = f'<div class="sk-error" role="alert">{render_plain(error)}</div>' if error else ""
    hint = b.get("hint")
    hint_html = f'<div class="sk-hint">{_text(hint, c)}</div>' if hint else ""
    cls = "sk-block sk-input-block" + (" sk-has-error" if error else "")
    return (
        f'<div class="{cls}"><label class="sk-label">{label}{optional}</label>'
        f'<div class="sk-input-el">{_element(b.get("element"), c)}</div>'
        f"{error_html}{hint_html}</div>"
    )


_RT_STYLE_TAGS = (("bold", "strong"), ("italic", "em"), ("strike", "del"), ("code", "code"))


def _rt_styled(html_text: str, style: Any) -> str:
    if not isinstance(style, dict):
        return html_text
    for key, tag in _RT_STYLE_TAGS:
        if style.get(key):
            cls = ' class="sk-code"' if tag == "code" else ""
            html_text = f"<{tag}{cls}>{html_text}</{tag}>"
    return html_text


def _rt_inline(el: Any, c: _Ctx) -> str:
    if not isinstance(el, dict):
        return ""
    kind = el.get("type")
    if kind == "text":
        return _rt_styled(escape(el.get("text", "")).replace("\n", "<br>"), el.get("style"))
    if kind == "link":
        url = safe_url(str(el.get("url", "")))
        label = escape(el.get("text") or el.get("url", ""))
        if not url:
            return _rt_styled(label, el.get("style"))
        link = (
            f'<a class="sk-link" href="{escape(url)}" target="_blank" '
            f'rel="noopener noreferrer">{label}</a>'
        )
        return _rt_styled(link, el.get("style"))
    if kind == "user":
        uid = str(el.get("user_id", ""))
        name = escape(_user_name(uid, c))
        return f'<span class="sk-mention" data-user="{escape(uid)}">@{name}</span>'
    if kind == "channel":
        return f'<span class="sk-mention sk-channel">#{escape(el.get("channel_id", ""))}</span>'
    if kind == "usergroup":
        return f'<span class="sk-mention">@{escape(el.get("usergroup_id", ""))}</span>'
    if kind == "broadcast":
        return f'<span class="sk-mention sk-broadcast">@{escape(el.get("range", "here"))}</span>'
    if kind == "emoji":
        code = el.get("unicode")
        if code:
            try:
                return "".join(chr(int(p, 16)) for p in str(code).split("-"))
            except ValueError:
                pass
        return render_plain(f":{el.get('name', '')}:")
    if kind == "date":
        fmt = el.get("format", "{date_short}")
        token = f"<!date^{el.get('timestamp', '')}^{fmt}|{el.get('fallback', '')}>"
        return render_mrkdwn(token, users=c.users, reader_tz=c.reader_tz, now=c.now)
    if kind == "color":
        return escape(el.get("value", ""))
    return _unknown(str(kind), "rich text element")


def _rt_part(part: Any, c: _Ctx) -> str:
    if not isinstance(part, dict):
        return ""
    kind = part.get("type")
    inner = "".join(_rt_inline(e, c) for e in part.get("elements") or [])
    if kind == "rich_text_section":
        return f'<div class="sk-rt-section">{inner}</div>'
    if kind == "rich_text_quote":
        return f'<blockquote class="sk-quote">{inner}</blockquote>'
    if kind == "rich_text_preformatted":
        return f'<pre class="sk-pre">{inner}</pre>'
    if kind == "rich_text_list":
        tag = "ol" if part.get("style") == "ordered" else "ul"
        items = "".join(
            f"<li>{''.join(_rt_inline(e, c) for e in (s.get('elements') or []))}</li>"
            for s in part.get("elements") or []
            if isinstance(s, dict)
        )
        return f'<{tag} class="sk-list">{items}</{tag}>'
    return _unknown(str(kind), "rich text part")


def _rich_text(b: dict, c: _Ctx) -> str:
    parts = "".join(_rt_part(p, c) for p in b.get("elements") or [])
    return f'<div class="sk-block sk-rich-text">{parts}</div>'


_BLOCKS = {
    "section": _section,
    "actions": _actions,
    "context": _context,
    "divider": lambda b, c: '<hr class="sk-block sk-divider">',
    "header": _header,
    "image": _image_block,
    "input": _input,
    "rich_text": _rich_text,
}


def _block(b: Any, c: _Ctx) -> str:
    if not isinstance(b, dict):
        return _unknown(type(b).__name__)
    kind = str(b.get("type", ""))
    fn = _BLOCKS.get(kind)
    if fn is None:
        return _unknown(kind)
    try:
        return fn(b, c)
    except Exception as exc:  # a preview must never take the demo down
        return _unknown(kind, "block", f"could not render: {type(exc).__name__}")


def _as_list(value: Any) -> list:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return []
    return value if isinstance(value, list) else []


def _as_dict(value: Any) -> dict:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return {}
    return value if isinstance(value, dict) else {}


def _blocks(blocks: Any, c: _Ctx) -> str:
    return "".join(_block(b, c) for b in _as_list(blocks))


def render_blocks(
    blocks: list[dict],
    *,
    users: Mapping[str, str] | None = None,
    reader_tz: str = "UTC",
    now: datetime | None = None,
    errors: Mapping[str, str] | None = None,
) -> str:
    """A list of Block Kit blocks as HTML (``errors`` maps input block_id to message)."""
    return f'<div class="sk-blocks">{_blocks(blocks, _ctx(users, reader_tz, now, errors))}</div>'


# --------------------------------------------------------------------------
# Surfaces


def initials(name: str) -> str:
    """``Mentor Bot`` -> ``MB``; at most two letters."""
    words = [w for w in re.split(r"\s+", name.strip()) if w]
    letters = "".join(w[0] for w in words[:2]).upper()
    return letters or "?"


def _ts_time(ts: Any, reader_tz: str) -> str:
    try:
        when = datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return ""
    return format_time(when.astimezone(reader_zone(reader_tz)))


def _attachments(atts: Any, c: _Ctx) -> str:
    out = []
    for a in _as_list(atts):
        if not isinstance(a, dict):
            continue
        color = str(a.get("color", ""))
        if re.fullmatch(r"#?[0-9a-fA-F]{6}", color):
            bar = color if color.startswith("#") else "#" + color
        else:
            bar = {"good": "#2eb67d", "warning": "#ecb22e", "danger": "#e01e5a"}.get(
                color, "#dddddd"
            )
        parts = []
        if a.get("title"):
            parts.append(f'<div class="sk-att-title">{render_plain(a["title"])}</div>')
        if a.get("blocks"):
            parts.append(_blocks(a["blocks"], c))
        elif a.get("text") or a.get("fallback"):
            text = a.get("text") or a.get("fallback")
            parts.append(render_mrkdwn(text, users=c.users, reader_tz=c.reader_tz, now=c.now))
        style = f"border-left-color:{escape(bar)}"
        out.append(f'<div class="sk-attachment" style="{style}">{"".join(parts)}</div>')
    return "".join(out)


def _files(files: Any) -> str:
    """Files shared with the message, as Slack lists them: a card per file."""
    out = []
    for f in _as_list(files):
        if not isinstance(f, dict):
            continue
        name = str(f.get("title") or f.get("name") or "file")
        kind = str(f.get("mimetype") or "")
        label = "Calendar event" if kind == "text/calendar" else (kind or "File")
        if f.get("name") and f.get("name") != name:
            label += f" · {f['name']}"
        out.append(
            '<div class="sk-file"><span class="sk-file-icon" aria-hidden="true">📎</span>'
            f'<span class="sk-file-name">{escape(name)}</span>'
            f'<span class="sk-file-kind">{escape(label)}</span></div>'
        )
    return "".join(out)


def render_message(
    message: dict,
    *,
    users: Mapping[str, str] | None = None,
    reader_tz: str = "UTC",
    now: datetime | None = None,
    sender_name: str = "Mentor Bot",
) -> str:
    """A message row as Slack draws it: avatar, name, APP badge, time, content."""
    c = _ctx(users, reader_tz, now)
    message = _as_dict(message)
    blocks = _as_list(message.get("blocks"))
    if blocks:
        content = _blocks(blocks, c)
    else:
        content = (
            '<div class="sk-text">'
            + render_mrkdwn(message.get("text", ""), users=c.users, reader_tz=reader_tz, now=now)
            + "</div>"
        )
    content += _attachments(message.get("attachments"), c)
    content += _files(message.get("files"))
    when = _ts_time(message.get("ts"), reader_tz)
    time_html = f'<span class="sk-time">{escape(when)}</span>' if when else ""
    edited = ' <span class="sk-edited">(edited)</span>' if message.get("edited") else ""
    return (
        '<div class="sk-message">'
        f'<div class="sk-avatar" aria-hidden="true">{escape(initials(sender_name))}</div>'
        '<div class="sk-message-main">'
        f'<div class="sk-message-head"><span class="sk-sender">{escape(sender_name)}</span>'
        f'<span class="sk-badge">APP</span>{time_html}</div>'
        f'<div class="sk-message-body">{content}{edited}</div>'
        "</div></div>"
    )


def render_modal(
    view: dict,
    *,
    users: Mapping[str, str] | None = None,
    reader_tz: str = "UTC",
    now: datetime | None = None,
    errors: Mapping[str, str] | None = None,
) -> str:
    """A modal card: title bar, blocks, footer with Cancel/Close and Submit.

    ``errors`` maps an input's block_id to the text shown under it in red, as
    Slack does for a ``response_action: errors`` reply.
    """
    view = _as_dict(view)
    c = _ctx(users, reader_tz, now, errors)
    title = _text(view.get("title"), c) or "Modal"
    submit = view.get("submit")
    close = view.get("close")
    close_label = _text(close, c) if close else ("Cancel" if submit else "Close")
    buttons = f'<span class="sk-btn" role="button">{close_label}</span>'
    if submit:
        buttons += f'<span class="sk-btn sk-btn-primary" role="button">{_text(submit, c)}</span>'
    return (
        '<div class="sk-modal" role="dialog">'
        f'<div class="sk-modal-title"><span class="sk-modal-title-text">{title}</span>'
        '<span class="sk-modal-x" aria-hidden="true">×</span></div>'
        f'<div class="sk-modal-body">{_blocks(view.get("blocks"), c)}</div>'
        f'<div class="sk-modal-footer">{buttons}</div>'
        "</div>"
    )


def render_home(
    view: dict,
    *,
    users: Mapping[str, str] | None = None,
    reader_tz: str = "UTC",
    now: datetime | None = None,
    app_name: str = "Mentor Bot",
) -> str:
    """The app's Home tab as published with views.publish."""
    view = _as_dict(view)
    c = _ctx(users, reader_tz, now)
    return (
        '<div class="sk-home">'
        '<div class="sk-home-head">'
        f'<span class="sk-avatar sk-avatar-small">{escape(initials(app_name))}</span>'
        f'<span class="sk-sender">{escape(app_name)}</span></div>'
        '<div class="sk-home-tabs"><span class="sk-tab sk-tab-active">Home</span>'
        '<span class="sk-tab">Messages</span></div>'
        f'<div class="sk-home-body">{_blocks(view.get("blocks"), c)}</div>'
        "</div>"
    )


# --------------------------------------------------------------------------
# Page

PAGE_CSS = """
*{box-sizing:border-box}
body{margin:0;font-family:Lato,"Helvetica Neue",Helvetica,"Segoe UI",Arial,sans-serif;
 font-size:15px;line-height:1.46668;color:#1d1c1d;background:#f8f8f8}
.sk-page-header{background:#3f0e40;color:#fff;padding:16px 24px;border-bottom:4px solid #611f69}
.sk-page-header h1{margin:0;font-size:22px;font-weight:900}
.sk-page-header p{margin:4px 0 0;color:#e8d8e9;font-size:14px}
.sk-columns{display:grid;grid-auto-flow:column;grid-auto-columns:minmax(400px,1fr);
 gap:16px;padding:16px;overflow-x:auto;align-items:start}
.sk-column{background:#fff;border:1px solid #dddddd;border-radius:8px;min-width:0}
.sk-column-head{display:flex;gap:10px;align-items:center;padding:12px 16px;
 border-bottom:1px solid #dddddd;background:#611f69;color:#fff;border-radius:8px 8px 0 0;
 position:sticky;top:0;z-index:1}
.sk-column-head .sk-avatar{background:#fff;color:#611f69}
.sk-column-name{font-weight:900;font-size:16px}
.sk-column-sub{font-size:13px;color:#e8d8e9}
.sk-column-items{padding:8px 0}
.sk-empty{color:#616061;font-style:italic;padding:12px 16px}
.sk-item{padding:8px 16px}
.sk-item+.sk-item{border-top:1px solid #f0f0f0}
.sk-item-label{font-size:12px;color:#616061;margin-bottom:4px}
.sk-kind-ephemeral .sk-item-body{border-left:4px solid #dddddd;padding-left:10px}
.sk-only-you{font-size:13px;color:#616061;margin-bottom:4px}
.sk-kind-group .sk-item-label::before{content:"👥 "}
.sk-kind-action{text-align:right}
.sk-kind-action .sk-item-body{display:inline-block;background:#f0f0f0;color:#616061;
 border-radius:12px;padding:4px 12px;font-size:13px;max-width:85%;text-align:left}
.sk-message{display:flex;gap:8px;align-items:flex-start}
.sk-avatar{flex:none;width:36px;height:36px;border-radius:6px;background:#611f69;color:#fff;
 display:inline-flex;align-items:center;justify-content:center;font-weight:900;font-size:14px}
.sk-avatar-small{width:24px;height:24px;font-size:11px;border-radius:4px}
.sk-message-main{flex:1;min-width:0}
.sk-message-head{display:flex;gap:6px;align-items:baseline}
.sk-sender{font-weight:900}
.sk-badge{font-size:10px;font-weight:700;color:#616061;background:#e8e8e8;border-radius:2px;
 padding:0 3px;letter-spacing:.3px}
.sk-time{font-size:12px;color:#616061}
.sk-edited{font-size:12px;color:#616061}
.sk-text,.sk-field{overflow-wrap:anywhere}
.sk-block{margin:4px 0}
.sk-section{display:flex;gap:12px;align-items:flex-start}
.sk-section-body{flex:1;min-width:0}
.sk-fields{display:grid;grid-template-columns:1fr 1fr;gap:8px 16px;margin-top:4px}
.sk-accessory{flex:none}
.sk-accessory-img{width:88px;height:88px;object-fit:cover;border-radius:6px}
.sk-actions{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:8px 0}
.sk-context{display:flex;flex-wrap:wrap;gap:6px;align-items:center;font-size:13px;color:#616061}
.sk-ctx-img{width:20px;height:20px;border-radius:4px}
.sk-divider{border:0;border-top:1px solid #dddddd;margin:12px 0}
.sk-header{font-size:18px;font-weight:900;line-height:1.33}
.sk-image-img,.sk-el-img{max-width:100%;border-radius:6px}
.sk-image-title{font-size:13px;color:#616061}
.sk-img-missing{display:inline-block;color:#616061}
.sk-btn{display:inline-flex;align-items:center;height:28px;padding:0 12px;border:1px solid #bbbbbb;
 border-radius:4px;background:#fff;color:#1d1c1d;font-weight:700;font-size:13px;
 text-decoration:none;white-space:nowrap;cursor:default}
.sk-btn-primary{background:#007a5a;border-color:#007a5a;color:#fff}
.sk-btn-danger{background:#e01e5a;border-color:#e01e5a;color:#fff}
.sk-btn-overflow{padding:0 8px;list-style:none}
.sk-overflow{display:inline-block;position:relative}
.sk-overflow summary::-webkit-details-marker{display:none}
.sk-menu{position:absolute;right:0;z-index:2;margin:4px 0;padding:6px 0;list-style:none;
 background:#fff;border:1px solid #dddddd;border-radius:6px;box-shadow:0 4px 12px rgba(0,0,0,.12);
 min-width:160px}
.sk-menu li{padding:4px 16px;white-space:nowrap}
.sk-control{display:inline-flex;align-items:center;gap:6px;min-height:36px;padding:4px 10px;
 border:1px solid #bbbbbb;border-radius:4px;background:#fff;color:#1d1c1d;font:inherit;
 font-size:14px;opacity:1}
.sk-input,.sk-textarea{width:100%}
.sk-textarea{display:block;resize:none}
.sk-placeholder,.sk-control::placeholder{color:#868686}
.sk-select{min-height:36px;padding:4px 8px;border:1px solid #bbbbbb;border-radius:4px;
 background:#fff;color:#1d1c1d;font:inherit;font-size:14px;opacity:1;max-width:100%}
.sk-caret{color:#616061;margin-left:auto;padding-left:8px}
.sk-multi{flex-wrap:wrap;width:100%}
.sk-chip{background:#e8f5fa;border-radius:4px;padding:0 6px;font-size:13px}
.sk-chip-x{color:#616061}
.sk-datetime{display:inline-flex;gap:8px;flex-wrap:wrap}
.sk-icon{font-size:14px}
.sk-choices{display:flex;flex-direction:column;gap:6px}
.sk-choice{display:flex;gap:8px;align-items:flex-start}
.sk-choice input{margin-top:4px}
.sk-choice-desc{font-size:13px;color:#616061}
.sk-input-block{margin:12px 0}
.sk-label{display:block;font-weight:700;margin-bottom:6px}
.sk-optional{font-weight:400;color:#616061}
.sk-hint{font-size:13px;color:#616061;margin-top:4px}
.sk-error{font-size:13px;color:#e01e5a;margin-top:4px}
.sk-has-error .sk-control,.sk-has-error .sk-select{border-color:#e01e5a}
.sk-code{font-family:Monaco,Menlo,Consolas,"Courier New",monospace;font-size:12px;color:#e01e5a;
 background:#f8f8f8;border:1px solid #dddddd;border-radius:3px;padding:1px 3px}
.sk-pre{font-family:Monaco,Menlo,Consolas,"Courier New",monospace;font-size:12px;
 background:#f8f8f8;border:1px solid #dddddd;border-radius:4px;padding:8px;margin:4px 0;
 white-space:pre-wrap;overflow-wrap:anywhere}
.sk-mention{background:#e8f5fa;color:#1264a3;border-radius:3px;padding:0 2px}
.sk-link{color:#1264a3;text-decoration:none}
.sk-quote{margin:4px 0;padding-left:12px;border-left:4px solid #dddddd}
.sk-list{margin:2px 0;padding-left:24px}
.sk-unknown{background:#f0f0f0;border:1px dashed #bbbbbb;border-radius:4px;padding:6px 10px;
 color:#616061;font-size:13px}
.sk-attachment{border-left:4px solid #dddddd;padding-left:10px;margin:4px 0}
.sk-file{display:flex;gap:8px;align-items:center;border:1px solid #dddddd;border-radius:8px;
  padding:8px 10px;margin:4px 0;max-width:360px}
.sk-file-name{font-weight:700}
.sk-file-kind{color:#616061;font-size:12px}
.sk-att-title{font-weight:700}
.sk-modal{border:1px solid #dddddd;border-radius:8px;box-shadow:0 4px 16px rgba(0,0,0,.12);
 background:#fff;overflow:hidden}
.sk-modal-title{display:flex;justify-content:space-between;align-items:center;padding:14px 20px;
 border-bottom:1px solid #dddddd;font-size:20px;font-weight:900}
.sk-modal-x{color:#616061;font-weight:400}
.sk-modal-body{padding:8px 20px}
.sk-modal-footer{display:flex;justify-content:flex-end;gap:8px;padding:12px 20px;
 border-top:1px solid #dddddd}
.sk-home{border:1px solid #dddddd;border-radius:8px;background:#fff;overflow:hidden}
.sk-home-head{display:flex;gap:8px;align-items:center;padding:10px 16px;font-size:15px}
.sk-home-tabs{display:flex;gap:16px;padding:0 16px;border-bottom:1px solid #dddddd}
.sk-tab{padding:6px 2px;color:#616061;font-size:14px}
.sk-tab-active{color:#1d1c1d;font-weight:700;border-bottom:2px solid #611f69}
.sk-home-body{padding:8px 16px}
"""

_KINDS = {"dm", "group", "ephemeral", "modal", "home", "action"}


def _item(item: TimelineItem) -> str:
    kind = item.kind if item.kind in _KINDS else re.sub(r"[^a-z0-9-]", "", str(item.kind).lower())
    only_you = '<div class="sk-only-you">👁 Only visible to you</div>' if kind == "ephemeral" else ""
    return (
        f'<div class="sk-item sk-kind-{kind or "other"}">'
        f'<div class="sk-item-label">{escape(item.at_label)}</div>'
        f'{only_you}<div class="sk-item-body">{item.html}</div>'
        "</div>"
    )


def _column(col: Column) -> str:
    items = sorted(col.items, key=lambda i: i.sort_key)
    body = "".join(_item(i) for i in items) or '<div class="sk-empty">Nothing yet.</div>'
    sub = f'<div class="sk-column-sub">{escape(col.subtitle)}</div>' if col.subtitle else ""
    return (
        '<section class="sk-column">'
        '<div class="sk-column-head">'
        f'<span class="sk-avatar">{escape(initials(col.person_name))}</span>'
        f'<div><div class="sk-column-name">{escape(col.person_name)}</div>{sub}</div></div>'
        f'<div class="sk-column-items">{body}</div>'
        "</section>"
    )


def page(title: str, columns: Sequence[Column], *, subtitle: str = "") -> str:
    """A standalone HTML5 document: header, then one column per person, in order.

    Each column's items are shown in ``sort_key`` order (stable for ties).
    """
    sub = f"<p>{escape(subtitle)}</p>" if subtitle else ""
    cols = "".join(_column(c) for c in columns)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{PAGE_CSS}</style></head>"
        f'<body><header class="sk-page-header"><h1>{escape(title)}</h1>{sub}</header>'
        f'<main class="sk-columns">{cols}</main></body></html>\n'
    )
