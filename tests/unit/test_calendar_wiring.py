"""Calendars wired in: the outbox rows of calendar files, the messages that carry the
links (rendered from their payloads, within Slack's limits), the .ics built at send time,
and the store's reads behind the schedule modal's suggestions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from icalendar import Calendar

from bot import outgoing
from bot.domain.calendar import meeting_uid
from bot.ids import Action
from bot.scheduling.render import render
from bot.services import calendar as service
from bot.store import calendar as store
from bot.store.db import Database
from bot.store.models import Meeting, Pair, PairAgreement, Person, PoolMember
from bot.store.outbox import ClaimedMessage, PlannedMessage
from bot.views.calendar import calendar_file, event_of
from slackemu import limits
from tests.conftest import all_text

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # a Monday
START = datetime(2026, 3, 10, 17, 0, tzinfo=UTC)
TEAM = "T1"


def claimed(planned: PlannedMessage) -> ClaimedMessage:
    return ClaimedMessage(
        id=1,
        team_id=planned.team_id,
        key=planned.key,
        kind=planned.kind,
        recipient=planned.recipient,
        due_at=planned.due_at,
        pair_id=planned.pair_id,
        meeting_id=planned.meeting_id,
        payload=dict(planned.payload or {}),
        attempts=1,
    )


def entry(meeting_id: int, sequence: int = 0, cancelled: bool = False) -> dict[str, Any]:
    return outgoing.calendar_entry(
        meeting_id=meeting_id,
        starts_at=START + timedelta(days=7 * meeting_id),
        minutes=45,
        sequence=sequence,
        cancelled=cancelled,
    )


def test_a_calendar_file_row_per_version_to_the_group_dm() -> None:
    new = outgoing.calendar_file(team_id=TEAM, pair_id=3, events=[entry(1), entry(2)], now=NOW)
    assert new.recipient == "pair:3" and new.kind == outgoing.CALENDAR_FILE
    assert new.meeting_id is None  # several meetings: none names the row
    moved = outgoing.calendar_file(team_id=TEAM, pair_id=3, events=[entry(1, 1)], now=NOW)
    again = outgoing.calendar_file(team_id=TEAM, pair_id=3, events=[entry(1, 1)], now=NOW)
    assert moved.key == again.key != new.key  # one version is planned once
    assert moved.meeting_id == 1  # a cancellation before it goes out skips it
    cancel = outgoing.calendar_file(
        team_id=TEAM, pair_id=3, events=[entry(1, 2, cancelled=True)], now=NOW
    )
    assert cancel.meeting_id is None and cancel.key != moved.key  # never skipped
    many = outgoing.calendar_file(
        team_id=TEAM, pair_id=3, events=[entry(n) for n in range(100_000, 100_040)], now=NOW
    )
    assert len(many.key) <= 200  # the key column's size


def test_the_ics_is_built_from_the_payload_at_send_time(content: Any) -> None:
    event = event_of(content, TEAM, entry(2, sequence=3))
    upload = calendar_file(content, event, stamp=NOW + timedelta(hours=1))
    parsed = Calendar.from_ical(upload.content)
    [vevent] = parsed.walk("VEVENT")
    assert vevent.decoded("DTSTART") == START + timedelta(days=14)
    assert vevent.decoded("DTSTAMP") == NOW + timedelta(hours=1)
    assert int(vevent["SEQUENCE"]) == 3 and str(vevent["UID"]) == meeting_uid(TEAM, 2)
    assert upload.filename == "mentoring-meeting-2.ics"
    assert upload.title == content.message("calendar_title")
    cancelled = calendar_file(
        content, event_of(content, TEAM, entry(2, 4, cancelled=True)), stamp=NOW
    )
    assert str(Calendar.from_ical(cancelled.content)["METHOD"]) == "CANCEL"


def _rendered(content: Any, planned: PlannedMessage) -> list[dict]:
    out = render(content, claimed(planned))
    blocks = [b.to_dict() for b in out.blocks]
    assert limits.validate_message_blocks(blocks) == []
    assert not limits.validate_message_text(out.text)
    return blocks


def _links(blocks: list[dict]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for block in blocks:
        for el in block.get("elements") or []:
            if str(el.get("action_id", "")).startswith(Action.CALENDAR_LINK):
                found.setdefault(block["block_id"], []).append(el["url"])
    return found


def test_the_confirmation_carries_each_meetings_links(content: Any) -> None:
    meetings = [[5 + n, n + 1, (START + timedelta(days=7 * n)).isoformat(), 45] for n in range(3)]
    blocks = _rendered(
        content,
        outgoing.to_group(
            outgoing.SCHEDULE_CONFIRMED,
            team_id=TEAM,
            pair_id=1,
            now=NOW,
            payload={"meetings": meetings},
        ),
    )
    links = _links(blocks)
    assert sorted(links) == ["calendar:5", "calendar:6", "calendar:7"]
    assert all(len(urls) == 2 for urls in links.values())
    # Each link block sits right under its meeting's line (with its ⋯ menu).
    ids = [b.get("block_id") for b in blocks]
    assert ids.index("calendar:6") == ids.index("meeting:6") + 1
    assert content.message("calendar_files_note").split(":")[-1].strip()[:20] in all_text(blocks)


def test_a_moved_meeting_shows_new_links_a_cancelled_one_none(content: Any) -> None:
    moved_to = START + timedelta(days=2)
    common = {"team_id": TEAM, "pair_id": 1, "now": NOW}
    moved = _rendered(
        content,
        outgoing.to_group(
            outgoing.MEETING_CHANGED,
            payload={
                "starts_at": moved_to.isoformat(),
                "cancelled": False,
                "by": "UA",
                "meeting_id": 9,
                "minutes": 30,
                "sequence": 1,
            },
            **common,
        ),
    )
    [google, _outlook] = _links(moved)["calendar:9"]
    end = moved_to + timedelta(minutes=30)
    assert parse_qs(urlsplit(google).query)["dates"] == [
        f"{moved_to:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"
    ]
    cancelled = _rendered(
        content,
        outgoing.to_group(
            outgoing.MEETING_CHANGED,
            payload={
                "starts_at": moved_to.isoformat(),
                "cancelled": True,
                "by": "UA",
                "meeting_id": 9,
                "minutes": 30,
                "sequence": 2,
            },
            **common,
        ),
    )
    assert _links(cancelled) == {} and "file above" in all_text(cancelled)
    # A row planned before calendar files existed renders as it did.
    old = _rendered(
        content,
        outgoing.to_group(
            outgoing.MEETING_CHANGED,
            payload={"starts_at": moved_to.isoformat(), "cancelled": False, "by": "UA"},
            **common,
        ),
    )
    assert len(old) == 1


def _pair(session: Any, mentor: str, mentee: str, status: str = "active") -> Pair:
    pair = Pair(
        team_id=TEAM,
        mentor_id=mentor,
        mentee_id=mentee,
        inviter_id=mentor,
        status=status,
        created_at=NOW,
        accepted_at=NOW,
    )
    session.add(pair)
    session.flush()
    return pair


def _meeting(session: Any, pair: Pair, starts: datetime, status: str = "scheduled") -> Meeting:
    meeting = Meeting(
        team_id=TEAM,
        pair_id=pair.id,
        starts_at=starts,
        minutes=60,
        number=1,
        status=status,
        created_at=NOW,
    )
    session.add(meeting)
    session.flush()
    return meeting


def test_the_store_reads_hours_meetings_and_the_latest_meeting(db: Database) -> None:
    with db.session() as s:
        s.add(Person(team_id=TEAM, user_id="UA", tz="America/Los_Angeles"))
        s.add(Person(team_id=TEAM, user_id="UB", tz="Europe/Berlin"))
        s.add(
            PoolMember(
                team_id=TEAM,
                user_id="UA",
                roles="mentor",
                work_start=7 * 60,
                work_end=12 * 60,
                joined_at=NOW,
                updated_at=NOW,
            )
        )
        pair = _pair(s, "UA", "UB")
        other = _pair(s, "UA", "UC")  # UA's other pair: its meetings keep UA busy
        ended = _pair(s, "UB", "UD", status="ended")
        _meeting(s, pair, NOW + timedelta(days=3))
        _meeting(s, pair, NOW + timedelta(days=9), status="cancelled")
        _meeting(s, other, NOW + timedelta(days=4))
        _meeting(s, other, NOW - timedelta(minutes=30))  # still running at NOW
        _meeting(s, other, NOW - timedelta(days=2))  # over
        _meeting(s, ended, NOW + timedelta(days=5))
        s.flush()
        hours = store.working_hours(s, team_id=TEAM, user_ids=("UA", "UB", "UZ"))
        assert [(h.user_id, h.tz, h.work_start, h.work_end) for h in hours] == [
            ("UA", "America/Los_Angeles", 420, 720),
            ("UB", "Europe/Berlin", None, None),
            ("UZ", None, None, None),
        ]
        busy = store.meetings_of_people(s, team_id=TEAM, user_ids=pair.members, ending_after=NOW)
        assert busy == [
            (NOW - timedelta(minutes=30), 60),
            (NOW + timedelta(days=3), 60),
            (NOW + timedelta(days=4), 60),
        ]
        assert store.latest_meeting(s, team_id=TEAM, pair_id=pair.id) == NOW + timedelta(days=3)
        assert store.latest_meeting(s, team_id=TEAM, pair_id=9999) is None


def test_suggestions_follow_the_agreed_cadence_and_skip_meetings(db: Database) -> None:
    with db.session() as s:
        # Zones without daylight saving, so each step is exactly a cadence step.
        s.add(Person(team_id=TEAM, user_id="UA", tz="Asia/Tokyo"))
        s.add(Person(team_id=TEAM, user_id="UB", tz="Asia/Kolkata"))
        pair = _pair(s, "UA", "UB")
        s.flush()
        fortnightly = service.suggested_times(s, team_id=TEAM, pair_id=pair.id, minutes=45, now=NOW)
        assert [b - a for a, b in zip(fortnightly, fortnightly[1:], strict=False)] == [
            timedelta(days=14)
        ] * 2
        s.add(
            PairAgreement(
                team_id=TEAM,
                pair_id=pair.id,
                cadence="weekly",
                contact="",
                confidential="",
                created_at=NOW,
                updated_at=NOW,
            )
        )
        held = _meeting(s, pair, fortnightly[0])
        s.flush()
        weekly = service.suggested_times(s, team_id=TEAM, pair_id=pair.id, minutes=45, now=NOW)
        assert weekly[0] >= held.starts_at + timedelta(days=7)
        assert [b - a for a, b in zip(weekly, weekly[1:], strict=False)] == [timedelta(days=7)] * 2
        assert service.suggested_times(s, team_id=TEAM, pair_id=9999, minutes=45, now=NOW) == []


def test_two_pairs_sharing_a_member_cannot_both_take_one_time(db: Database) -> None:
    """Alice mentors Bob and is mentored by Dave; both pairs save a meeting at the same
    time at once. The second save waits for the first (every active pair of both
    members is locked) and then sees its meeting: refused, not double-booked.
    (SQLite has one writer at a time, so only PostgreSQL can race here.)"""
    import threading

    import pytest
    from sqlalchemy import text

    from bot.domain.errors import TimesTaken

    if db.dialect == "sqlite":
        pytest.skip("SQLite serialises writers: there is no race to lose")
    with db.session() as s:
        ids = [_pair(s, "UALICE", "UBOB").id, _pair(s, "UDAVE", "UALICE").id]
    when = NOW + timedelta(days=2)
    first_holds, outcome = threading.Event(), {}

    def save(pair_id: int, hold: bool) -> None:
        try:
            with db.session() as s:
                pair = s.get(Pair, pair_id)
                service.refuse_clashes(s, pair, [when], minutes=60, now=NOW)
                _meeting(s, pair, when)
                if hold:  # the first save holds its locks until the second waits on them
                    first_holds.set()
                    deadline = datetime.now(UTC) + timedelta(seconds=20)
                    while not _someone_waits_for_a_lock(s) and datetime.now(UTC) < deadline:
                        pass
            outcome[pair_id] = "saved"
        except TimesTaken:
            outcome[pair_id] = "refused"

    def _someone_waits_for_a_lock(s: Any) -> bool:
        with db.engine.connect() as other:
            return bool(
                other.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()
            )

    first = threading.Thread(target=save, args=(ids[0], True))
    first.start()
    assert first_holds.wait(20)
    second = threading.Thread(target=save, args=(ids[1], False))
    second.start()
    first.join(30)
    second.join(30)
    assert outcome == {ids[0]: "saved", ids[1]: "refused"}
