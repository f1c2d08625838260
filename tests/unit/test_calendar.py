"""A meeting for people's own calendars: the .ics (read back with icalendar), the Google
and Outlook links, the Slack message, and the SEQUENCE kept in the store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from icalendar import Calendar

from bot.domain.calendar import (
    CalendarEvent,
    google_calendar_url,
    ics_filename,
    meeting_ics,
    meeting_uid,
    next_sequence,
    outlook_calendar_url,
)
from bot.ids import Action
from bot.store import calendar as store
from bot.store.db import Database
from bot.store.models import Meeting, Pair
from bot.views.calendar import calendar_event, calendar_message, slot_blocks
from bot.views.common import as_dicts
from slackemu.limits import validate_message_blocks
from tests.conftest import all_text

STAMP = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
START = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)


def event(**kw) -> CalendarEvent:
    values = {
        "team_id": "T1",
        "meeting_id": 42,
        "starts_at": START,
        "minutes": 45,
        "title": "Mentoring meeting",
        "description": "Set in Slack; prep comes the day before.",
    }
    values.update(kw)
    return CalendarEvent(**values)


def read(ics: bytes):
    calendar = Calendar.from_ical(ics)
    [vevent] = calendar.walk("VEVENT")
    return calendar, vevent


def test_ics_for_a_meeting_reads_back():
    calendar, vevent = read(meeting_ics(event(), stamp=STAMP))
    assert str(calendar["METHOD"]) == "REQUEST"
    assert str(calendar["VERSION"]) == "2.0" and "Mentor Bot" in str(calendar["PRODID"])
    assert vevent.decoded("DTSTART") == START
    assert vevent.decoded("DTEND") == START + timedelta(minutes=45)
    assert vevent.decoded("DTSTAMP") == STAMP
    assert str(vevent["STATUS"]) == "CONFIRMED" and int(vevent["SEQUENCE"]) == 0
    assert str(vevent["SUMMARY"]) == "Mentoring meeting"
    assert str(vevent["UID"]) == meeting_uid("T1", 42)
    assert "mailto:" in str(vevent["ORGANIZER"])
    assert b"DTSTART:20260310T170000Z" in meeting_ics(event(), stamp=STAMP)


def test_a_moved_meeting_keeps_its_uid_and_raises_the_sequence():
    first = read(meeting_ics(event(), stamp=STAMP))[1]
    moved = read(
        meeting_ics(
            event(starts_at=START + timedelta(days=1), sequence=next_sequence(0)), stamp=STAMP
        )
    )[1]
    assert moved["UID"] == first["UID"]
    assert int(moved["SEQUENCE"]) == 1 > int(first["SEQUENCE"])


def test_a_cancelled_meeting_is_a_cancel():
    ics = meeting_ics(event(cancelled=True, sequence=2), stamp=STAMP)
    calendar, vevent = read(ics)
    assert str(calendar["METHOD"]) == "CANCEL"
    assert str(vevent["STATUS"]) == "CANCELLED" and int(vevent["SEQUENCE"]) == 2
    assert ics_filename(event(cancelled=True)).endswith("-cancelled.ics")


def test_uids_differ_per_meeting_and_workspace_and_name_no_one():
    uids = {meeting_uid("T1", 1), meeting_uid("T1", 2), meeting_uid("T2", 1)}
    assert len(uids) == 3
    assert all("T1" not in uid and uid.endswith("@mentor-bot") for uid in uids)


def test_google_link_carries_utc_times_for_the_readers_zone():
    url = urlsplit(google_calendar_url(event()))
    assert (url.scheme, url.netloc, url.path) == (
        "https",
        "calendar.google.com",
        "/calendar/render",
    )
    query = parse_qs(url.query)
    assert query["action"] == ["TEMPLATE"]
    assert query["dates"] == ["20260310T170000Z/20260310T174500Z"]
    assert query["text"] == ["Mentoring meeting"]
    assert query["details"] == ["Set in Slack; prep comes the day before."]


def test_outlook_link_carries_utc_times_for_the_readers_zone():
    url = urlsplit(
        outlook_calendar_url(
            event(starts_at=datetime(2026, 3, 10, 12, 0, tzinfo=UTC) + timedelta(hours=5))
        )
    )
    assert url.netloc == "outlook.office.com" and url.path == "/calendar/deeplink/compose"
    query = parse_qs(url.query)
    assert query["path"] == ["/calendar/action/compose"] and query["rru"] == ["addevent"]
    assert query["startdt"] == ["2026-03-10T17:00:00Z"]
    assert query["enddt"] == ["2026-03-10T17:45:00Z"]
    assert query["subject"] == ["Mentoring meeting"]


def test_slack_message_shows_the_date_token_and_link_buttons(content):
    cal = calendar_event(content, team_id="T1", meeting_id=42, starts_at=START, minutes=45)
    assert cal.title == content.message("calendar_title")
    blocks = as_dicts(calendar_message(content, cal).blocks)
    assert validate_message_blocks(blocks) == []
    assert f"<!date^{int(START.timestamp())}^" in all_text(blocks)
    buttons = blocks[1]["elements"]
    assert [b["action_id"] for b in buttons] == [
        f"{Action.CALENDAR_LINK}:google",
        f"{Action.CALENDAR_LINK}:outlook",
    ]
    assert buttons[0]["url"] == google_calendar_url(cal)
    cancelled = calendar_message(
        content,
        calendar_event(
            content,
            team_id="T1",
            meeting_id=42,
            starts_at=START,
            minutes=45,
            cancelled=True,
            sequence=1,
        ),
    )
    assert len(cancelled.blocks) == 1 and "cancelled" in cancelled.text


def test_slot_lines(content):
    blocks = as_dicts(slot_blocks(content, [START, START + timedelta(days=14)]))
    assert validate_message_blocks(blocks) == []
    assert all_text(blocks).count("<!date^") == 2


def test_sequence_rises_in_the_store(db: Database):
    with db.session() as session:
        pair = Pair(
            team_id="T1",
            mentor_id="UA",
            mentee_id="UB",
            inviter_id="UA",
            status="active",
            created_at=STAMP,
            accepted_at=STAMP,
        )
        session.add(pair)
        session.flush()
        meeting = Meeting(
            team_id="T1", pair_id=pair.id, starts_at=START, minutes=45, number=1, created_at=STAMP
        )
        session.add(meeting)
        session.flush()
        assert meeting.calendar_sequence == 0
        assert store.bump_sequence(session, team_id="T1", meeting_id=meeting.id) == 1
        assert store.bump_sequence(session, team_id="T1", meeting_id=meeting.id) == 2
        assert store.bump_sequence(session, team_id="T2", meeting_id=meeting.id) is None
