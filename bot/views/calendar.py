"""Block Kit for a meeting in people's own calendars, and for suggested times.

The message shows the time with Slack's date token (each reader sees their own zone)
and two link buttons: Google Calendar and Outlook, whose links carry UTC times that
each calendar shows in its reader's zone (``bot.domain.calendar``). The ``.ics`` file
(same module) goes with it as a file upload. Link buttons still send an interaction
payload, which the app acknowledges and ignores (``Action.CALENDAR_LINK``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement

from bot.content import Content
from bot.domain.calendar import CalendarEvent, google_calendar_url, outlook_calendar_url
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


def calendar_message(content: Content, event: CalendarEvent) -> Outgoing:
    """ "Add it to your calendar", with links; for a cancelled meeting, the note that the
    attached file takes it off the calendar."""
    when = slack_date(event.starts_at)
    if event.cancelled:
        text = content.message("calendar_cancelled", when=when)
        return Outgoing(text=text, blocks=[section(text)])
    text = content.message("calendar_added", when=when, minutes=event.minutes)
    blocks: list[Block] = [
        section(text),
        ActionsBlock(
            block_id=f"calendar:{event.meeting_id}",
            elements=[
                ButtonElement(
                    text=content.message("calendar_google_button"),
                    action_id=f"{Action.CALENDAR_LINK}:{GOOGLE}",
                    url=google_calendar_url(event),
                ),
                ButtonElement(
                    text=content.message("calendar_outlook_button"),
                    action_id=f"{Action.CALENDAR_LINK}:{OUTLOOK}",
                    url=outlook_calendar_url(event),
                ),
            ],
        ),
    ]
    return Outgoing(text=text, blocks=blocks)


def slot_blocks(content: Content, slots: Sequence[datetime]) -> list[Block]:
    """Suggested times (``bot.domain.slots.suggest_slots``), each in the reader's zone."""
    if not slots:
        return [section(content.message("slots_none"))]
    lines = "\n".join(f"• {slack_date(when)}" for when in slots)
    return [section(content.message("slots_intro") + "\n" + lines)]
