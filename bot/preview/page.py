"""Turning the demo's timeline into one Slack-like page: a column per person, in time order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from bot.content import Content
from bot.preview.mrkdwn import escape
from bot.preview.render import (
    Column,
    TimelineItem,
    page,
    render_home,
    render_message,
    render_modal,
)

KIND_LABELS = {
    "dm": "DM from Mentor Bot",
    "group": "group DM",
    "ephemeral": "only visible to you",
    "modal": "modal",
    "home": "App Home",
    "action": "you",
}


def build_page(events: Sequence[Any], cast: Sequence[Any], *, content: Content) -> str:
    users = {person.user_id: person.real_name for person in cast}
    users["U0BOT"] = "Mentor Bot"
    columns = []
    for person in cast:
        zone = ZoneInfo(person.tz)
        items = []
        for index, event in enumerate(e for e in events if e.user_id == person.user_id):
            local = event.at.astimezone(zone)
            label = f"{local.strftime('%a %d %b, %H:%M')} (your time) · {KIND_LABELS[event.kind]}"
            items.append(
                TimelineItem(
                    at_label=label,
                    kind=event.kind,
                    html=_render(event, users=users, reader_tz=person.tz),
                    sort_key=event.at.timestamp() + index * 1e-6,
                )
            )
        columns.append(
            Column(
                person_name=person.real_name,
                subtitle=f"{person.role} · {person.tz}",
                items=items,
            )
        )
    return page(
        "Mentor Bot — a mentoring program, as Slack shows it",
        columns,
        subtitle=f"{len(events)} things shown to {len(cast)} people; "
        "each column in its own time zone",
    )


def _render(event: Any, *, users: dict[str, str], reader_tz: str) -> str:
    payload = event.payload or {}
    now = event.at
    if event.kind == "action":
        return escape(f"You {event.summary}")
    if event.kind == "modal":
        return render_modal(payload, users=users, reader_tz=reader_tz, now=now)
    if event.kind == "home":
        return render_home(payload, users=users, reader_tz=reader_tz, now=now)
    message = dict(payload)
    # The emulator stamps messages with the wall clock; readers should see program time.
    message["ts"] = f"{event.at.timestamp():.6f}"
    return render_message(message, users=users, reader_tz=reader_tz, now=now)
