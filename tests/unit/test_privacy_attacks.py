"""A curious coordinator against the program figures: every attack we know, played out.

The promise (README, "Privacy"): coordinators' figures count people, not answers; each
rests on at least K people, with as many on each side of a yes/no split, and never on
the viewer's own answers (those of MENTOR_ADMINS are left out when a week is frozen; a
figure counting anyone else who is shown it, a Slack admin say, is hidden for them);
they are published per closed week (Monday–Sunday UTC) and frozen then.

Most tests build one small world several times, changing only the victim's answer, and
compare *everything* a coordinator can be shown (the App Home insights, the report as
table, CSV and JSON, and the PNG chart): if the outputs are byte-for-byte identical, no
output can tell the victim's answers apart.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.content import ContentError, bundled_content_dir, load_content
from bot.reporting import format_report, weekly_chart_png
from bot.services.insights import Split, program_report, week_start
from bot.services.privacy import forget_person
from bot.store.db import Database
from bot.store.models import (
    Base,
    Feedback,
    Meeting,
    Pair,
    PrepAnswer,
    ScheduledMessage,
    TipVote,
)
from bot.views.coaching import feedback_poll
from bot.views.common import as_dicts
from bot.views.insights import insights_blocks
from tests.conftest import all_text

TEAM = "T0ATTACKS"
NOW = datetime(2026, 3, 25, 12, 0, tzinfo=UTC)  # a Wednesday; the week of 23 March is open
LAST_WEEK = "2026-03-16"  # the last closed week (16–22 March)
NEXT_WEEK = NOW + timedelta(days=7)  # a week later: the week of 23 March is closed too

COORDINATOR = "UCOORD0001"
VICTIM, VICTIMS_MENTOR = "UVICTIM001", "UVMENTOR01"
PARTNER_X, PARTNER_Y = "UPARTNERX1", "UPARTNERY1"


def at(day: str, hour: int = 15) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


class World:
    """Rows straight through the ORM. Pair IDs are explicit, so that two builds of the
    same world differ only in what a test changes on purpose."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.keys = count(1)

    def pair(self, pair_id: int, mentor: str, mentee: str, accepted: str = "2026-01-05") -> Pair:
        pair = Pair(
            id=pair_id,
            team_id=TEAM,
            mentor_id=mentor,
            mentee_id=mentee,
            inviter_id=mentor,
            status="active",
            created_at=at(accepted, 9),
            accepted_at=at(accepted, 10),
        )
        self.session.add(pair)
        self.session.flush()
        return pair

    def meeting(self, pair: Pair, day: str) -> Meeting:
        meeting = Meeting(
            team_id=TEAM,
            pair_id=pair.id,
            starts_at=at(day),
            minutes=45,
            number=len(pair.meetings) + 1,
            created_at=at("2026-01-05"),
        )
        self.session.add(meeting)
        self.session.flush()
        return meeting

    def answer(
        self,
        meeting: Meeting,
        user: str,
        *,
        happened: str | None = "yes",
        usefulness: int | None = None,
        when: datetime | None = None,
    ) -> Feedback:
        row = Feedback(
            team_id=TEAM,
            pair_id=meeting.pair_id,
            meeting_id=meeting.id,
            user_id=user,
            happened=happened,
            usefulness=usefulness,
            updated_at=when or meeting.starts_at + timedelta(hours=2),
        )
        self.session.add(row)
        self.session.flush()
        return row

    def vote(self, user: str, vote: int, when: datetime) -> None:
        self.session.add(
            TipVote(
                team_id=TEAM,
                user_id=user,
                tip_id="mentor-1",
                outbox_id=next(self.keys),
                vote=vote,
                voted_at=when,
            )
        )
        self.session.flush()

    def prep(self, meeting: Meeting, *, answered: bool) -> None:
        mentee = meeting.pair.mentee_id
        sent = meeting.starts_at - timedelta(days=1)
        self.session.add(
            ScheduledMessage(
                team_id=TEAM,
                key=f"prep_mentee:{meeting.id}:{next(self.keys)}",
                kind="prep_mentee",
                recipient=mentee,
                due_at=sent,
                status="sent",
                pair_id=meeting.pair_id,
                meeting_id=meeting.id,
                sent_at=sent,
                created_at=sent,
            )
        )
        if answered:
            self.session.add(
                PrepAnswer(
                    team_id=TEAM,
                    meeting_id=meeting.id,
                    user_id=mentee,
                    focus="focus",
                    answered_at=sent + timedelta(hours=3),
                )
            )
        self.session.flush()

    def busy_week(self, day: str, *, first_id: int = 100, with_coordinator: bool = False) -> None:
        """Eight pairs who all met on ``day``: plenty of people on both sides of every
        question, so that week's figures are published."""
        for n in range(8):
            mentor = COORDINATOR if with_coordinator and n == 0 else f"UBMENTOR{n:02d}"
            pair = self.pair(first_id + n, mentor, f"UBMENTEE{n:02d}")
            meeting = self.meeting(pair, day)
            happened = "yes" if n < 6 else "no"
            self.answer(meeting, pair.mentor_id, happened=happened, usefulness=5)
            self.answer(meeting, pair.mentee_id, happened=happened, usefulness=2)
            self.prep(meeting, answered=n < 5)
            when = meeting.starts_at + timedelta(hours=1)
            self.vote(pair.mentor_id, +1, when)
            self.vote(pair.mentee_id, +1 if n < 5 else -1, when)


def wipe(db: Database) -> None:
    with db.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(delete(table))


def build(db: Database, recipe: Callable[[World], None]) -> None:
    wipe(db)
    with db.session() as session:
        recipe(World(session))


def published(
    db: Database,
    *,
    now: datetime = NOW,
    viewer: str | None = None,
    coordinators: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Everything a coordinator can be shown: ``viewer`` opens App Home; None is the CLI.
    ``coordinators``: MENTOR_ADMINS (a viewer not in it is a Slack admin)."""
    kwargs = {} if viewer is None else {"viewer": viewer}
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=now, coordinators=coordinators, **kwargs)
    return {
        "app_home": all_text(as_dicts(insights_blocks(report, nudge_action_id="nudge"))),
        "table": format_report(report, "table"),
        "csv": format_report(report, "csv"),
        "json": format_report(report, "json"),
        "chart": weekly_chart_png(report),
    }


def assert_same_outputs(
    db: Database,
    recipes: Iterable[Callable[[World], None]],
    *,
    viewers: tuple[str | None, ...] = (None,),
) -> None:
    """Each recipe builds the world with a different answer from the victim; every
    viewer must be shown exactly the same thing in every one of them, whether the
    coordinator is a Slack admin or listed in MENTOR_ADMINS."""
    recipes = list(recipes)
    for coordinators in ((), (COORDINATOR,)):
        seen: list[dict[str | None, dict[str, Any]]] = []
        for recipe in recipes:
            build(db, recipe)
            seen.append(
                {
                    viewer: published(db, viewer=viewer, coordinators=coordinators)
                    for viewer in viewers
                }
            )
        for other in seen[1:]:
            for viewer in viewers:
                for output, value in seen[0][viewer].items():
                    assert other[viewer][output] == value, (coordinators, viewer, output)


# ---------------------------------------------------------------- the attacks


@pytest.mark.parametrize("partners_answer", [False, True], ids=["alone", "with-partners"])
def test_forged_ratings_from_the_coordinators_own_pairs_unlock_nothing(
    db: Database, partners_answer: bool
) -> None:
    """The coordinator rates two meetings of their own pairs 5★ to push the count past
    K, hoping to read the victim's one rating from the distribution. Their answers are
    one person, and never counted in what they are shown."""

    def world(victims_rating: int) -> Callable[[World], None]:
        def recipe(w: World) -> None:
            victims = w.pair(1, VICTIMS_MENTOR, VICTIM)
            w.answer(w.meeting(victims, "2026-03-17"), VICTIM, usefulness=victims_rating)
            for pair_id, partner, day in (
                (2, PARTNER_X, "2026-03-18"),
                (3, PARTNER_Y, "2026-03-19"),
            ):
                meeting = w.meeting(w.pair(pair_id, COORDINATOR, partner), day)
                w.answer(meeting, COORDINATOR, usefulness=5)
                if partners_answer:
                    w.answer(meeting, partner, usefulness=5)

        return recipe

    assert_same_outputs(db, [world(r) for r in range(1, 6)], viewers=(None, COORDINATOR))


def test_one_person_with_many_answers_is_one_person(db: Database) -> None:
    """Answers are not people: three ratings from one person stay under K."""

    def world(ratings: tuple[int, int, int]) -> Callable[[World], None]:
        def recipe(w: World) -> None:
            victims = w.pair(1, VICTIMS_MENTOR, VICTIM)
            for day, rating in zip(
                ("2026-03-16", "2026-03-18", "2026-03-20"), ratings, strict=True
            ):
                w.answer(w.meeting(victims, day), VICTIM, usefulness=rating)
            w.vote(VICTIM, +1 if ratings[0] > 3 else -1, at("2026-03-17"))
            w.vote(VICTIM, +1 if ratings[1] > 3 else -1, at("2026-03-18"))
            w.vote(VICTIM, +1 if ratings[2] > 3 else -1, at("2026-03-19"))

        return recipe

    assert_same_outputs(db, [world((1, 1, 1)), world((5, 5, 5)), world((2, 4, 5))])


@pytest.mark.parametrize("others", [(1, 1), (5, 5, 5, 5)], ids=["three-people", "five-people"])
def test_a_group_that_answered_alike_does_not_give_everyone_away(
    db: Database, others: tuple[int, ...]
) -> None:
    """K people who all rated 1 (or all 5): a histogram or a mean would say what each
    of them answered. With the victim's rating free, nothing shown may change."""

    def world(victims_rating: int) -> Callable[[World], None]:
        def recipe(w: World) -> None:
            victims = w.pair(1, VICTIMS_MENTOR, VICTIM)
            w.answer(w.meeting(victims, "2026-03-17"), VICTIM, usefulness=victims_rating)
            for n, rating in enumerate(others):
                meeting = w.meeting(
                    w.pair(10 + n, f"UOMENTOR{n:02d}", f"UOMENTEE{n:02d}"), "2026-03-18"
                )
                w.answer(meeting, meeting.pair.mentee_id, usefulness=rating)

        return recipe

    assert_same_outputs(db, [world(r) for r in range(1, 6)])


def test_before_and_after_one_new_rating_show_the_same_figures(db: Database) -> None:
    """Open App Home, wait for the victim's rating, open it again: the figures of an
    open week are not shown, and a closed week's are frozen."""

    def recipe(w: World) -> None:
        w.busy_week(LAST_WEEK)
        w.meeting(w.pair(1, VICTIMS_MENTOR, VICTIM), "2026-03-24")

    build(db, recipe)
    before = published(db)
    with db.session() as session:
        meeting = session.query(Meeting).filter_by(pair_id=1).one()
        World(session).answer(meeting, VICTIM, usefulness=1, when=NOW - timedelta(hours=1))
    assert published(db) == before

    # A week later the week of 23 March is closed and shown, then frozen: the victim
    # changing their answer, or a late answer about that week, changes nothing.
    closed = published(db, now=NEXT_WEEK)
    with db.session() as session:
        row = session.query(Feedback).filter_by(user_id=VICTIM).one()
        row.usefulness, row.updated_at = 5, NEXT_WEEK - timedelta(hours=1)
        meeting = session.query(Meeting).filter_by(pair_id=1).one()
        World(session).answer(
            meeting, VICTIMS_MENTOR, usefulness=1, when=NEXT_WEEK - timedelta(hours=2)
        )
    assert published(db, now=NEXT_WEEK) == closed


def test_an_answer_stored_late_into_a_frozen_week_changes_nothing(db: Database) -> None:
    """A row dated inside a week that was already published (a slow writer, a clock
    that lags) must not reopen it: the published week is a stored snapshot."""

    def recipe(w: World) -> None:
        w.busy_week(LAST_WEEK)
        w.meeting(w.pair(1, VICTIMS_MENTOR, VICTIM), "2026-03-20")

    build(db, recipe)
    shown = published(db)
    with db.session() as session:
        w = World(session)
        meeting = session.query(Meeting).filter_by(pair_id=1).one()
        w.prep(meeting, answered=False)
        w.answer(meeting, VICTIM, happened="yes", usefulness=1)
        w.vote(VICTIM, -1, at("2026-03-21"))
    assert published(db) == shown


def test_totals_cannot_be_differenced_against_the_weeks(db: Database) -> None:
    """Weeks either side are published; the week between holds the victim and two
    people who rated 5. A total over all answers, minus the published weeks, would
    give that week away; totals must be sums of published cells."""

    def world(victims_rating: int) -> Callable[[World], None]:
        def recipe(w: World) -> None:
            w.busy_week("2026-03-03", first_id=100)
            w.busy_week("2026-03-17", first_id=200)
            victims = w.pair(1, VICTIMS_MENTOR, VICTIM)
            w.answer(w.meeting(victims, "2026-03-10"), VICTIM, usefulness=victims_rating)
            for n in range(2):
                meeting = w.meeting(
                    w.pair(10 + n, f"UOMENTOR{n:02d}", f"UOMENTEE{n:02d}"), "2026-03-11"
                )
                w.answer(meeting, meeting.pair.mentee_id, usefulness=5)

        return recipe

    assert_same_outputs(db, [world(r) for r in range(1, 6)], viewers=(None, COORDINATOR))

    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW)
    weeks = {w.week_start: w for w in report.weeks}
    middle = weeks[date(2026, 3, 9)]
    assert middle.useful.people == 3  # three people rated: a count that may be shown…
    assert middle.useful.yes is None  # …but not how they split: one side has < K people
    shown = [w.useful for w in report.weeks if w.useful.yes is not None]
    assert len(shown) == 2
    pooled = report.pooled("useful")
    assert (pooled.people, pooled.yes) == (
        sum(s.people for s in shown),
        sum(s.yes for s in shown),
    )


def test_pairs_at_risk_never_rest_on_a_rating(db: Database) -> None:
    """A per-pair 'low usefulness' flag next to the overall figures would hand over
    one pair's ratings. Flags come from meetings not happening, never from ratings."""

    def world(victims_rating: int) -> Callable[[World], None]:
        def recipe(w: World) -> None:
            w.busy_week(LAST_WEEK)
            victims = w.pair(1, VICTIMS_MENTOR, VICTIM)
            for day in ("2026-03-09", "2026-03-11", "2026-03-13"):
                w.answer(w.meeting(victims, day), VICTIM, usefulness=victims_rating)
            w.meeting(victims, "2026-03-27")

        return recipe

    flags = []
    for rating in (1, 5):
        build(db, world(rating))
        with db.session() as session:
            report = program_report(session, team_id=TEAM, now=NOW)
        blocks = as_dicts(insights_blocks(report, nudge_action_id="nudge"))
        flags.append(
            (
                report.at_risk,
                [b for b in blocks if b.get("block_id", "").startswith("insights_risk")],
                [line for line in format_report(report, "csv").splitlines() if "at_risk" in line],
            )
        )
    assert flags[0] == flags[1]
    assert all(item.pair_id != 1 for item in flags[0][0])


def test_no_coordinator_is_counted_in_what_they_see_nor_can_subtract_views(
    db: Database,
) -> None:
    """Two coordinators who answered differently. Figures that each left out only their
    own viewer's answers could be subtracted from one another (A's view, plus A's own
    answer, minus B's view: B's answer). Listed in MENTOR_ADMINS, both are left out of
    every figure and see exactly the same App Home and chart; as Slack admins (not
    listed), a figure that counts either is hidden for them, and what both are shown is
    the same number."""
    other = "UCOORD0002"

    def recipe(w: World) -> None:
        w.busy_week(LAST_WEEK, with_coordinator=True)
        extra = w.meeting(w.pair(1, other, PARTNER_Y), "2026-03-19")
        w.answer(extra, other, happened="no", usefulness=1)
        w.meeting(extra.pair, "2026-03-27")
        w.vote(other, -1, at("2026-03-20"))

    build(db, recipe)
    listed = (COORDINATOR, other)

    def shown_to(viewer: str) -> dict[str, Any]:
        # The report names whom it was made for; nothing else may differ.
        return {
            output: value.replace(viewer, "<viewer>") if isinstance(value, str) else value
            for output, value in published(db, viewer=viewer, coordinators=listed).items()
        }

    first, second = shown_to(COORDINATOR), shown_to(other)
    assert first == second
    assert "%" in first["app_home"]  # some figures are shown, not only hidden ones
    assert "your own answers" not in first["app_home"]
    with db.session() as session:
        cli = program_report(session, team_id=TEAM, now=NOW, coordinators=listed).weeks[-1]
    assert cli.feedback_people == 15  # the eight pairs' sixteen and the other, less both

    build(db, recipe)  # as Slack admins: the week is frozen with both of them in it
    with db.session() as session:
        weeks = {
            viewer: program_report(session, team_id=TEAM, now=NOW, viewer=viewer).weeks[-1]
            for viewer in (None, COORDINATOR, other)
        }
    for viewer in (COORDINATOR, other):
        assert weeks[viewer].yours == {"feedback_people", "met", "useful", "tips_liked"}
        for metric in ("feedback_people", "met", "useful", "prepared", "tips_liked"):
            hidden = None if metric == "feedback_people" else Split()
            expected = hidden if metric in weeks[viewer].yours else getattr(weeks[None], metric)
            assert getattr(weeks[viewer], metric) == expected, (viewer, metric)
    assert "hidden (it would count your own answers)" in published(db, viewer=other)["app_home"]


def test_a_coordinator_who_forgot_themselves_still_sees_k_besides_them(db: Database) -> None:
    """A Slack-admin coordinator said "no, it didn't happen" with two others; everyone
    else said yes. Then they used forget-me: their frozen part is under a tombstone that
    nothing links to them, so their own part can no longer be hidden from them. A figure
    counting a forgotten person needs K besides them on App Home (the CLI, with no
    viewer, keeps K), so nobody sees the 3-person "no" side it rests on."""
    other = "UCOORD0002"

    def recipe(w: World) -> None:
        for n in range(6):
            mentor = COORDINATOR if n == 0 else f"UFMENTOR{n:02d}"
            pair = w.pair(300 + n, mentor, f"UFMENTEE{n:02d}")
            meeting = w.meeting(pair, "2026-03-17")
            w.answer(meeting, pair.mentor_id, happened="no" if n < 3 else "yes")
            w.answer(meeting, pair.mentee_id, happened="yes")

    build(db, recipe)
    with db.session() as session:
        theirs = program_report(session, team_id=TEAM, now=NOW, viewer=COORDINATOR).weeks[-1]
        others = program_report(session, team_id=TEAM, now=NOW, viewer=other).weeks[-1]
    assert theirs.met == Split() and "met" in theirs.yours
    assert others.met == Split(people=12, yes=9)  # the week is frozen, them included
    with db.session() as session:
        forget_person(session, team_id=TEAM, user_id=COORDINATOR, now=NOW)
    with db.session() as session:
        views = {
            viewer: program_report(session, team_id=TEAM, now=NOW, viewer=viewer).weeks[-1]
            for viewer in (COORDINATOR, other)
        }
        cli = program_report(session, team_id=TEAM, now=NOW).weeks[-1]
    for week in views.values():
        assert week.met == Split(people=12, yes=None), week  # 3 on the "no" side < K + 1
        assert week.feedback_people == 12  # twelve: K + 1 and more
        assert week.yours == frozenset()
    assert cli.met == Split(people=12, yes=9)  # as frozen: a number shown never changes


def test_forgetting_the_victim_does_not_move_a_published_week(db: Database) -> None:
    """/mentor forget-me deletes prep answers: a live figure would drop by exactly the
    forgotten person. Published weeks keep their figures; only the program's state
    (the pairs the person leaves) moves."""
    forgotten = "UBMENTEE00"

    def figures() -> tuple[dict[str, Any], bytes]:
        shown = published(db)
        data = json.loads(shown["json"])
        for state in ("active_pairs", "ended_pairs", "open_invitations", "at_risk"):
            data.pop(state)
        return data, shown["chart"]

    build(db, lambda w: w.busy_week(LAST_WEEK))
    before = figures()
    with db.session() as session:
        forget_person(session, team_id=TEAM, user_id=forgotten, now=NOW)
    assert figures() == before
    with db.session() as session:
        for table in Base.metadata.sorted_tables:
            for row in session.execute(select(table)):
                assert forgotten not in repr(tuple(row)), table.name


def test_the_open_week_is_never_shown(db: Database) -> None:
    build(db, lambda w: w.busy_week("2026-03-24"))
    data = json.loads(published(db)["json"])
    assert data["weeks"], "the closed weeks are listed"
    assert data["weeks"][-1]["week_start"] == LAST_WEEK
    assert all(date.fromisoformat(w["week_start"]) < week_start(NOW) for w in data["weeks"])


def test_a_big_week_is_published_and_never_names_anyone(db: Database) -> None:
    """A week with plenty of people on both sides is shown, counted in people; swapping
    the victim's answers with another person's changes nothing."""

    def world(swap: bool) -> Callable[[World], None]:
        def recipe(w: World) -> None:
            w.busy_week(LAST_WEEK)
            victims = w.pair(1, VICTIMS_MENTOR, VICTIM)
            meeting = w.meeting(victims, "2026-03-18")
            w.answer(meeting, VICTIM, usefulness=1 if swap else 5)
            w.answer(meeting, VICTIMS_MENTOR, usefulness=5 if swap else 1)

        return recipe

    assert_same_outputs(db, [world(False), world(True)], viewers=(None, COORDINATOR))
    with db.session() as session:
        report = program_report(session, team_id=TEAM, now=NOW, viewer=COORDINATOR)
    last = report.weeks[-1]
    assert last.week_start == date(2026, 3, 16)
    assert (last.useful.people, last.useful.yes) == (18, 9)
    assert (last.met.people, last.met.yes) == (18, 14)
    # 3 on one side: K, and the viewer is none of them.
    assert (last.prepared.people, last.prepared.yes) == (8, 5)
    assert (last.tips_liked.people, last.tips_liked.yes) == (16, 13)
    assert last.feedback_people == 18
    with db.session() as session:
        cli = program_report(session, team_id=TEAM, now=NOW).weeks[-1]
    assert (cli.prepared.people, cli.prepared.yes) == (8, 5)
    assert (cli.tips_liked.people, cli.tips_liked.yes) == (16, 13)
    text = all_text(as_dicts(insights_blocks(report, nudge_action_id="nudge")))
    assert "50%" in text and "9 of 18" in text


# ---------------------------------------------------------------- K and the poll's words


def test_k_is_a_content_setting_of_at_least_three(db: Database, tmp_path: Path) -> None:
    folder = tmp_path / "content"
    shutil.copytree(bundled_content_dir(), folder)
    settings = folder / "settings.yml"
    assert load_content(folder).settings.privacy_minimum_people == 3
    text = settings.read_text("utf-8")
    settings.write_text(text.replace("privacy_minimum_people: 3", "privacy_minimum_people: 2"))
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    (problem,) = caught.value.problems
    assert problem.startswith(f"{settings}:") and "privacy_minimum_people" in problem
    assert "at least 3" in problem or "between 3" in problem

    # A larger K hides what a smaller one shows.
    build(db, lambda w: w.busy_week(LAST_WEEK))
    with db.session() as session:
        k3 = program_report(session, team_id=TEAM, now=NOW, minimum=3).weeks[-1]
        k6 = program_report(session, team_id=TEAM, now=NOW, minimum=6).weeks[-1]
    assert k3.met.yes == 12 and k6.met.yes is None  # four people said it did not happen
    assert k3.useful.yes == k6.useful.yes == 8


def test_the_poll_says_what_coordinators_really_see() -> None:
    content = load_content()
    for closing in (False, True):
        poll = feedback_poll(
            content,
            pair_id=1,
            meeting_id=None if closing else 2,
            partner_id="UPARTNER01",
            starts_at=None if closing else NOW,
            closing=closing,
        )
        text = all_text(as_dicts(poll.blocks))
        assert "only you and the program coordinators see them" not in text
        assert "never see your answers" in text
        assert "at least 3 people" in text
        assert "week" in text
