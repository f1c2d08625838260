"""Daily tips over eight weeks: chosen at send time from what each person received.

Passes run twice a day (05:00 and 19:00 UTC: after the mentee's 09:00 in Kolkata and
the mentor's 09:00 in Los Angeles), except where a test skips days, runs a pass far
too late, or turns tips off and on: the tips those would have sent are dropped, and
none of that may cost a place in anyone's rotation.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.content import Content, bundled_content_dir, load_content
from bot.domain.tips import Pairing, Received, TipHistory, tip_order
from bot.ids import Action, Block
from bot.scheduling.tipchoice import tip_options
from bot.store.models import ScheduledMessage, TipReceived
from bot.store.repo import _stable_seed
from slackemu import Input
from tests.conftest import MENTEE, MENTOR, START, STRANGER, Harness

TIP_PREFIX = "Today's mentoring tip: "
MORNING, EVENING = 5, 19  # UTC hours of the two daily passes


def pair_up(h: Harness) -> None:
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)


def tip_messages(h: Harness, user: str) -> list[dict]:
    return [m for m in h.slack.messages_in(user) if m.get("text", "").startswith(TIP_PREFIX)]


def tip_ids(h: Harness, user: str, content: Content) -> list[str]:
    by_text = {p.text: p.id for p in (*content.mentor_practices, *content.mentee_practices)}
    return [by_text[m["text"].removeprefix(TIP_PREFIX)] for m in tip_messages(h, user)]


def day(n: int, hour: int, minute: int = 0) -> datetime:
    """Day ``n`` of the scenario (day 0 = Monday 2 March 2026) at hour:minute UTC."""
    first = START.replace(hour=0, minute=0)
    return first + timedelta(days=n, hours=hour, minutes=minute)


def tick(h: Harness, now: datetime) -> None:
    h.tick(now)
    # Hours pass between passes: Slack's per-channel rate limit has long refilled.
    h.slack.advance(6 * 3600)


def run_days(
    h: Harness,
    first: int,
    last: int,
    *,
    skip: frozenset[int] = frozenset(),
    late: frozenset[int] = frozenset(),
    each_day: Callable[[int], None] | None = None,
) -> None:
    """Run the two daily passes for days ``first`` … ``last - 1``.

    ``skip``: no pass at all that day. ``late``: the morning pass runs at 12:00 UTC,
    so the mentee's tip is more than six hours late and is dropped.
    """
    for n in range(first, last):
        if n in skip:
            continue
        tick(h, day(n, 12 if n in late else MORNING))
        tick(h, day(n, EVENING))
        if each_day is not None:
            each_day(n)


def assert_no_repeat_before_all(received: list[str], practice_ids: list[str]) -> list[list[str]]:
    """Split ``received`` into cycles; a tip repeats only once the whole list was sent.

    Returns the cycles (the last may be incomplete).
    """
    cycles: list[list[str]] = [[]]
    for tip in received:
        if tip in cycles[-1]:
            missing = set(practice_ids) - set(cycles[-1])
            assert not missing, f"{tip} repeated before {sorted(missing)} in {cycles}"
            cycles.append([])
        cycles[-1].append(tip)
    return cycles


def test_skipped_late_and_paused_tips_cost_no_place_in_the_rotation(
    harness: Harness, content: Content
) -> None:
    h = harness
    pair_up(h)
    run_days(h, 0, 12, skip=frozenset({5, 6, 7, 8}), late=frozenset({10}))
    # Tips off in the evening, after the next tip was planned; back on a day later.
    h.slash(MENTEE, "tips off")
    h.slash(MENTOR, "tips off")
    tick(h, day(12, MORNING))
    tick(h, day(12, EVENING))
    h.clock.set(day(13, 1))
    h.slash(MENTEE, "tips on")
    h.slash(MENTOR, "tips on")
    run_days(h, 13, 56, skip=frozenset({20, 21, 22, 33}), late=frozenset({27, 40, 41}))

    mentee = [p.id for p in content.mentee_practices]
    mentor = [p.id for p in content.mentor_practices]
    received = tip_ids(h, MENTEE, content)
    assert len(received) >= 30
    cycles = assert_no_repeat_before_all(received, mentee)
    assert len(cycles) >= 3
    assert all(sorted(c) == sorted(mentee) for c in cycles[:-1])
    received = tip_ids(h, MENTOR, content)
    cycles = assert_no_repeat_before_all(received, mentor)
    assert all(sorted(c) == sorted(mentor) for c in cycles[:-1])


# ---------------------------------------------------------------- eight weeks, every rule

POLL_TEXT = "How did your mentoring meeting go?"
ADDED = "mentee-reflect-weekly"
# Meeting days chosen so that a low rating after one of them makes a difference to
# what comes next (the test checks that it does, and fails if no meeting qualifies).
MEETING_DAYS = (15, 30, 51)


class Journal:
    """Each tip as it arrives: (pass time, practice id), per person."""

    def __init__(self, h: Harness, content: Content, users: tuple[str, ...]) -> None:
        self.h = h
        self.by_text: dict[str, str] = {}
        self.learn(content)
        self.sent: dict[str, list[tuple[datetime, str]]] = {u: [] for u in users}

    def learn(self, content: Content) -> None:
        practices = (*content.mentor_practices, *content.mentee_practices)
        self.by_text |= {p.text: p.id for p in practices}

    def tick(self, now: datetime) -> None:
        self.during(now, lambda: tick(self.h, now))

    def during(self, now: datetime, action: Callable[[], object]) -> None:
        """Log the tips that arrive while ``action`` runs: a pass, or a request after
        which the sender delivers whatever is due (a tip included)."""
        before = {u: len(tip_messages(self.h, u)) for u in self.sent}
        action()
        for user, log in self.sent.items():
            for message in tip_messages(self.h, user)[before[user] :]:
                log.append((now, self.by_text[message["text"].removeprefix(TIP_PREFIX)]))

    def run(
        self,
        first: int,
        last: int,
        *,
        skip: frozenset[int] = frozenset(),
        late: frozenset[int] = frozenset(),
    ) -> None:
        for n in range(first, last):
            if n not in skip:
                self.tick(day(n, 12 if n in late else MORNING))
                self.tick(day(n, EVENING))

    def ids(self, user: str) -> list[str]:
        return [tip for _, tip in self.sent[user]]


def current_turn(received: list[str]) -> list[str]:
    """The tips of the turn in progress: since the last repeat."""
    turn: list[str] = []
    for tip in received:
        if tip in turn:
            turn = []
        turn.append(tip)
    return turn


def edited_content(folder: Path, *, remove: str) -> Content:
    """The bundled content with one mentee practice removed and one added."""
    shutil.copytree(bundled_content_dir(), folder)
    path = folder / "practices.yml"
    text = path.read_text(encoding="utf-8")
    start = text.index(f"  - id: {remove}\n")
    end = text.index("\n\n", start) + 2
    text = text[:start] + text[end:]
    agenda = text.index("# The first-meeting agenda")
    added = (
        f"  - id: {ADDED}\n"
        '    text: "Once a week, write down one thing you learned and one you will try."\n\n'
    )
    path.write_text(text[:agenda] + added + text[agenda:], encoding="utf-8")
    return load_content(folder)


def schedule_meetings(h: Harness, times: list[datetime]) -> None:
    group = h.slack.wait_for("conversations.open").response["channel"]["id"]
    kickoff = h.slack.messages_in(group)[0]
    h.click(MENTOR, kickoff, Action.OPEN_SCHEDULE)
    view = h.driver.last_view_opened(MENTOR)
    values = {
        block: {"value": Input.datetime(int(t.timestamp()))}
        for block, t in zip(("meeting_1", "meeting_2", "meeting_3"), times, strict=True)
    }
    values[Block.LENGTH] = {"value": Input.plain_text(None)}
    response = h.submit(MENTOR, view, values)
    assert response.status == 200 and not response.body


def next_without_rating(h: Harness, content: Content, now: datetime) -> str:
    """The mentee's next tip by the rotation alone (their pairing is weeks old)."""
    with h.db.session() as s:
        rows = s.scalars(select(TipReceived).where(TipReceived.user_id == MENTEE)).all()
        history = TipHistory(
            received={r.practice_id: Received(r.cycle, r.last_sent_at, r.disliked) for r in rows},
            pairings=(Pairing("mentee", START),),
        )
        team = rows[0].team_id
    _, order = tip_order(
        tip_options(content, "mentee"), history, seed=_stable_seed(team, MENTEE), now=now
    )
    return order[0]


def rate_last_meeting(h: Harness, user: str, usefulness: int) -> None:
    poll = [m for m in h.slack.messages_in(user) if m.get("text") == POLL_TEXT][-1]
    h.click(user, poll, f"{Action.FEEDBACK_HAPPENED}:yes")
    h.click(user, h.slack.message(poll["ts"]), f"{Action.FEEDBACK_USEFULNESS}:{usefulness}")


def test_eight_weeks_of_tips_that_adapt(harness: Harness, content: Content, tmp_path: Path) -> None:
    h = harness
    log = Journal(h, content, (MENTOR, MENTEE))
    pair_up(h)
    meetings = [day(n, 12) for n in MEETING_DAYS]  # 17:30 in Kolkata
    schedule_meetings(h, meetings)
    mentee_list = [p.id for p in content.mentee_practices]

    # Week 1: the mentee's third tip is 👎'd as soon as it arrives.
    log.run(0, 3)
    log.tick(day(3, MORNING))
    disliked = log.ids(MENTEE)[-1]
    h.click(MENTEE, tip_messages(h, MENTEE)[-1], Action.TIP_DOWN)
    log.tick(day(3, EVENING))
    # Four days with no pass at all, then a morning pass far too late.
    log.run(4, 12, skip=frozenset({5, 6, 7, 8}), late=frozenset({10}))
    # Tips off for a day: the tip already planned is cancelled.
    h.slash(MENTEE, "tips off")
    log.run(12, 13)
    h.clock.set(day(13, 1))
    h.slash(MENTEE, "tips on")
    log.run(13, 17)

    # The coordinator edits the content: a practice still to come in the mentee's
    # current turn is removed, and a new one added.
    turn = current_turn(log.ids(MENTEE))
    tagged = {p.id for p in content.mentee_practices if p.relationship or p.after_low_rating}
    removed = next(p for p in mentee_list if p not in turn and p not in tagged | {disliked})
    edited = edited_content(tmp_path / "content", remove=removed)
    h.app.deps.content = edited
    log.learn(edited)
    edit_index = len(log.sent[MENTEE])
    # The mentee rates the first meeting they can low (1 of 5) while a practice that
    # fits a low rating is still to come in their turn (its poll goes out at the
    # evening pass of the meeting's day); the others go unanswered.
    fitting = {p.id for p in edited.mentee_practices if p.after_low_rating}
    still_to_come: set[str] = set()
    rated_index = None
    for n in range(17, 56):
        if n in {20, 21, 22, 33}:
            continue
        log.run(n, n + 1, late=frozenset({27, 40, 41}))
        if rated_index is None and day(n, 12) in meetings:
            still_to_come = fitting - set(current_turn(log.ids(MENTEE)))
            # Only where it makes a difference: without the rating, another comes next.
            if still_to_come and next_without_rating(h, edited, day(n + 1, 4)) not in fitting:
                rate_last_meeting(h, MENTEE, 1)
                rated_index = len(log.sent[MENTEE])
    assert rated_index is not None, "no meeting was rated low"

    received = log.ids(MENTEE)
    assert len(received) >= 30

    # Relationship practices first in the pairing's first two weeks, for each role.
    relationship = [p.id for p in content.mentee_practices if p.relationship]
    assert set(received[: len(relationship)]) == set(relationship)
    mentor_relationship = [p.id for p in content.mentor_practices if p.relationship]
    mentor_received = log.ids(MENTOR)
    assert set(mentor_received[: len(mentor_relationship)]) == set(mentor_relationship)
    assert all(when < START + timedelta(weeks=2) for when, _ in log.sent[MENTOR][:3])

    # No repeat before the whole current list was sent; the 👎'd practice sits out
    # every other turn and comes last when it is sent.
    turns: list[list[str]] = [[]]
    for index, tip in enumerate(received):
        if tip in turns[-1]:
            current = mentee_list if index < edit_index else [p.id for p in edited.mentee_practices]
            sat_out = {disliked} if len(turns) >= 2 and disliked in turns[-2] else set()
            missing = set(current) - set(turns[-1]) - sat_out
            assert not missing, f"{tip} repeated before {sorted(missing)}: {turns}"
            turns.append([])
        turns[-1].append(tip)
    assert len(turns) >= 4, turns
    for previous, turn in zip(turns, turns[1:-1], strict=False):
        assert (disliked in turn) != (disliked in previous), turns
        if disliked in turn:
            assert turn[-1] == disliked, turns

    # The removed practice is never sent after the edit; the added one joins the turn
    # that was in progress.
    assert removed not in received[edit_index:]
    edit_turn = next(t for t in turns if ADDED in t)
    assert removed not in edit_turn
    assert received.index(ADDED) < edit_index + len(turn) + len(mentee_list)

    # After the low rating the fitting practice(s) still to come are sent next.
    after = received[rated_index : rated_index + len(still_to_come)]
    assert set(after) == still_to_come, (after, still_to_come)

    # Every tip row went out once or was dropped; none failed.
    with h.db.session() as s:
        statuses = set(
            s.scalars(select(ScheduledMessage.status).where(ScheduledMessage.kind == "tip"))
        )
    assert statuses <= {"sent", "cancelled", "pending"}, statuses


def test_a_new_role_joins_the_rotation_with_its_own_relationship_tips(
    harness: Harness, content: Content
) -> None:
    h = harness
    log = Journal(h, content, (MENTOR,))
    pair_up(h)
    log.run(0, 21, skip=frozenset({9, 10}))  # three weeks as a mentor only
    assert len(log.ids(MENTOR)) == 12  # 15 working days, 3 of them missed
    # Dave asks Alice to be his mentee: her list becomes both lists.
    h.clock.set(day(21, 20))
    log.during(h.clock.now, lambda: h.slash(STRANGER, f"start <@{MENTOR}|alice> as mentor"))
    invitation = [m for m in h.slack.messages_in(MENTOR) if "invited you" in m["text"]][-1]
    log.during(h.clock.now, lambda: h.click(MENTOR, invitation, Action.ACCEPT_INVITE))
    joined = len(log.sent[MENTOR])
    log.run(22, 56, skip=frozenset({30, 31}), late=frozenset({36}))

    received = log.ids(MENTOR)
    mentor_list = [p.id for p in content.mentor_practices]
    both = mentor_list + [p.id for p in content.mentee_practices]
    # The new pairing's (mentee) relationship practices come first.
    mentee_relationship = {p.id for p in content.mentee_practices if p.relationship}
    assert set(received[joined : joined + len(mentee_relationship)]) == mentee_relationship
    # No repeat before the whole list of the day: mentor practices only while she
    # was only a mentor, all twenty after.
    turn: list[str] = []
    for index, tip in enumerate(received):
        if tip in turn:
            expected = mentor_list if index < joined else both
            assert not set(expected) - set(turn), (tip, turn)
            turn = []
        turn.append(tip)
    # The turn in progress goes on with what is left of it: the mentor practices not
    # yet sent in it, and all the mentee practices.
    left = set(both) - set(current_turn(received[:joined]))
    assert set(received[joined : joined + len(left)]) == left


def test_tips_off_and_on_before_the_tip_time_keeps_that_days_tip(harness: Harness) -> None:
    h = harness
    pair_up(h)
    tick(h, day(1, 1))  # plans Tuesday's tip for the mentee's 09:00 (03:30 UTC)
    with h.db.session() as session:
        planned = session.scalars(
            select(ScheduledMessage).where(
                ScheduledMessage.kind == "tip", ScheduledMessage.recipient == MENTEE
            )
        ).all()
    assert [m.status for m in planned] == ["pending"]
    h.clock.set(day(1, 2))
    h.slash(MENTEE, "tips off")
    h.slash(MENTEE, "tips on")  # changed their mind before the tip was due
    tick(h, day(1, 2, 30))  # a pass plans it again (serve runs one every minute)
    tick(h, day(1, MORNING))
    assert len(tip_messages(h, MENTEE)) == 1
    tick(h, day(2, MORNING))
    assert len(tip_messages(h, MENTEE)) == 2
