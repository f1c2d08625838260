"""A meeting for people's own calendars: an ``.ics`` file and "add to calendar" links.

The bot has no calendar access, so it hands each person the meeting in the forms
their calendar takes in:

* **An iCalendar file** (RFC 5545), built with the ``icalendar`` library. Its UID is
  stable per meeting (a hash of workspace and meeting id, naming no one), and its
  SEQUENCE rises with every move or cancellation (``Meeting.calendar_sequence``), so a
  calendar that imported it replaces its copy: ``METHOD:REQUEST`` for a meeting that
  stands, ``METHOD:CANCEL`` with ``STATUS:CANCELLED`` for one that was called off
  (iTIP, RFC 5546 §3.2.2 and §3.2.5).
* **A Google Calendar link**: ``calendar/render?action=TEMPLATE&text=…&dates=…``, with
  times in UTC ending in ``Z``, which Google documents as "interpreted for the user's
  time zone" (Google Calendar event publisher guide).
* **An Outlook link** (Microsoft 365 and Outlook on the web):
  ``outlook.office.com/calendar/deeplink/compose?path=/calendar/action/compose&rru=addevent``
  with ``startdt``/``enddt`` in UTC ending in ``Z``. Microsoft publishes no reference
  for it; the parameters are those recorded by the add-event-to-calendar-docs project.

Every time leaves here in UTC: each calendar shows it in its reader's own zone. The
words are the program's (content), never anything a person typed. No Slack, no clock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlencode

from icalendar import Calendar, Event, vCalAddress, vText

PRODID = "-//Mentor Bot//Mentoring meetings//EN"
UID_DOMAIN = "mentor-bot"
# iTIP asks for an ORGANIZER on REQUEST and CANCEL. The bot organises, and answers no
# mail: ".invalid" is reserved (RFC 2606), so no reply can reach anyone by mistake.
ORGANIZER = "mailto:no-reply@mentor-bot.invalid"
GOOGLE_URL = "https://calendar.google.com/calendar/render"
OUTLOOK_URL = "https://outlook.office.com/calendar/deeplink/compose"
REQUEST, CANCEL = "REQUEST", "CANCEL"


@dataclass(frozen=True)
class CalendarEvent:
    team_id: str
    meeting_id: int
    starts_at: datetime
    minutes: int
    title: str
    description: str = ""
    sequence: int = 0
    cancelled: bool = False

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def uid(self) -> str:
        return meeting_uid(self.team_id, self.meeting_id)


def meeting_uid(team_id: str, meeting_id: int) -> str:
    """The same for every version of one meeting, and different for every other."""
    digest = hashlib.sha256(f"{team_id}:{meeting_id}".encode()).hexdigest()[:32]
    return f"{digest}@{UID_DOMAIN}"


def _utc(when: datetime) -> datetime:
    if when.tzinfo is None:
        raise ValueError("pass an aware datetime")
    return when.astimezone(UTC)


def meeting_ics(event: CalendarEvent, *, stamp: datetime) -> bytes:
    """The ``.ics`` for one meeting; ``stamp`` (DTSTAMP) is when it was made."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", CANCEL if event.cancelled else REQUEST)
    vevent = Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", _utc(stamp))
    vevent.add("dtstart", _utc(event.starts_at))
    vevent.add("dtend", _utc(event.ends_at))
    vevent.add("sequence", event.sequence)
    vevent.add("summary", event.title)
    if event.description:
        vevent.add("description", event.description)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    organizer = vCalAddress(ORGANIZER)
    organizer.params["cn"] = vText("Mentor Bot")
    vevent.add("organizer", organizer)
    calendar.add_component(vevent)
    return calendar.to_ical()


def ics_filename(event: CalendarEvent) -> str:
    return f"mentoring-meeting-{event.meeting_id}{'-cancelled' if event.cancelled else ''}.ics"


def google_calendar_url(event: CalendarEvent) -> str:
    start, end = _utc(event.starts_at), _utc(event.ends_at)
    params = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
    }
    if event.description:
        params["details"] = event.description
    return f"{GOOGLE_URL}?{urlencode(params, quote_via=quote)}"


def outlook_calendar_url(event: CalendarEvent) -> str:
    start, end = _utc(event.starts_at), _utc(event.ends_at)
    params = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}",
        "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
    }
    if event.description:
        params["body"] = event.description
    return f"{OUTLOOK_URL}?{urlencode(params, quote_via=quote)}"


def next_sequence(current: int) -> int:
    """The SEQUENCE after a move or a cancellation."""
    return current + 1
