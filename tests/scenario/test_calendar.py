"""Scheduling help without calendar access, through Slack: the schedule modal suggests
times inside both people's working days at the pair's cadence, and every confirmed,
moved or cancelled meeting comes to the pair's group DM as an ``.ics`` file (read back
with icalendar) beside links that add it to Google Calendar or Outlook."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from icalendar import Calendar
from sqlalchemy import select

from bot.domain.calendar import meeting_uid
from bot.ids import MEETING_BLOCKS, Action, Block
from bot.store.models import Meeting, Pair, PairAgreement, Person
from slackemu import Input
from tests.conftest import MENTEE, MENTOR, STRANGER, Harness, all_text
from tests.scenario.test_coaching import pair_up, schedule

BERLIN_USER = "UBERTA0008"
LA, BERLIN = ZoneInfo("America/Los_Angeles"), ZoneInfo("Europe/Berlin")


def team_of(h: Harness) -> str:
    return h.slack.team_id


def file_messages(h: Harness, group: str) -> list[dict]:
    return [m for m in h.slack.messages_in(group) if m.get("files")]


def read_ics(h: Harness, file: dict) -> tuple[Calendar, object]:
    assert file["name"].endswith(".ics") and file["mimetype"] == "text/calendar"
    calendar = Calendar.from_ical(h.slack.file_content(file["id"]))
    [event] = calendar.walk("VEVENT")
    return calendar, event


def meetings(h: Harness) -> list[Meeting]:
    with h.db.session() as s:
        return list(s.scalars(select(Meeting).order_by(Meeting.number)))


def link_buttons(message: dict, meeting_id: int) -> dict[str, str]:
    [block] = [b for b in message["blocks"] if b.get("block_id") == f"calendar:{meeting_id}"]
    return {el["action_id"]: el["url"] for el in block["elements"]}


def test_every_confirmed_moved_or_cancelled_meeting_comes_with_its_ics(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    first = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    times = [first, first + timedelta(days=7), first + timedelta(days=14)]
    response = schedule(h, group, times)
    assert response.status == 200 and not response.body
    team = team_of(h)
    one, two, three = meetings(h)

    # One message with three .ics files, shared in the pair's group DM (files.uploadV2),
    # then the confirmation that explains them and carries each meeting's links.
    [shared] = file_messages(h, group)
    confirmation = h.slack.messages_in(group)[-1]
    assert float(confirmation["ts"]) > float(shared["ts"]) and "files above" in all_text(
        confirmation
    )
    upload = h.slack.calls_to("files.completeUploadExternal")[-1]
    assert upload.args["channel_id"] == group
    assert len(shared["files"]) == 3
    for file, meeting, starts in zip(shared["files"], (one, two, three), times, strict=True):
        calendar, event = read_ics(h, file)
        assert str(calendar["METHOD"]) == "REQUEST"
        assert str(event["UID"]) == meeting_uid(team, meeting.id)
        # DTSTART in UTC ("Z"): each calendar shows it in its reader's own zone.
        assert event.decoded("DTSTART") == starts
        assert f"DTSTART:{starts:%Y%m%dT%H%M%S}Z".encode() in h.slack.file_content(file["id"])
        assert event.decoded("DTEND") == starts + timedelta(minutes=45)
        assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
        # Each reader sees the time in their own zone: a Slack date token, UTC links.
        assert f"<!date^{int(starts.timestamp())}^" in all_text(confirmation)
        links = link_buttons(confirmation, meeting.id)
        google = parse_qs(urlsplit(links[f"{Action.CALENDAR_LINK}:google"]).query)
        end = starts + timedelta(minutes=45)
        assert google["dates"] == [f"{starts:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"]
        outlook = parse_qs(urlsplit(links[f"{Action.CALENDAR_LINK}:outlook"]).query)
        assert outlook["startdt"] == [f"{starts:%Y-%m-%dT%H:%M:%SZ}"]
    # No person's name or words go into a calendar file.
    ics_text = b"".join(h.slack.file_content(f["id"]) or b"" for f in shared["files"])
    assert MENTOR.encode() not in ics_text and b"Alice" not in ics_text

    # Link buttons open their URL in the browser; Slack still sends the press, which is
    # acknowledged with nothing said and nothing changed.
    mark = h.slack.mark()
    for service in ("google", "outlook"):
        pressed = h.click(
            MENTEE, confirmation, f"{Action.CALENDAR_LINK}:{service}", block_id=f"calendar:{one.id}"
        )
        assert pressed.status == 200 and not pressed.body
    assert h.ephemeral_texts(mark) == [] and h.slack.calls[mark:] == []

    # Moving meeting 2: the same UID at SEQUENCE 1, the new time, links for the new time.
    moved_to = times[1] + timedelta(days=2, hours=1)
    h.click(MENTOR, confirmation, f"{Action.MOVE_MEETING}:{two.id}", value=f"move:{two.id}")
    view = h.driver.last_view_opened(MENTOR)
    h.submit(
        MENTOR, view, {Block.MEETING_TIME: {"value": Input.datetime(int(moved_to.timestamp()))}}
    )
    *_, moved_file, moved_note = h.slack.messages_in(group)
    [file] = moved_file["files"]
    calendar, event = read_ics(h, file)
    assert str(calendar["METHOD"]) == "REQUEST" and str(event["STATUS"]) == "CONFIRMED"
    assert str(event["UID"]) == meeting_uid(team, two.id)
    assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART") == moved_to
    assert "moved the meeting of" in moved_note["text"]
    google = parse_qs(
        urlsplit(link_buttons(moved_note, two.id)[f"{Action.CALENDAR_LINK}:google"]).query
    )
    assert google["dates"][0].startswith(f"{moved_to:%Y%m%dT%H%M%SZ}/")

    # The first message's link is for the old time: a press is told it moved since.
    google_old = f"{Action.CALENDAR_LINK}:google"
    mark = h.slack.mark()
    h.click(MENTOR, confirmation, google_old, block_id=f"calendar:{two.id}")
    assert any("moved since" in text for text in h.ephemeral_texts(mark))
    # Someone outside the pair pressing a link (a forged payload) is refused.
    mark = h.slack.mark()
    h.click(STRANGER, confirmation, google_old, block_id=f"calendar:{one.id}")
    assert any("not part of" in text for text in h.ephemeral_texts(mark))

    # Cancelling it: METHOD:CANCEL, STATUS:CANCELLED, same UID, SEQUENCE higher again.
    h.click(MENTEE, confirmation, f"{Action.MOVE_MEETING}:{two.id}", value=f"cancel:{two.id}")
    *_, cancel_file, cancel_note = h.slack.messages_in(group)
    calendar, event = read_ics(h, cancel_file["files"][0])
    assert cancel_file["files"][0]["name"].endswith("-cancelled.ics")
    assert str(calendar["METHOD"]) == "CANCEL" and str(event["STATUS"]) == "CANCELLED"
    assert str(event["UID"]) == meeting_uid(team, two.id) and int(event["SEQUENCE"]) == 2
    assert "cancelled the meeting" in cancel_note["text"]
    assert "file above" in all_text(cancel_note)
    with h.db.session() as s:
        assert s.get(Meeting, two.id).calendar_sequence == 2
        assert s.get(Meeting, one.id).calendar_sequence == 0
    mark = h.slack.mark()
    h.click(MENTEE, moved_note, google_old, block_id=f"calendar:{two.id}")
    assert any("cancelled since" in text for text in h.ephemeral_texts(mark))

    # Ending the pair calls off the meetings still ahead in people's calendars too.
    end = h.slash(MENTOR, "end")
    h.click(MENTOR, {"ts": "0", "blocks": end.json["blocks"]}, Action.END_CONFIRM, channel=group)
    ended_files = file_messages(h, group)[-1]["files"]
    assert len(ended_files) == 2
    for file, meeting in zip(ended_files, (one, three), strict=True):
        calendar, event = read_ics(h, file)
        assert str(calendar["METHOD"]) == "CANCEL" and int(event["SEQUENCE"]) == 1
        assert str(event["UID"]) == meeting_uid(team, meeting.id)
    assert "ended" in h.slack.messages_in(group)[-1]["text"].lower()
    # Four uploads in all, none of them doubled.
    assert len(h.slack.calls_to("files.completeUploadExternal")) == 4


def _local_minutes(when: datetime, zone: ZoneInfo) -> int:
    local = when.astimezone(zone)
    return local.hour * 60 + local.minute


def _inside(when: datetime, minutes: int, zone: ZoneInfo, start: int, end: int) -> bool:
    local_start, local_end = (
        when.astimezone(zone),
        (when + timedelta(minutes=minutes)).astimezone(zone),
    )
    return (
        local_start.weekday() < 5
        and local_start.date() == local_end.date()
        and start <= _local_minutes(when, zone)
        and _local_minutes(when + timedelta(minutes=minutes), zone) <= end
    )


def suggestions(h: Harness, group: str) -> tuple[dict, list[datetime]]:
    kickoff = next(
        m
        for m in h.slack.messages_in(group)
        if any(
            el.get("action_id") == Action.OPEN_SCHEDULE
            for b in m.get("blocks") or []
            for el in b.get("elements") or []
        )
    )
    h.click(MENTOR, kickoff, Action.OPEN_SCHEDULE)
    view = h.driver.last_view_opened(MENTOR)
    assert view["callback_id"] == "schedule_modal"
    pickers = {b["block_id"]: b["element"] for b in view["blocks"] if b["type"] == "input"}
    times = [
        datetime.fromtimestamp(pickers[block]["initial_date_time"], UTC)
        for block in MEETING_BLOCKS
        if "initial_date_time" in pickers[block]
    ]
    return view, times


def test_schedule_modal_suggests_times_inside_both_working_days_at_the_cadence(
    harness: Harness,
) -> None:
    h = harness
    h.slack.add_user(BERLIN_USER, name="berta", real_name="Berta Mentee", tz="Europe/Berlin")
    # The mentor in Los Angeles gave the pool her hours: 07:00–12:00. The mentee in
    # Berlin never signed up: 09:00–17:00 in her Slack time zone.
    h.slash(MENTOR, "join")
    h.submit(
        MENTOR,
        h.driver.last_view_opened(MENTOR),
        {
            Block.JOIN_ROLE: {"value": Input.radio("mentor")},
            Block.JOIN_TOPICS: {"value": Input.multi_static_select(["leadership"])},
            Block.JOIN_START: {"value": Input.time("07:00")},
            Block.JOIN_END: {"value": Input.time("12:00")},
        },
    )
    h.slash(MENTOR, f"start <@{BERLIN_USER}|berta>")
    h.click(BERLIN_USER, h.last_dm(BERLIN_USER), Action.ACCEPT_INVITE)
    group = h.slack.wait_for("conversations.open").response["channel"]["id"]
    with h.db.session() as s:
        zones = dict(s.execute(select(Person.user_id, Person.tz)).all())
    assert zones[MENTOR] == "America/Los_Angeles" and zones[BERLIN_USER] == "Europe/Berlin"
    now = h.clock.now

    def check(times: list[datetime], gap_days: int, after: datetime) -> None:
        assert len(times) == 3
        for when in times:
            assert _inside(when, 45, LA, 7 * 60, 12 * 60), when.astimezone(LA)
            assert _inside(when, 45, BERLIN, 9 * 60, 17 * 60), when.astimezone(BERLIN)
        assert times[0] >= after
        for earlier, later in zip(times, times[1:], strict=False):
            # One cadence step apart (a day either way when the only overlap moves).
            assert timedelta(days=gap_days - 1) <= later - earlier <= timedelta(days=gap_days + 1)

    # No agreement yet: fortnightly. The US moves its clocks on 8 March and Europe on 29
    # March, so the overlap moves between suggestions; each one still fits both days.
    view, times = suggestions(h, group)
    check(times, 14, now + timedelta(hours=24))
    intro = all_text(view["blocks"])
    assert "both your working hours" in intro
    assert all(f"<!date^{int(t.timestamp())}^" in intro for t in times)

    # They agreed to meet weekly (the goals form writes this row).
    with h.db.session() as s:
        pair_id = s.scalar(select(Pair.id).where(Pair.mentee_id == BERLIN_USER))
        s.add(
            PairAgreement(
                team_id=team_of(h),
                pair_id=pair_id,
                cadence="weekly",
                contact="",
                confidential="",
                created_at=now,
                updated_at=now,
            )
        )
    view, weekly = suggestions(h, group)
    check(weekly, 7, now + timedelta(hours=24))

    # Saved as suggested: the next suggestions come a week after the last of them, clear
    # of every meeting already set.
    response = h.submit(
        MENTOR,
        view,
        {
            block: {"value": Input.datetime(int(t.timestamp()))}
            for block, t in zip(MEETING_BLOCKS, weekly, strict=True)
        }
        | {Block.LENGTH: {"value": Input.plain_text(None)}},
    )
    assert response.status == 200 and not response.body
    _, later = suggestions(h, group)
    check(later, 7, weekly[-1] + timedelta(days=6))
    set_ = {(m.starts_at, m.minutes) for m in meetings(h)}
    for when in later:
        assert all(
            when + timedelta(minutes=45) <= s or when >= s + timedelta(minutes=m) for s, m in set_
        )


def test_no_overlap_leaves_the_pickers_empty_and_says_so(harness: Harness) -> None:
    """Los Angeles 09:00–17:00 and Kolkata 09:00–17:00 (the harness's mentor and mentee,
    neither in the pool) never meet on a working day."""
    h = harness
    group = pair_up(h)
    view, times = suggestions(h, group)
    assert times == []
    assert "couldn't find a time" in all_text(view["blocks"])


def test_a_failed_upload_is_retried_alone_and_never_doubled(harness: Harness) -> None:
    """The .ics is a row of its own: Slack failing the upload repeats neither the
    confirmation nor a file already shared; the next pass shares it, once."""
    h = harness
    group = pair_up(h)
    first = datetime(2026, 3, 4, 16, 0, tzinfo=UTC)
    h.slack.inject("files.completeUploadExternal", error="internal_error")
    schedule(h, group, [first, first + timedelta(days=7), first + timedelta(days=14)])
    confirmations = [m for m in h.slack.messages_in(group) if "files above" in all_text(m)]
    assert len(confirmations) == 1 and file_messages(h, group) == []
    h.tick(h.clock.now + timedelta(minutes=2))
    h.tick(h.clock.now + timedelta(minutes=5))
    [shared] = file_messages(h, group)
    assert len(shared["files"]) == 3
    assert [m for m in h.slack.messages_in(group) if "files above" in all_text(m)] == confirmations
    assert len(h.slack.calls_to("files.completeUploadExternal")) == 2  # the failure, then once
