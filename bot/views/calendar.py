"""Block Kit for a meeting in people's own calendars, and for suggested times.

The message shows the time with Slack's date token (each reader sees their own zone)
and two link buttons: Google Calendar and Outlook, whose links carry UTC times that
each calendar shows in its reader's zone (``bot.domain.calendar``). The ``.ics`` file
(same module) goes just before it as a file upload (``calendar_file``). Link buttons
still send an interaction payload: the app acknowledges it, and tells a person who is
not in the pair, or whose link is for a version of the meeting that changed since
(the button's value: ``bot.buttons.CalendarLink``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.buttons import CalendarLink
from bot.content import Content
from bot.domain.calendar import (
    CalendarEvent,
    google_calendar_url,
    ics_filename,
    meeting_ics,
    outlook_calendar_url,
)
from bot.ids import Action
from bot.views.coaching import Outgoing
from bot.views.common import section, slack_date

GOOGLE, OUTLOOK = "google", "outlook"


def calendar_event(
    content: Content,
    *,
    team_id: str,
    meeting_id: int,
    starts_at: datetime,
    minutes: int,
    sequence: int = 0,
    cancelled: bool = False,
) -> CalendarEvent:
    """The meeting as calendars take it, in the program's words (never a person's)."""
    return CalendarEvent(
        team_id=team_id,
        meeting_id=meeting_id,
        starts_at=starts_at,
        minutes=minutes,
        title=content.message("calendar_title"),
        description=content.message("calendar_description"),
        sequence=sequence,
        cancelled=cancelled,
    )


def calendar_message(content: Content, event: CalendarEvent, *, moved: bool = False) -> Outgoing:
    """ "Add it to your calendar", with links (``moved``: the file above, sent just before,
    moves it where it was added); for a cancelled meeting, the note that the file above
    takes it off."""
    when = slack_date(event.starts_at)
    if event.cancelled:
        text = content.message("calendar_cancelled", when=when)
        return Outgoing(text=text, blocks=[section(text)])
    key = "calendar_moved" if moved else "calendar_added"
    text = content.message(key, when=when, minutes=event.minutes)
    blocks: list[Block] = [section(text), calendar_links(content, event)]
    return Outgoing(text=text, blocks=blocks)


def calendar_links(content: Content, event: CalendarEvent) -> ActionsBlock:
    """The "Add to Google Calendar" and "Add to Outlook" buttons of one meeting: link buttons (Slack
    opens the URL and still sends the app a block_actions payload, which it acks). The
    value names the meeting and the version the link is for (``bot.buttons``)."""
    value = CalendarLink(event.meeting_id, event.sequence).value
    return ActionsBlock(
        block_id=f"calendar:{event.meeting_id}",
        elements=[
            ButtonElement(
                text=content.message("calendar_google_button"),
                action_id=f"{Action.CALENDAR_LINK}:{GOOGLE}",
                url=google_calendar_url(event),
                value=value,
            ),
            ButtonElement(
                text=content.message("calendar_outlook_button"),
                action_id=f"{Action.CALENDAR_LINK}:{OUTLOOK}",
                url=outlook_calendar_url(event),
                value=value,
            ),
        ],
    )


@dataclass(frozen=True)
class CalendarFile:
    content: bytes
    filename: str
    title: str


def calendar_file(content: Content, event: CalendarEvent, *, stamp: datetime) -> CalendarFile:
    """The ``.ics`` upload of one meeting version; ``stamp`` (its DTSTAMP) is send time."""
    return CalendarFile(
        content=meeting_ics(event, stamp=stamp),
        filename=ics_filename(event),
        # No time in the title: a file's title cannot show each reader's own zone.
        title=event.title,
    )


def event_of(content: Content, team_id: str, entry: dict[str, Any]) -> CalendarEvent:
    """A calendar event from an outbox payload's entry (``outgoing.calendar_entry``)."""
    return calendar_event(
        content,
        team_id=team_id,
        meeting_id=int(entry["meeting_id"]),
        starts_at=datetime.fromisoformat(entry["starts_at"]),
        minutes=int(entry["minutes"]),
        sequence=int(entry.get("sequence") or 0),
        cancelled=bool(entry.get("cancelled")),
    )


def slot_blocks(content: Content, slots: Sequence[datetime]) -> list[Block]:
    """Suggested times (``bot.domain.slots.suggest_slots``), each in the reader's zone."""
    if not slots:
        return [section(content.message("slots_none"))]
    lines = "\n".join(f"• {slack_date(when)}" for when in slots)
    return [section(content.message("slots_intro") + "\n" + lines)]
