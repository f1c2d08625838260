"""Outcome figures: the measures, the privacy rule (K pairs, whole cohorts, closed weeks,
never the viewer), the loader, and what App Home and the report show."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.reporting import format_outcomes, outcomes_dict
from bot.services.insights import Split
from bot.services.outcomes import (
    GoalFigures,
    GoalRecord,
    Median,
    MeetingRecord,
    PairRecord,
    compute_outcomes,
    first_meeting_days,
    median_gap_days,
    outcome_report,
    still_meeting,
)
from bot.store.db import Database
from bot.store.models import Feedback, Meeting, Pair, PairGoal
from bot.views.common import as_dicts
from bot.views.insights import outcome_lines, outcomes_blocks
from slackemu.limits import validate_view

JAN = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)  # a Monday in January
LATE = datetime(2026, 9, 9, 12, 0, tzinfo=UTC)  # every horizon of January has passed


def at(days: float, base: datetime = JAN) -> datetime:
    return base + timedelta(days=days)


def pair(
    n: int,
    meetings: list[float] = (),
    *,
    missed: tuple[float, ...] = (),
    kickoff: datetime = JAN,
    goals: int = 0,
    done: int = 0,
    ended: float | None = None,
) -> PairRecord:
    records = [MeetingRecord(at(d, kickoff)) for d in meetings]
    records += [
        MeetingRecord(at(d, kickoff), answers=(("no", at(d + 1, kickoff)),)) for d in missed
    ]
    return PairRecord(
        pair_id=n,
        mentor_id=f"UMENTOR{n}",
        mentee_id=f"UMENTEE{n}",
        kickoff=kickoff,
        ended_at=None if ended is None else at(ended, kickoff),
        meetings=tuple(records),
        goals=tuple(
            GoalRecord(at(3, kickoff), at(40, kickoff) if i < done else None) for i in range(goals)
        ),
    )


# ---------------------------------------------------------------- measures


def test_first_meeting_and_gaps():
    p = pair(1, [7, 21, 28, 35], missed=(14,))
    assert first_meeting_days(p) == 7
    assert median_gap_days(p) == 7  # 7→21 is 14, 21→28 7, 28→35 7
    assert first_meeting_days(pair(2, [45])) == math.inf
    assert first_meeting_days(pair(3, missed=(5,))) == math.inf
    assert median_gap_days(pair(4, [10])) is None


def test_still_meeting_looks_at_the_thirty_days_up_to_the_mark():
    p = pair(1, [10, 70, 85])
    assert still_meeting(p, 30) and still_meeting(p, 90)
    assert not still_meeting(p, 180)
    assert not still_meeting(pair(2, [100], ended=95), 180)
    # A cancelled meeting is no meeting.
    cancelled = PairRecord(1, "A", "B", JAN, meetings=(MeetingRecord(at(10), cancelled=True),))
    assert not still_meeting(cancelled, 30)


def test_a_late_no_counts_only_within_a_week_of_the_horizon():
    late = PairRecord(
        1, "A", "B", JAN, meetings=(MeetingRecord(at(10), answers=(("no", at(60)),)),)
    )
    assert first_meeting_days(late) == 10  # the "no" came after the horizon + a week


# ---------------------------------------------------------------- privacy


def test_figures_need_k_pairs_and_pool_only_shown_cohorts():
    regular = [pair(n, [5 + n, 19 + n, 33 + n, 75, 160], goals=2, done=n % 2) for n in range(6)]
    once = [pair(n, [8]) for n in range(6, 9)]  # one meeting, no goals
    report = compute_outcomes(regular + once, team_id="T1", now=LATE)
    [cohort] = report.cohorts
    assert cohort.cohort == date(2026, 1, 1) and cohort.pairs == 9
    assert report.first_meeting == Median(9, 8)
    assert report.gap.pairs == 6  # 6 pairs met twice, 3 did not: K on each side
    # Everyone is still meeting: a share with fewer than K on one side is hidden, and
    # the whole-program share pools only the cells shown.
    assert cohort.still_meeting[30] == Split(people=9, yes=None)
    assert report.still_meeting[30] == Split()
    assert report.goals.pairs_with_goals == 6 and report.goals.goals_set == 12
    assert report.goals.done == Split(people=6, yes=3) and report.goals.goals_done == 3

    # Which pairs met twice, or set goals, is a share of the month too: with fewer
    # than K on one side (here none), the figures resting on it are hidden.
    everyone = compute_outcomes(regular, team_id="T1", now=LATE)
    assert everyone.cohorts[0].gap == everyone.gap == Median(one_side=True)
    assert everyone.goals.pairs_with_goals is None and everyone.goals.goals_set is None
    assert everyone.goals.one_side  # "hidden (fewer than K pairs on one side)"
    # ...and so is what rests on those pairs: "3 of 6 pairs marked a goal done" would
    # say that all 6 set goals.
    assert everyone.goals.done == Split() and everyone.goals.goals_done is None

    few = compute_outcomes(regular[:2], team_id="T1", now=LATE)
    assert few.first_meeting == Median() and few.gap == Median()
    assert few.goals.pairs_with_goals is None and few.goals.goals_done is None


def test_a_share_with_k_on_each_side_is_shown():
    pairs = [pair(n, [10, 80]) for n in range(3)] + [pair(n, [10]) for n in range(3, 7)]
    report = compute_outcomes(pairs, team_id="T1", now=LATE)
    assert report.cohorts[0].still_meeting[30] == Split(people=7, yes=None)  # one side is 0
    assert report.still_meeting[30] == Split()
    assert report.still_meeting[90] == Split(people=7, yes=3)
    assert report.cohorts[0].still_meeting[90] == Split(people=7, yes=3)


def test_a_cohort_appears_whole_only_once_every_pair_has_passed_the_mark():
    # January pairs, the last one kicking off on 30 January.
    pairs = [pair(n, [5, 20], kickoff=at(n * 5)) for n in range(6)]
    early = compute_outcomes(pairs, team_id="T1", now=datetime(2026, 3, 9, 12, tzinfo=UTC))
    # 1 Feb + 30 days + a week = 10 March: not yet.
    assert early.cohorts[0].first_meeting is None and early.first_meeting == Median()
    later = compute_outcomes(pairs, team_id="T1", now=datetime(2026, 3, 16, 12, tzinfo=UTC))
    assert later.cohorts[0].first_meeting == Median(6, 5.0)
    assert later.cohorts[0].still_meeting[90] is None and later.cohorts[0].gap is None


def test_figures_are_as_of_the_start_of_the_week():
    pairs = [pair(n, [5, 20]) for n in range(5)]
    monday = datetime(2026, 9, 7, tzinfo=UTC)
    a = compute_outcomes(pairs, team_id="T1", now=monday + timedelta(hours=1))
    b = compute_outcomes(pairs, team_id="T1", now=monday + timedelta(days=6, hours=23))
    assert a == b and a.as_of == monday


def test_a_month_with_the_viewers_own_pair_is_hidden_for_them():
    """No figure shown to a viewer counts a pair of their own. Not shown without it
    either: that, beside the same month shown to another coordinator, would give the
    pair away. The month is hidden for them, under no number, and the whole-program
    figures pool only the months they are shown; any other viewer sees it."""
    january = [pair(n, [5 + n, 20]) for n in range(4)]
    february = [pair(10 + n, [7, 21], kickoff=JAN + timedelta(days=31)) for n in range(4)]
    other = compute_outcomes(january + february, team_id="T1", now=LATE, viewer="UX")
    assert other.first_meeting.pairs == 8  # each month: K besides one person's one pair
    mine = compute_outcomes(january + february, team_id="T1", now=LATE, viewer="UMENTEE0")
    assert [c.yours for c in mine.cohorts] == [True, False]
    hidden = mine.cohorts[0]
    assert (hidden.pairs, hidden.first_meeting, hidden.gap) == (4, Median(), Median())
    assert all(s == Split() for s in hidden.still_meeting.values())
    assert hidden.goals == GoalFigures()
    assert mine.cohorts[1] == other.cohorts[1]
    assert mine.first_meeting == other.cohorts[1].first_meeting  # February's alone


def test_a_month_shown_to_a_viewer_needs_k_pairs_besides_the_most_one_person_has():
    """Another coordinator mentoring two of a month's pairs knows those two: beside
    their own view, a median over three would hand them the third pair's figure. So a
    month shown to any viewer needs K pairs besides the most one person has in it (a
    forgotten person, a tombstone in their old pairs, counts as anyone); the CLI, K."""
    pairs = [pair(n, [5 + n, 20]) for n in range(4)]
    coordinator = "UCOORD"
    theirs = [replace(pairs[0], mentor_id=coordinator), replace(pairs[1], mentor_id=coordinator)]
    month = [*theirs, *pairs[2:]]
    assert compute_outcomes(month, team_id="T1", now=LATE).first_meeting.pairs == 4
    viewed = compute_outcomes(month, team_id="T1", now=LATE, viewer="UX")
    assert viewed.first_meeting == Median()  # 4 pairs: not K + 2
    five = [*month, pair(4, [9, 20])]
    assert compute_outcomes(five, team_id="T1", now=LATE, viewer="UX").first_meeting.pairs == 5
    gone = [replace(p, mentor_id="ANON-0123456789") for p in theirs]
    forgotten = compute_outcomes([*gone, *pairs[2:]], team_id="T1", now=LATE, viewer="UX")
    assert forgotten.first_meeting == Median()


def test_median_past_the_horizon_reads_more_than(content):
    pairs = [pair(n, [40]) for n in range(3)] + [pair(3, [10])]
    report = compute_outcomes(pairs, team_id="T1", now=LATE)
    assert report.first_meeting == Median(4, math.inf)
    lines = dict(outcome_lines(content, report))
    assert lines["Days from kickoff to first meeting (median)"] == "more than 30 days (4 pairs)"


def test_now_and_k_are_checked():
    with pytest.raises(ValueError):
        compute_outcomes([], team_id="T1", now=datetime(2026, 1, 1))
    with pytest.raises(ValueError):
        compute_outcomes([], team_id="T1", now=LATE, minimum=2)


# ---------------------------------------------------------------- loader, views, report


def test_loader_reads_meetings_answers_and_goals(db: Database):
    with db.session() as session:
        for n in range(4):
            p = Pair(
                team_id="T1",
                mentor_id=f"UA{n}",
                mentee_id=f"UB{n}",
                inviter_id=f"UA{n}",
                status="active",
                created_at=JAN,
                accepted_at=JAN,
            )
            session.add(p)
            session.flush()
            for number, d in enumerate((4 + n, 18 + n), start=1):
                m = Meeting(
                    team_id="T1",
                    pair_id=p.id,
                    starts_at=at(d),
                    minutes=45,
                    number=number,
                    created_at=JAN,
                )
                session.add(m)
                session.flush()
                if number == 1 and n == 0:
                    session.add(
                        Feedback(
                            team_id="T1",
                            pair_id=p.id,
                            meeting_id=m.id,
                            user_id=f"UB{n}",
                            happened="no",
                            usefulness=1,
                            helped="SECRET",
                            updated_at=at(d + 1),
                        )
                    )
            session.add(
                PairGoal(
                    team_id="T1",
                    pair_id=p.id,
                    position=1,
                    what="SECRET",
                    why="",
                    by_when=date(2026, 6, 1),
                    status="done",
                    created_at=at(2),
                    updated_at=at(2),
                    done_at=at(30),
                )
            )
        session.add(
            Pair(
                team_id="T1",
                mentor_id="UX",
                mentee_id="UY",
                inviter_id="UX",
                status="invited",
                created_at=JAN,
            )
        )
    with db.session() as session:
        report = outcome_report(session, team_id="T1", now=LATE)
        other = outcome_report(session, team_id="T2", now=LATE)
    assert report.cohorts[0].pairs == 4
    # Pair 0's first meeting did not happen, so its first is day 18: days 18, 5, 6, 7.
    assert report.first_meeting == Median(4, 6.5)
    # Every pair set a goal (4 vs 0): which did is a share with fewer than K on a side.
    assert report.goals.pairs_with_goals is None and report.goals.goals_done is None
    assert other.cohorts == ()
    assert "SECRET" not in json.dumps(outcomes_dict(report))


def test_app_home_section_and_report_formats(content):
    pairs = [pair(n, [5 + n, 19 + n, 75], goals=1, done=n % 2) for n in range(6)]
    report = compute_outcomes(pairs, team_id="T1", now=LATE, viewer="UCOORD")
    blocks = as_dicts(outcomes_blocks(content, report))
    assert validate_view({"type": "home", "blocks": blocks}) == []
    shown = json.dumps(blocks)
    assert "Still meeting at 90 days" in shown
    assert "in the months without a pairing of your own" in shown
    table = format_outcomes(content, report, "table")
    assert "Days between meetings (median)" in table
    csv_text = format_outcomes(content, report, "csv")
    assert csv_text.startswith("figure,value\n")
    data = json.loads(format_outcomes(content, report, "json"))
    assert data["first_meeting"]["pairs"] == 6 and "privacy" in data
    with pytest.raises(ValueError):
        format_outcomes(content, report, "xml")
    hidden = compute_outcomes([], team_id="T1", now=LATE)
    assert all("hidden" in value for _, value in outcome_lines(content, hidden))


def test_outcome_copy_of_any_length_still_makes_a_home_slack_accepts(content):
    # Coordinators' copy goes into section fields (at most 2,000 characters each) and a
    # section's text (3,000): cut there, like any other long copy, not refused by Slack.
    from dataclasses import replace

    from bot.content import MESSAGE_PLACEHOLDERS

    messages = dict(content.messages)
    for key in messages:
        if key.startswith("outcome_") and not MESSAGE_PLACEHOLDERS[key]:
            messages[key] = "ü" * 2500
    messages["outcomes_title"] = "t" * 4000
    longest = replace(content, messages=messages)
    pairs = [pair(n, [5 + n, 19 + n, 75], goals=1, done=n % 2) for n in range(6)]
    report = compute_outcomes(pairs, team_id="T1", now=LATE, viewer="UCOORD")
    blocks = as_dicts(outcomes_blocks(longest, report))
    assert validate_view({"type": "home", "blocks": blocks}) == []
    assert "üüü" in json.dumps(blocks, ensure_ascii=False)


def test_a_figure_once_shown_never_moves(db: Database):
    """A pair that later removes a goal (or rewrites an answer, or resets progress)
    does not move a figure coordinators have seen: its facts were frozen when shown."""
    from sqlalchemy import delete, func, select

    from bot.store.models import OutcomeFact

    with db.session() as session:
        for n in range(6):
            p = Pair(
                team_id="T1",
                mentor_id=f"UA{n}",
                mentee_id=f"UB{n}",
                inviter_id=f"UA{n}",
                status="active",
                created_at=JAN,
                accepted_at=JAN,
            )
            session.add(p)
            session.flush()
            if n >= 3:  # three pairs set a goal, three did not
                continue
            session.add(
                PairGoal(
                    team_id="T1",
                    pair_id=p.id,
                    position=1,
                    what="a goal",
                    why="",
                    by_when=date(2026, 6, 1),
                    status="open",
                    created_at=at(2),
                    updated_at=at(2),
                )
            )
    with db.session() as session:
        shown = outcome_report(session, team_id="T1", now=LATE)
        assert (shown.goals.pairs_with_goals, shown.goals.goals_set) == (3, 3)
        assert session.scalar(select(func.count()).select_from(OutcomeFact)) == 6 * 3
    with db.session() as session:
        session.execute(delete(PairGoal).where(PairGoal.pair_id == 1))
    with db.session() as session:
        later = outcome_report(session, team_id="T1", now=LATE + timedelta(days=7))
        assert later.goals == shown.goals
        assert session.scalar(select(func.count()).select_from(OutcomeFact)) == 6 * 3
        # Unfrozen, the same data would now hide the figure (2 pairs, fewer than 3).
        fresh = compute_outcomes(
            [replace(r, frozen={}) for r in _records(session)], team_id="T1", now=LATE
        )
        assert fresh.goals.pairs_with_goals is None


def _records(session) -> list[PairRecord]:
    from bot.store import outcomes as store

    history = store.pair_histories(session, team_id="T1")
    return [
        PairRecord(
            pair_id=p.pair_id,
            mentor_id=p.mentor_id,
            mentee_id=p.mentee_id,
            kickoff=p.kickoff,
            goals=tuple(GoalRecord(c, d) for c, d in history.goals.get(p.pair_id, ())),
        )
        for p in history.pairs
    ]
