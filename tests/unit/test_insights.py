"""Coordinators' insights: every figure, per closed week and per person, small-group
suppression, risk rules, and outputs. The attacks on them: test_privacy_attacks.py."""

from __future__ import annotations

import csv
import io
import json
import random
import struct
import zlib
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from bot import outgoing
from bot.ids import Action
from bot.reporting import format_report, weekly_chart_png
from bot.services import insights
from bot.services.insights import (
    COUNT_METRICS,
    RISK_MISSED,
    RISK_NO_FIRST_MEETING,
    RISK_QUIET,
    SPLIT_METRICS,
    ProgramReport,
    Split,
    WeekFigures,
    program_report,
    split,
    suppress_small,
    week_start,
)
from bot.store.models import (
    Feedback,
    InsightWeek,
    Meeting,
    Pair,
    PrepAnswer,
    ScheduledMessage,
    TipVote,
)
from bot.views.common import as_dicts
from bot.views.insights import insights_blocks, nudge_message, sparkline
from slackemu.limits import validate_message_blocks, validate_view
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

    def meeting(
        self, pair: Pair, day: str, status: str = "scheduled", created: str = "2026-01-01"
    ) -> Meeting:
        meeting = Meeting(
            team_id=self.team_id,
            pair_id=pair.id,
            starts_at=at(day),
            minutes=45,
            status=status,
            number=len(pair.meetings) + 1,
            created_at=at(created, 9),
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

    def nudge(self, pair: Pair, day: str) -> None:
        """The care pass's kind nudge to the pair (its outbox row is the marker)."""
        self.session.add(
            ScheduledMessage(
                team_id=self.team_id,
                key=f"{self.team_id}:care_nudge:{next(self.keys)}",
                kind=outgoing.CARE_NUDGE,
                recipient=outgoing.pair_recipient(pair.id),
                due_at=at(day, 6),
                status="sent",
                pair_id=pair.id,
                sent_at=at(day, 6),
                created_at=at(day, 6),
            )
        )
        self.session.flush()

    def vote(self, vote: int, *, user: str | None = None, when: datetime | None = None) -> None:
        n = next(self.keys)
        self.session.add(
            TipVote(
                team_id=self.team_id,
                user_id=user or f"UVOTER{n:04d}",
                tip_id="mentor-1",
                outbox_id=n,
                vote=vote,
                voted_at=when or NOW - timedelta(days=1),
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
    # p2: two meetings in a row didn't happen; nudged on 10 March, nothing changed since.
    p2 = b.pair(accepted="2026-01-05")
    m2a = b.meeting(p2, "2026-02-16")
    b.feedback(p2, m2a, "mentee", happened="no")
    m2b = b.meeting(p2, "2026-02-23")
    b.feedback(p2, m2b, "mentor", happened="rescheduled")
    m2c = b.meeting(p2, "2026-03-02")
    b.nudge(p2, "2026-03-10")
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


def build_busy_week(session: Session, day: str = "2026-03-10") -> list[Pair]:
    """Six pairs who met in the week of ``day``, with enough people on both sides of
    most questions for that week's figures to be shown."""
    b = Builder(session)
    b.users = count(100)  # people of their own, apart from build_program's
    pairs = [b.pair(accepted="2026-01-05") for _ in range(6)]
    for i, pair in enumerate(pairs):
        meeting = b.meeting(pair, day)
        b.feedback(pair, meeting, "mentor", happened="yes", usefulness=5)
        if i < 3:
            b.feedback(pair, meeting, "mentee", happened="yes", usefulness=2)
        else:
            b.feedback(pair, meeting, "mentee", happened="no")
        b.prep_prompt(meeting)
        if i < 4:
            b.prep_answer(meeting)
        voted = meeting.starts_at + timedelta(days=1)
        if i < 4:
            b.vote(+1, user=pair.mentor_id, when=voted)
        if i < 3:
            b.vote(-1, user=pair.mentee_id, when=voted)
    # One person, two meetings that week (5★ and 3★): one person, who found it useful.
    again = b.meeting(pairs[0], (date.fromisoformat(day) + timedelta(days=2)).isoformat())
    b.feedback(pairs[0], again, "mentor", happened="yes", usefulness=3)
    return pairs


def test_suppress_small_and_split() -> None:
    assert suppress_small(2, 4.5) is None
    assert suppress_small(3, 4.5) == 4.5
    assert suppress_small(0, (1, 2)) is None
    assert suppress_small(4, "x", minimum=5) is None
    assert split(3, 3) == Split(people=6, yes=3)
    assert split(5, 2) == Split(people=7, yes=None)  # one side under 3: the split is hidden
    assert split(1, 1) == Split(people=None, yes=None)
    assert split(3, 3, minimum=4) == Split(people=6, yes=None)
    assert Split(people=6, yes=3).share == 0.5 and Split(people=6).share is None


def test_pair_and_meeting_figures(report_and_pairs) -> None:
    report, _ = report_and_pairs
    assert report.team_id == TEAM
    assert report.generated_at == NOW
    assert (report.viewer, report.minimum_people) == (None, 3)
    assert (report.active_pairs, report.ended_pairs, report.open_invitations) == (4, 1, 1)
    assert report.meetings_ahead == 1


def test_a_small_program_shows_no_answer_figures(report_and_pairs) -> None:
    """Every closed week of the small program rests on one or two people: hidden."""
    report, _ = report_and_pairs
    for week in report.weeks:
        assert week.feedback_people is None
        for metric in SPLIT_METRICS:
            assert getattr(week, metric) == Split(), (week.week_start, metric)
    assert report.total("feedback_people") == 0
    assert report.pooled("useful") == Split()


def test_a_closed_week_counts_people_not_answers(db) -> None:
    with db.session() as session:
        pairs = build_busy_week(session)
        viewer = pairs[0].mentor_id
    with db.session() as session:
        week = program_report(session, team_id=TEAM, now=NOW).weeks[-2]
        as_viewer = program_report(session, team_id=TEAM, now=NOW, viewer=viewer).weeks[-2]
        stricter = program_report(session, team_id=TEAM, now=NOW, minimum=4).weeks[-2]
    assert week.week_start == date(2026, 3, 9)
    assert week.feedback_people == 12
    assert week.met == Split(people=12, yes=9)
    assert week.useful == Split(people=9, yes=6)  # 5★ and 3★ from one person: one, useful
    assert week.prepared == Split(people=6, yes=None)  # only two did not: hidden
    assert week.tips_liked == Split(people=7, yes=4)
    # A larger K hides the splits with only three people on a side.
    assert (stricter.met, stricter.useful) == (Split(12, None), Split(9, None))
    # Shown to someone counted in the week (a Slack admin not in MENTOR_ADMINS, say),
    # each figure that counts them is hidden for them, not shown without them; the
    # rest is what everyone is shown.
    assert as_viewer.yours == {"feedback_people", "met", "useful", "tips_liked"}
    assert as_viewer.feedback_people is None
    assert as_viewer.met == as_viewer.useful == as_viewer.tips_liked == Split()
    assert as_viewer.prepared == week.prepared
    assert week.yours == frozenset()
    with pytest.raises(ValueError):
        with db.session() as session:
            program_report(session, team_id=TEAM, now=NOW, minimum=2)


def test_the_coordinators_answers_are_in_no_figure(db) -> None:
    """MENTOR_ADMINS are left out when a week is frozen: every coordinator is shown the
    same figures, none of which counts their own answers, and the CLI the same."""
    with db.session() as session:
        pairs = build_busy_week(session)
        coordinators = {pairs[0].mentor_id, pairs[1].mentee_id}
    with db.session() as session:
        weeks = [
            program_report(
                session, team_id=TEAM, now=NOW, viewer=viewer, coordinators=coordinators
            ).weeks[-2]
            for viewer in (None, *sorted(coordinators))
        ]
    assert weeks[0] == weeks[1] == weeks[2]
    assert weeks[0].yours == frozenset()
    assert weeks[0].feedback_people == 10  # the twelve who answered, less the two
    assert weeks[0].met.people == 10


def test_a_real_program_sees_meaningful_figures(db) -> None:
    """Twenty pairs over four weeks, answering as people do: App Home stays useful."""
    rng = random.Random(2026)
    with db.session() as session:
        b = Builder(session)
        pairs = [b.pair(accepted="2026-02-02") for _ in range(20)]
        for monday in ("2026-02-23", "2026-03-02", "2026-03-09", "2026-03-16"):
            for i, pair in enumerate(pairs):
                day = (date.fromisoformat(monday) + timedelta(days=i % 4)).isoformat()
                meeting = b.meeting(pair, day)
                b.prep_prompt(meeting)
                if rng.random() < 0.7:
                    b.prep_answer(meeting)
                for who in ("mentor", "mentee"):
                    if rng.random() < 0.85:
                        met = rng.random() < 0.9
                        rating = rng.choice([5, 5, 4, 4, 4, 3, 3, 2, 5, 4]) if met else None
                        b.feedback(
                            pair, meeting, who, happened="yes" if met else "no", usefulness=rating
                        )
                    if rng.random() < 0.6:
                        user = pair.mentor_id if who == "mentor" else pair.mentee_id
                        vote = +1 if rng.random() < 0.75 else -1
                        b.vote(vote, user=user, when=meeting.starts_at + timedelta(hours=5))
        viewer = pairs[0].mentor_id  # a coordinator (MENTOR_ADMINS) who mentors too
    with db.session() as session:
        report = program_report(
            session, team_id=TEAM, now=NOW, viewer=viewer, coordinators={viewer}
        )
    last = report.last_week
    assert last is not None and last.week_start == date(2026, 3, 16)
    assert last.feedback_people is not None and last.feedback_people >= 25
    assert last.useful.share is not None and 0.5 < last.useful.share < 1
    assert last.tips_liked.people == 22
    assert last.prepared.share is not None
    assert sum(1 for w in report.weeks if w.useful.yes is not None) == 4
    pooled = report.pooled("useful")
    assert pooled.people == sum(w.useful.people or 0 for w in report.weeks)
    text = all_text(as_dicts(insights_blocks(report, nudge_action_id=NUDGE)))
    useful = round(last.useful.share * 100)
    assert f"{useful}% ({last.useful.yes} of {last.useful.people} people)" in text
    assert "at least 3 people, and a split" in text
    assert "Your own answers are in none of them" in text


def test_at_risk_rules(report_and_pairs) -> None:
    report, pairs = report_and_pairs
    risks = {item.pair_id: item for item in report.at_risk}
    # p3 rates its meetings poorly: that is a rating, and never flags a pair.
    assert set(risks) == {pairs["p2"].id}
    assert risks[pairs["p2"].id].reasons == (RISK_MISSED,)
    item = risks[pairs["p2"].id]
    assert (item.mentor_id, item.mentee_id) == (pairs["p2"].mentor_id, pairs["p2"].mentee_id)


def test_weekly_trend(report_and_pairs) -> None:
    report, _ = report_and_pairs
    # The last eight closed weeks: the open week of 23 March is not among them.
    assert [w.week_start for w in report.weeks] == [
        date(2026, 1, 26) + timedelta(weeks=i) for i in range(8)
    ]
    assert all(w.week_start.weekday() == 0 for w in report.weeks)
    assert report.series("tips_sent") == (0, 0, 0, 0, 0, 0, 0, 1)
    assert report.series("new_pairs") == (0, 1, 0, 0, 1, 0, 0, 1)
    assert report.series("feedback_people") == (None,) * 8
    assert report.total("new_pairs") == 3
    with pytest.raises(ValueError):
        report.series("helped")
    with pytest.raises(ValueError):
        report.splits("usefulness")


def test_weeks_parameter_and_week_start(db) -> None:
    with db.session() as session:
        build_program(session)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW, weeks=2)
    assert [w.week_start for w in report.weeks] == [date(2026, 3, 9), date(2026, 3, 16)]
    assert report.series("tips_sent") == (0, 1)
    assert week_start(datetime(2026, 3, 29, 23, 59, tzinfo=UTC)) == date(2026, 3, 23)
    assert week_start(datetime(2026, 3, 30, 0, 0, tzinfo=UTC)) == date(2026, 3, 30)


def test_other_workspace_is_separate(db) -> None:
    with db.session() as session:
        build_program(session)
        build_busy_week(session)
    with db.session() as session:
        report = program_report(session, team_id=OTHER_TEAM, now=NOW)
    assert (report.active_pairs, report.ended_pairs, report.open_invitations) == (1, 0, 0)
    assert report.meetings_ahead == 1
    assert all(w.feedback_people is None and w.useful == Split() for w in report.weeks)
    assert report.series("tips_sent")[-1] == 0  # its tip went out in the open week
    assert report.at_risk == ()
    with db.session() as session:
        empty = program_report(session, team_id="T0NOBODY", now=NOW)
    assert empty.active_pairs == 0 and empty.meetings_ahead == 0
    assert empty.last_week is not None and empty.last_week.useful == Split()


def test_small_groups_are_hidden_and_flag_nobody(db) -> None:
    with db.session() as session:
        b = Builder(session)
        pair = b.pair(accepted="2026-03-01")
        first = b.meeting(pair, "2026-03-16")
        b.feedback(pair, first, "mentor", happened="yes", usefulness=1)
        b.feedback(pair, first, "mentee", happened="yes", usefulness=1)
        b.meeting(pair, "2026-03-30")
        for vote in (+1, -1, +1):
            b.vote(vote, user=pair.mentor_id, when=at("2026-03-17"))
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    week = report.last_week
    assert week is not None and week.feedback_people is None
    assert week.useful == Split() and week.tips_liked == Split()
    assert report.at_risk == ()  # poor ratings never flag (nor reveal) anyone
    text = all_text(as_dicts(insights_blocks(report, nudge_action_id=NUDGE)))
    assert "hidden (fewer than 3 people)" in text
    assert "Met              ········  hidden every week" in text  # not "0 in the 0 weeks"
    assert "★ " not in text.replace("(4–5 ★)", "")
    data = json.loads(format_report(report, "json"))
    assert data["weeks"][-1]["useful"] == {"people": None, "yes": None}

    # A third person: how many answered may be shown, never how they split.
    with db.session() as session:
        b = Builder(session)
        other = b.pair(accepted="2026-03-01")
        meeting = b.meeting(other, "2026-03-18")
        b.feedback(other, meeting, "mentor", happened="yes", usefulness=2)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW + timedelta(days=7))
    week = report.weeks[-2]
    assert week.week_start == date(2026, 3, 16)
    assert week.useful == Split()  # frozen a week ago, before the third answer arrived

    text = all_text(as_dicts(insights_blocks(report, nudge_action_id=NUDGE)))
    assert "hidden" in text


def test_at_risk_edges(db) -> None:
    """The care rule (bot.domain.care): a reason, a nudge to the pair, and a week with
    nothing changed since; only then do coordinators see the pair."""
    with db.session() as session:
        b = Builder(session)
        # Met 20 days ago with no answer yet: not quiet (no answer is not a "no").
        recent = b.pair(accepted="2026-01-05")
        b.meeting(recent, "2026-03-05")
        # Only a cancelled meeting since 1 February and none ahead: quiet since 3 March.
        cancelled = b.pair(accepted="2026-01-05")
        b.meeting(cancelled, "2026-02-01")
        b.meeting(cancelled, "2026-03-20", status="cancelled")
        # Its only meeting didn't happen: no first meeting, ten weeks after kickoff.
        missed = b.pair(accepted="2026-01-05")
        m = b.meeting(missed, "2026-03-20")
        b.feedback(missed, m, "mentor", happened="no")
        # Nothing recent but a meeting ahead: not quiet.
        ahead = b.pair(accepted="2026-01-05")
        b.meeting(ahead, "2026-04-02")
        # Both members said no about one meeting: one missed meeting, not two in a row.
        both = b.pair(accepted="2026-03-10")
        bm = b.meeting(both, "2026-03-12")
        b.feedback(both, bm, "mentor", happened="no")
        b.feedback(both, bm, "mentee", happened="no")
        b.meeting(both, "2026-03-31")
        # No meeting ever, but set one after the nudge (it is still ahead): not at risk.
        answered = b.pair(accepted="2026-01-05")
        b.meeting(answered, "2026-03-26", created="2026-03-12")
        for pair in (recent, cancelled, missed, ahead, both, answered):
            b.nudge(pair, "2026-03-10")
        # No meeting ever, but never nudged yet: the pair hears first, not coordinators.
        b.pair(accepted="2026-01-05")
        # Nudged five days ago: it has a week to answer.
        b.nudge(b.pair(accepted="2026-01-05"), "2026-03-20")
        ids = {"cancelled": cancelled.id, "missed": missed.id}
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    risks = {item.pair_id: item.reasons for item in report.at_risk}
    assert risks == {
        ids["cancelled"]: (RISK_QUIET,),
        ids["missed"]: (RISK_NO_FIRST_MEETING,),
    }


def test_free_text_never_reaches_outputs(db) -> None:
    with db.session() as session:
        build_program(session)
        build_busy_week(session)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
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
    assert (data["viewer"], data["minimum_people"]) == (None, 3)
    assert "no viewer" in data["privacy"]
    assert data["active_pairs"] == 4
    assert data["meetings_ahead"] == 1
    hidden = {"people": None, "yes": None}
    assert data["weeks"][1] == {
        "week_start": "2026-02-02",
        "feedback_people": None,
        "met": hidden,
        "useful": hidden,
        "prepared": hidden,
        "tips_liked": hidden,
        "tips_sent": 0,
        "new_pairs": 1,
    }
    assert data["totals"] == {"feedback_people": 0, "tips_sent": 1, "new_pairs": 3}
    assert data["pooled"]["useful"] == hidden
    assert data["at_risk"][0]["pair_id"] == pairs["p2"].id
    assert data["at_risk"][0]["reasons"] == [RISK_MISSED]
    with pytest.raises(ValueError):
        format_report(report, "xml")


def test_csv_format(db) -> None:
    with db.session() as session:
        pairs = build_program(session)
        build_busy_week(session)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    rows = list(csv.reader(io.StringIO(format_report(report, "csv"))))
    assert rows[0] == ["metric", "value"]
    scalars = {r[0]: r[1] for r in rows if len(r) == 2}
    assert scalars["active_pairs"] == "10"
    assert scalars["pairs_at_risk"] == "1"
    # No viewer: p1's mentor (4★ that week) counts here, unlike on their own App Home.
    assert scalars["useful_people_total"] == "10" and scalars["useful_yes_total"] == "7"
    assert scalars["prepared_yes_total"] == ""  # hidden in its only week
    # And how many people it rests on with it: beside a side too small to show, the
    # count would say how lopsided the group was.
    assert scalars["prepared_people_total"] == ""
    assert RISK_MISSED in scalars[f"at_risk.{pairs['p2'].id}"]
    weekly = [r for r in rows if len(r) == 3]
    assert ["tips_sent", "2026-03-16", "1"] in weekly
    assert ["useful_yes", "2026-03-09", "7"] in weekly
    assert ["prepared_yes", "2026-03-09", ""] in weekly
    assert ["prepared_people", "2026-03-09", ""] in weekly
    assert ["feedback_people", "2026-03-16", ""] in weekly
    assert len(weekly) == (len(COUNT_METRICS) + 2 * len(SPLIT_METRICS)) * 8


def test_table_format(report_and_pairs) -> None:
    report, pairs = report_and_pairs
    table = format_report(report, "table")
    lines = table.splitlines()
    figure_lines = [line for line in lines if line.startswith(("active_pairs", "ended_pairs"))]
    assert len({len(line) for line in figure_lines}) == 1  # values aligned in one column
    assert any(line.split() == ["meetings_ahead", "1"] for line in lines)
    assert any(line.split()[:4] == ["2026-03-16", "-", "1", "1"] for line in lines)
    assert "no viewer" in table
    assert pairs["p2"].mentor_id in table


def test_insights_blocks(db) -> None:
    with db.session() as session:
        pairs = build_program(session)
        build_busy_week(session)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW, viewer=pairs["p1"].mentor_id)
    blocks = as_dicts(insights_blocks(report, nudge_action_id=NUDGE))
    assert validate_view({"type": "home", "blocks": blocks}) == []
    assert validate_message_blocks(blocks) == []
    assert blocks[1] == {
        "type": "header",
        "block_id": "insights_header",
        "text": {"type": "plain_text", "text": "Program insights", "emoji": True},
    }
    text = all_text(blocks)
    assert "Week of 16 Mar" in text  # the last closed week, here too small to show
    assert "hidden (fewer than 3 people)" in text
    assert sparkline(report.series("tips_sent")) in text
    # Usefulness over the weeks shown: the week of 9 March, 7 of 10, has 3 on one side:
    # enough for the CLI (K), hidden from a coordinator (K + 1).
    assert "70% (7 of 10)" not in text
    with db.session() as session:
        cli = program_report(session, team_id=TEAM, now=NOW)
    assert "70% (7 of 10)" in all_text(as_dicts(insights_blocks(cli, nudge_action_id=NUDGE)))
    risky = [b for b in blocks if b.get("accessory")]
    assert [b["accessory"]["value"] for b in risky] == [str(pairs["p2"].id)]
    assert all(b["accessory"]["action_id"] == NUDGE for b in risky)
    assert all(b["accessory"]["text"]["text"] == "Nudge" for b in risky)
    assert f"<@{pairs['p2'].mentor_id}> & <@{pairs['p2'].mentee_id}>" in risky[0]["text"]["text"]
    assert RISK_MISSED in risky[0]["text"]["text"]


def test_insights_blocks_cap_at_risk_list(db) -> None:
    with db.session() as session:
        b = Builder(session)
        for _ in range(25):
            b.nudge(b.pair(accepted="2026-01-05"), "2026-03-10")
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
    assert sparkline([None, 2, None, 4]) == "·▅·█"
    assert sparkline([50, None, 100], top=100) == "▅·█"


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
    weeks = tuple(
        replace(week, feedback_people=None if i % 3 == 0 else 3 + i)
        for i, week in enumerate(report.weeks)
    )
    data = weekly_chart_png(replace(report, weeks=weeks))
    chunks = _png_chunks(data)
    assert [kind for kind, _ in chunks] == [b"IHDR", b"IDAT", b"IEND"]
    width, height, depth, colour = struct.unpack(">IIBB", chunks[0][1][:10])
    assert (width, height, depth, colour) == (600, 240, 8, 2)
    raw = zlib.decompress(chunks[1][1])
    assert len(raw) == 240 * (1 + 600 * 3)
    # Some bar colour is drawn, and the picture is not blank.
    assert bytes((54, 116, 196)) in raw
    # Every week hidden: no bar at all.
    hidden = zlib.decompress(_png_chunks(weekly_chart_png(report))[1][1])
    assert bytes((54, 116, 196)) not in hidden
    empty = weekly_chart_png(replace(report, weeks=()))  # no weeks at all still draws axes
    assert _png_chunks(empty)[0][0] == b"IHDR"
    assert isinstance(report.weeks[0], WeekFigures)


def test_a_week_frozen_meanwhile_by_another_process_keeps_its_figures(db, monkeypatch) -> None:
    """Two App Home opens at once both find a week unfrozen; one snapshot wins and both
    show it. (SQLite has one writer at a time, so only PostgreSQL can race here.)"""
    if db.dialect == "sqlite":
        pytest.skip("SQLite serialises writers: there is no race to lose")
    with db.session() as session:
        build_busy_week(session, day="2026-03-17")
    real = insights._parts_of_week
    raced: list[date] = []

    def racing(session: Session, **kwargs):
        parts = real(session, **kwargs)
        if not raced and kwargs["start"].date() == date(2026, 3, 16):
            raced.append(kwargs["start"].date())
            with db.engine.begin() as other:  # another process, committing first
                other.execute(
                    insert(InsightWeek).values(
                        team_id=TEAM,
                        week_start=date(2026, 3, 16),
                        frozen_at=NOW,
                        tips_sent=99,
                        new_pairs=0,
                    )
                )
        return parts

    monkeypatch.setattr(insights, "_parts_of_week", racing)
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    assert raced and report.last_week is not None
    assert (report.last_week.tips_sent, report.last_week.feedback_people) == (99, None)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(InsightWeek)) == 8
