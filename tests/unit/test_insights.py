"""Coordinators' insights: every figure, small-group suppression, risk rules, and outputs."""

from __future__ import annotations

import csv
import io
import json
import struct
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy.orm import Session

from bot.ids import Action
from bot.reporting import format_report, weekly_chart_png
from bot.services.insights import (
    RISK_LOW_USEFULNESS,
    RISK_MISSED,
    RISK_QUIET,
    ProgramReport,
    program_report,
    suppress_small,
    week_start,
)
from slackemu.limits import validate_message_blocks, validate_view
from bot.store.models import Feedback, Meeting, Pair, PrepAnswer, ScheduledMessage, TipVote
from bot.views.common import as_dicts
from bot.views.insights import insights_blocks, nudge_message, sparkline
from tests.conftest import all_text

TEAM, OTHER_TEAM = "T0INSIGHTS", "T0ELSEWHERE"
NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # a Wednesday; its week starts 2026-03-23
SECRETS = ("SECRET-HELPED", "SECRET-CHANGE", "SECRET-FOCUS", "SECRET-QUESTIONS")
NUDGE = "insights_nudge"
KEYS = count(1)  # unique outbox keys and vote ids across every builder in a test run


def at(day: str, hour: int = 15) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


class Builder:
    """Rows straight through the ORM, with only the fields a test cares about."""

    def __init__(self, session: Session, team_id: str = TEAM) -> None:
        self.session = session
        self.team_id = team_id
        self.keys = KEYS
        self.users = count(1)

    def pair(self, status: str = "active", accepted: str | None = "2026-01-05") -> Pair:
        n = next(self.users)
        pair = Pair(
            team_id=self.team_id,
            mentor_id=f"UMENTOR{n:03d}{self.team_id[-2:]}",
            mentee_id=f"UMENTEE{n:03d}{self.team_id[-2:]}",
            inviter_id=f"UMENTOR{n:03d}{self.team_id[-2:]}",
            status=status,
            created_at=at(accepted or "2026-03-24", 9) - timedelta(days=1),
            accepted_at=at(accepted, 10) if accepted and status in ("active", "ended") else None,
            ended_at=at("2026-02-20") if status == "ended" else None,
        )
        self.session.add(pair)
        self.session.flush()
        return pair

    def meeting(self, pair: Pair, day: str, status: str = "scheduled") -> Meeting:
        meeting = Meeting(
            team_id=self.team_id,
            pair_id=pair.id,
            starts_at=at(day),
            minutes=45,
            status=status,
            number=len(pair.meetings) + 1,
            created_at=at("2026-01-01"),
        )
        self.session.add(meeting)
        self.session.flush()
        return meeting

    def feedback(
        self,
        pair: Pair,
        meeting: Meeting | None,
        who: str,
        happened: str | None = None,
        usefulness: int | None = None,
        when: datetime | None = None,
    ) -> None:
        self.session.add(
            Feedback(
                team_id=self.team_id,
                pair_id=pair.id,
                meeting_id=meeting.id if meeting else None,
                user_id=pair.mentor_id if who == "mentor" else pair.mentee_id,
                happened=happened,
                usefulness=usefulness,
                helped=SECRETS[0],
                change=SECRETS[1],
                updated_at=when or (meeting.starts_at + timedelta(hours=2) if meeting else NOW),
            )
        )
        self.session.flush()

    def prep_prompt(self, meeting: Meeting, status: str = "sent") -> None:
        self.message("prep_mentee", meeting.pair.mentee_id, status, meeting=meeting)

    def prep_answer(self, meeting: Meeting) -> None:
        self.session.add(
            PrepAnswer(
                team_id=self.team_id,
                meeting_id=meeting.id,
                user_id=meeting.pair.mentee_id,
                focus=SECRETS[2],
                questions=SECRETS[3],
                answered_at=meeting.starts_at - timedelta(hours=3),
            )
        )
        self.session.flush()

    def message(
        self,
        kind: str,
        recipient: str,
        status: str = "sent",
        *,
        meeting: Meeting | None = None,
        sent_at: datetime | None = None,
    ) -> None:
        due = sent_at or (meeting.starts_at - timedelta(days=1) if meeting else NOW)
        self.session.add(
            ScheduledMessage(
                team_id=self.team_id,
                key=f"{self.team_id}:{kind}:{next(self.keys)}",
                kind=kind,
                recipient=recipient,
                due_at=due,
                status=status,
                pair_id=meeting.pair_id if meeting else None,
                meeting_id=meeting.id if meeting else None,
                sent_at=due if status == "sent" else None,
                created_at=due,
            )
        )
        self.session.flush()

    def vote(self, vote: int) -> None:
        n = next(self.keys)
        self.session.add(
            TipVote(
                team_id=self.team_id,
                user_id=f"UVOTER{n:04d}",
                tip_id="mentor-1",
                outbox_id=n,
                vote=vote,
                voted_at=NOW - timedelta(days=1),
            )
        )
        self.session.flush()


def build_program(session: Session) -> dict[str, Pair]:
    b = Builder(session)
    # p1: met recently (held despite one "no"), and has a meeting ahead. Not at risk.
    p1 = b.pair(accepted="2026-02-02")
    m1a = b.meeting(p1, "2026-03-10")
    b.feedback(p1, m1a, "mentor", happened="yes", usefulness=4)
    b.feedback(p1, m1a, "mentee", happened="no")
    m1b = b.meeting(p1, "2026-03-27")
    b.meeting(p1, "2026-03-12", status="cancelled")
    # p2: two of its last three meetings didn't happen, and nothing since early March.
    p2 = b.pair(accepted="2026-01-05")
    m2a = b.meeting(p2, "2026-02-16")
    b.feedback(p2, m2a, "mentee", happened="no")
    m2b = b.meeting(p2, "2026-02-23")
    b.feedback(p2, m2b, "mentor", happened="rescheduled")
    m2c = b.meeting(p2, "2026-03-02")
    # p3: meets, but rates it poorly: 1, 2, 2 over three answers.
    p3 = b.pair(accepted="2026-03-01")
    m3a = b.meeting(p3, "2026-03-16")
    b.feedback(p3, m3a, "mentor", happened="yes", usefulness=1)
    b.feedback(p3, m3a, "mentee", happened="yes", usefulness=2)
    m3b = b.meeting(p3, "2026-03-18")
    b.feedback(p3, m3b, "mentor", happened="yes", usefulness=2)
    # p4: paired five days ago, no meeting yet: too new to be "quiet".
    p4 = b.pair(accepted="2026-03-20")
    # p5: ended long ago; quiet, but not active so never at risk.
    p5 = b.pair(status="ended", accepted="2026-01-10")
    m5a = b.meeting(p5, "2026-01-20")
    b.feedback(p5, m5a, "mentee", happened="yes", usefulness=5)
    b.pair(status="invited", accepted=None)
    b.pair(status="declined", accepted=None)

    for meeting in (m1a, m2c, m3a, m1b):  # m1b is ahead: its prep is not yet due to count
        b.prep_prompt(meeting)
    b.prep_prompt(m3b, status="pending")
    b.prep_answer(m1a)
    b.prep_answer(m1b)

    for vote in (+1, +1, -1, +1):
        b.vote(vote)
    for when in (at("2026-03-23", 9), at("2026-03-24", 9), at("2026-03-16", 9), at("2026-01-01")):
        b.message("tip", p1.mentor_id, sent_at=when)
    b.message("tip", p1.mentee_id, status="pending", sent_at=NOW + timedelta(hours=20))
    b.message("tip", p1.mentee_id, status="failed", sent_at=at("2026-03-24"))

    # Another workspace's rows, none of which may show up in TEAM's report.
    o = Builder(session, OTHER_TEAM)
    q = o.pair(accepted="2026-03-02")
    qm = o.meeting(q, "2026-03-17")
    o.feedback(q, qm, "mentor", happened="yes", usefulness=1)
    o.feedback(q, qm, "mentee", happened="no", usefulness=1)
    o.prep_prompt(qm)
    o.meeting(q, "2026-04-01")
    for _ in range(5):
        o.vote(-1)
    o.message("tip", q.mentor_id, sent_at=at("2026-03-24"))
    return {"p1": p1, "p2": p2, "p3": p3, "p4": p4, "p5": p5}


@pytest.fixture
def report_and_pairs(db) -> tuple[ProgramReport, dict[str, Pair]]:
    with db.session() as session:
        pairs = build_program(session)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    return report, pairs


def test_suppress_small() -> None:
    assert suppress_small(2, 4.5) is None
    assert suppress_small(3, 4.5) == 4.5
    assert suppress_small(0, (1, 2)) is None
    assert suppress_small(4, "x", minimum=5) is None


def test_pair_and_meeting_figures(report_and_pairs) -> None:
    report, _ = report_and_pairs
    assert report.team_id == TEAM
    assert report.generated_at == NOW
    assert (report.active_pairs, report.ended_pairs, report.open_invitations) == (4, 1, 1)
    m = report.meetings
    assert (m.scheduled, m.held, m.missed, m.unknown) == (1, 4, 2, 1)


def test_prep_completion(report_and_pairs) -> None:
    report, _ = report_and_pairs
    assert (report.prep.prompted, report.prep.answered) == (3, 1)
    assert report.prep.rate == pytest.approx(1 / 3)


def test_usefulness_and_tips(report_and_pairs) -> None:
    report, _ = report_and_pairs
    u = report.usefulness
    assert u.answers == 5
    assert u.distribution == ((1, 1), (2, 2), (3, 0), (4, 1), (5, 1))
    assert u.average == pytest.approx(2.8)
    assert (u.count(2), u.count(3)) == (2, 0)
    assert report.tips.votes == 4
    assert report.tips.thumbs_up_rate == pytest.approx(0.75)


def test_at_risk_rules(report_and_pairs) -> None:
    report, pairs = report_and_pairs
    risks = {item.pair_id: item for item in report.at_risk}
    assert set(risks) == {pairs["p2"].id, pairs["p3"].id}
    assert risks[pairs["p2"].id].reasons == (RISK_QUIET, RISK_MISSED)
    assert risks[pairs["p3"].id].reasons == (RISK_LOW_USEFULNESS,)
    item = risks[pairs["p2"].id]
    assert (item.mentor_id, item.mentee_id) == (pairs["p2"].mentor_id, pairs["p2"].mentee_id)


def test_weekly_trend(report_and_pairs) -> None:
    report, _ = report_and_pairs
    assert [w.week_start for w in report.weeks] == [
        date(2026, 2, 2) + timedelta(weeks=i) for i in range(8)
    ]
    assert all(w.week_start.weekday() == 0 for w in report.weeks)
    assert report.series("meetings_held") == (0, 0, 0, 0, 0, 1, 2, 0)
    assert report.series("feedback_answers") == (0, 0, 1, 1, 0, 2, 3, 0)
    assert report.series("tips_sent") == (0, 0, 0, 0, 0, 0, 1, 2)
    assert report.series("new_pairs") == (1, 0, 0, 1, 0, 0, 1, 0)
    with pytest.raises(ValueError):
        report.series("helped")


def test_weeks_parameter_and_week_start(db) -> None:
    with db.session() as session:
        build_program(session)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW, weeks=2)
    assert [w.week_start for w in report.weeks] == [date(2026, 3, 16), date(2026, 3, 23)]
    assert report.series("tips_sent") == (1, 2)
    assert week_start(datetime(2026, 3, 29, 23, 59, tzinfo=UTC)) == date(2026, 3, 23)
    assert week_start(datetime(2026, 3, 30, 0, 0, tzinfo=UTC)) == date(2026, 3, 30)


def test_other_workspace_is_separate(db) -> None:
    with db.session() as session:
        build_program(session)
    with db.session() as session:
        report = program_report(session, team_id=OTHER_TEAM, now=NOW)
    assert (report.active_pairs, report.ended_pairs, report.open_invitations) == (1, 0, 0)
    m = report.meetings
    assert (m.scheduled, m.held, m.missed, m.unknown) == (1, 1, 0, 0)
    assert (report.prep.prompted, report.prep.answered) == (1, 0)
    assert report.usefulness.answers == 2 and report.usefulness.distribution is None
    assert report.tips.votes == 5 and report.tips.thumbs_up_rate == 0.0
    assert report.series("tips_sent")[-1] == 1
    assert report.at_risk == ()
    with db.session() as session:
        empty = program_report(session, team_id="T0NOBODY", now=NOW)
    assert empty.active_pairs == 0 and empty.prep.rate is None
    assert empty.usefulness.average is None and empty.tips.thumbs_up_rate is None


def test_two_answers_are_suppressed_three_are_shown(db) -> None:
    with db.session() as session:
        b = Builder(session)
        pair = b.pair(accepted="2026-03-01")
        first = b.meeting(pair, "2026-03-16")
        b.feedback(pair, first, "mentor", happened="yes", usefulness=1)
        b.feedback(pair, first, "mentee", happened="yes", usefulness=1)
        b.meeting(pair, "2026-03-30")
        b.vote(+1)
        b.vote(-1)
        pair_id = pair.id
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    assert report.usefulness.answers == 2
    assert report.usefulness.distribution is None
    assert report.usefulness.average is None
    assert report.usefulness.count(1) is None
    assert report.tips.votes == 2 and report.tips.thumbs_up_rate is None
    assert report.at_risk == ()  # two poor ratings are not enough to flag (or reveal) anyone
    text = all_text(as_dicts(insights_blocks(report, nudge_action_id=NUDGE)))
    assert "hidden to protect privacy" in text
    assert "1 ★" not in text
    assert json.loads(format_report(report, "json"))["usefulness"]["distribution"] is None

    with db.session() as session:
        b = Builder(session)
        pair = session.get(Pair, pair_id)
        second = b.meeting(pair, "2026-03-18")
        b.feedback(pair, second, "mentor", happened="yes", usefulness=2)
        b.vote(+1)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    assert report.usefulness.distribution == ((1, 2), (2, 1), (3, 0), (4, 0), (5, 0))
    assert report.usefulness.average == pytest.approx(1.33)
    assert report.tips.thumbs_up_rate == pytest.approx(2 / 3)
    assert [(r.pair_id, r.reasons) for r in report.at_risk] == [(pair_id, (RISK_LOW_USEFULNESS,))]
    text = all_text(as_dicts(insights_blocks(report, nudge_action_id=NUDGE)))
    assert "hidden to protect privacy" not in text
    assert "1 ★ " in text and "5 ★" in text


def test_quiet_rule_edges(db) -> None:
    with db.session() as session:
        b = Builder(session)
        # Met 20 days ago with no answer yet: not quiet.
        recent = b.pair(accepted="2026-01-05")
        b.meeting(recent, "2026-03-05")
        # Only a cancelled meeting in the window and none ahead: quiet.
        cancelled = b.pair(accepted="2026-01-05")
        b.meeting(cancelled, "2026-02-01")
        b.meeting(cancelled, "2026-03-20", status="cancelled")
        # Recent meeting that didn't happen, nothing ahead: quiet (and one miss is not "repeated").
        missed = b.pair(accepted="2026-01-05")
        m = b.meeting(missed, "2026-03-20")
        b.feedback(missed, m, "mentor", happened="no")
        # Nothing recent but a meeting ahead: not quiet.
        ahead = b.pair(accepted="2026-01-05")
        b.meeting(ahead, "2026-04-02")
        # Both members said no about one meeting: one missed meeting, not "repeated".
        both = b.pair(accepted="2026-03-10")
        bm = b.meeting(both, "2026-03-12")
        b.feedback(both, bm, "mentor", happened="no")
        b.feedback(both, bm, "mentee", happened="no")
        b.meeting(both, "2026-03-31")
        ids = {"cancelled": cancelled.id, "missed": missed.id}
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    risks = {item.pair_id: item.reasons for item in report.at_risk}
    assert risks == {ids["cancelled"]: (RISK_QUIET,), ids["missed"]: (RISK_QUIET,)}


def test_free_text_never_reaches_outputs(report_and_pairs) -> None:
    report, _ = report_and_pairs
    outputs = [format_report(report, fmt) for fmt in ("json", "csv", "table")]
    outputs.append(repr(report))
    outputs.append(all_text(as_dicts(insights_blocks(report, nudge_action_id=NUDGE))))
    for output in outputs:
        for secret in SECRETS:
            assert secret not in output


def test_json_format(report_and_pairs) -> None:
    report, pairs = report_and_pairs
    data = json.loads(format_report(report, "json"))
    assert data["generated_at"] == "2026-03-25T12:00:00+00:00"
    assert data["active_pairs"] == 4
    assert data["meetings"] == {"scheduled": 1, "held": 4, "missed": 2, "unknown": 1}
    assert data["usefulness"]["distribution"] == {"1": 1, "2": 2, "3": 0, "4": 1, "5": 1}
    assert data["weeks"][0] == {
        "week_start": "2026-02-02",
        "meetings_held": 0,
        "feedback_answers": 0,
        "tips_sent": 0,
        "new_pairs": 1,
    }
    assert data["at_risk"][0]["pair_id"] == pairs["p2"].id
    assert data["at_risk"][0]["reasons"] == [RISK_QUIET, RISK_MISSED]
    with pytest.raises(ValueError):
        format_report(report, "xml")


def test_csv_format(report_and_pairs) -> None:
    report, pairs = report_and_pairs
    rows = list(csv.reader(io.StringIO(format_report(report, "csv"))))
    assert rows[0] == ["metric", "value"]
    scalars = {r[0]: r[1] for r in rows if len(r) == 2}
    assert scalars["active_pairs"] == "4"
    assert scalars["meetings_missed"] == "2"
    assert scalars["usefulness_2"] == "2"
    assert scalars["tip_thumbs_up_rate"] == "0.75"
    assert scalars["pairs_at_risk"] == "2"
    assert RISK_LOW_USEFULNESS in scalars[f"at_risk.{pairs['p3'].id}"]
    trend = [r for r in rows if len(r) == 3]
    assert ["meetings_held", "2026-03-16", "2"] in trend
    assert ["tips_sent", "2026-03-23", "2"] in trend
    assert len(trend) == 4 * 8


def test_table_format(report_and_pairs) -> None:
    report, pairs = report_and_pairs
    table = format_report(report, "table")
    lines = table.splitlines()
    figure_lines = [line for line in lines if line.startswith(("active_pairs", "ended_pairs"))]
    assert len({len(line) for line in figure_lines}) == 1  # values aligned in one column
    assert any(line.split() == ["meetings_held", "4"] for line in lines)
    assert any(line.split()[:2] == ["2026-03-16", "2"] for line in lines)
    assert pairs["p2"].mentor_id in table


def test_insights_blocks(report_and_pairs) -> None:
    report, pairs = report_and_pairs
    blocks = as_dicts(insights_blocks(report, nudge_action_id=NUDGE))
    assert validate_view({"type": "home", "blocks": blocks}) == []
    assert validate_message_blocks(blocks) == []
    assert blocks[1] == {
        "type": "header",
        "block_id": "insights_header",
        "text": {"type": "plain_text", "text": "Program insights", "emoji": True},
    }
    text = all_text(blocks)
    assert "5 ★ " in text and "█" in text
    assert sparkline(report.series("meetings_held")) in text
    risky = [b for b in blocks if b.get("accessory")]
    assert [b["accessory"]["value"] for b in risky] == [str(pairs["p2"].id), str(pairs["p3"].id)]
    assert all(b["accessory"]["action_id"] == NUDGE for b in risky)
    assert all(b["accessory"]["text"]["text"] == "Nudge" for b in risky)
    assert f"<@{pairs['p2'].mentor_id}> & <@{pairs['p2'].mentee_id}>" in risky[0]["text"]["text"]
    assert RISK_MISSED in risky[0]["text"]["text"]


def test_insights_blocks_cap_at_risk_list(db) -> None:
    with db.session() as session:
        b = Builder(session)
        for _ in range(25):
            b.pair(accepted="2026-01-05")
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    assert len(report.at_risk) == 25
    blocks = as_dicts(insights_blocks(report, nudge_action_id=NUDGE))
    assert len(blocks) <= 100
    assert validate_view({"type": "home", "blocks": blocks}) == []
    assert len([b for b in blocks if b.get("accessory")]) == 20
    assert "and 5 more" in all_text(blocks[-1])


def test_sparkline() -> None:
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 1, 2, 4]) == "▁▃▅█"
    assert sparkline([]) == ""


def test_nudge_message() -> None:
    text, blocks = nudge_message(pair_id=42, mentor_id="UALICE", mentee_id="UBOB")
    assert "It's been a while since your last meeting — want to set the next three?" in text
    dicts = as_dicts(blocks)
    assert validate_message_blocks(dicts) == []
    button = dicts[-1]["elements"][0]
    assert button["action_id"] == Action.OPEN_SCHEDULE == "schedule_open"
    assert button["value"] == "42"
    assert "<@UALICE>" in all_text(dicts) and "<@UBOB>" in all_text(dicts)


def _png_chunks(data: bytes) -> list[tuple[bytes, bytes]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, pos = [], 8
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF
        chunks.append((kind, body))
        pos += 12 + length
    return chunks


def test_weekly_chart_png(report_and_pairs) -> None:
    report, _ = report_and_pairs
    data = weekly_chart_png(report)
    chunks = _png_chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (width, height, depth, colour) == (600, 240, 8, 2)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == 240 * (1 + 600 * 3)
    # Some bar colour is drawn, and the picture is not blank.
    assert bytes((54, 116, 196)) in raw
    empty = weekly_chart_png(replace(report, weeks=()))  # no weeks at all still draws axes
    assert _png_chunks(empty)[0][0] == b"IHDR"
