"""Care before a pair fails: the nudge and at-risk rules, the 30-day check-in, the
blame-free exit, their store and their Block Kit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import care
from bot.domain.care import (
    AT_RISK,
    END,
    HELD,
    MISSED,
    MISSED_TWICE,
    NO_FIRST_MEETING,
    NONE,
    NUDGE,
    QUIET,
    REMATCH,
    STAY,
    UNKNOWN,
    WAIT,
    MeetingFact,
    PairFacts,
    assess,
    check_exit_choice,
    check_score,
    checkin_due,
    exit_effects,
    outcome_of,
    parse_exit_value,
    parse_score_value,
)
from bot.domain.errors import Conflict, UserError
from bot.ids import Action
from bot.store import checkins
from bot.store.db import Database
from bot.store.models import Pair
from bot.views.care import (
    care_nudge,
    checkin_message,
    coordinator_exit_notice,
    exit_answered,
    exit_offer,
    partner_exit_notice,
)
from bot.views.common import as_dicts
from slackemu.limits import validate_message_blocks
from tests.conftest import all_text

KICKOFF = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def day(n: float) -> datetime:
    return KICKOFF + timedelta(days=n)


def meeting(on: float, outcome: str = UNKNOWN, *, created: float = 0, cancelled=False):
    return MeetingFact(
        starts_at=day(on), created_at=day(created), cancelled=cancelled, outcome=outcome
    )


def facts(*meetings: MeetingFact, nudged: float | None = None) -> PairFacts:
    return PairFacts(1, KICKOFF, tuple(meetings), None if nudged is None else day(nudged))


def test_outcome_of_poll_answers():
    assert outcome_of(["yes", "no"]) == HELD
    assert outcome_of(["no", None]) == MISSED
    assert outcome_of(["rescheduled"]) == MISSED
    assert outcome_of([None]) == UNKNOWN == outcome_of([])


def test_a_new_pair_has_three_weeks_to_meet():
    assert assess(facts(), now=day(20.9)).action == NONE
    result = assess(facts(), now=day(21))
    assert (result.action, result.reason, result.since) == (NUDGE, NO_FIRST_MEETING, day(21))


def test_a_meeting_ahead_is_enough():
    assert assess(facts(meeting(25, created=10)), now=day(22)).action == NONE


def test_a_first_meeting_that_did_not_happen_is_no_first_meeting():
    result = assess(facts(meeting(5, MISSED)), now=day(22))
    assert result.reason == NO_FIRST_MEETING


def test_quiet_after_thirty_days_without_a_meeting():
    held = meeting(10, HELD)
    assert assess(facts(held), now=day(39)).action == NONE
    result = assess(facts(held), now=day(40))
    assert (result.action, result.reason) == (NUDGE, QUIET)
    # A meeting nobody rated still counts: no answer is not a "no".
    assert assess(facts(meeting(10)), now=day(39)).action == NONE


def test_two_didnt_happen_in_a_row_even_with_a_meeting_ahead():
    pair = facts(
        meeting(5, HELD),
        meeting(12, MISSED),
        meeting(19, UNKNOWN),
        meeting(26, MISSED),
        meeting(40, created=1),
    )
    result = assess(pair, now=day(27))
    assert (result.action, result.reason, result.since) == (NUDGE, MISSED_TWICE, day(26))
    # A held meeting in between breaks the run.
    broken = facts(meeting(5, MISSED), meeting(12, HELD), meeting(19, MISSED))
    assert assess(broken, now=day(20)).action == NONE


def test_nudged_pairs_get_a_week_then_coordinators_see_them():
    pair = facts(nudged=21.5)
    assert assess(pair, now=day(28)).action == WAIT
    result = assess(pair, now=day(28.5))
    assert (result.action, result.reason) == (AT_RISK, NO_FIRST_MEETING)
    assert [c.pair_id for c in care.at_risk([pair], now=day(29))] == [1]
    assert care.to_nudge([pair], now=day(29)) == []


def test_any_change_after_the_nudge_keeps_them_off_the_list():
    # A meeting set after the nudge and then cancelled is no change; setting one is.
    cancelled = facts(meeting(30, created=23, cancelled=True), nudged=22)
    assert assess(cancelled, now=day(31)).action == AT_RISK
    rescheduled = facts(
        meeting(20, MISSED), meeting(27, MISSED), meeting(29, created=28), nudged=27.5
    )
    assert assess(rescheduled, now=day(40)).action == WAIT


def test_a_meeting_set_after_the_nudge_that_did_not_happen_is_no_change():
    # Nudged on day 21, they set a meeting for day 25 on day 22, and it didn't happen.
    pair = facts(meeting(25, MISSED, created=22), nudged=21)
    assert assess(pair, now=day(24)).action != AT_RISK  # still ahead: their chance
    assert assess(pair, now=day(28.5)).action == AT_RISK
    assert [c.pair_id for c in care.at_risk([pair], now=day(60))] == [1]


def test_a_new_episode_after_a_nudge_is_nudged_again():
    # Nudged for "no first meeting" on day 21, they met on day 25, then went quiet.
    pair = facts(meeting(25, HELD, created=22), nudged=21)
    result = assess(pair, now=day(56))
    assert (result.action, result.reason) == (NUDGE, QUIET)


def test_checkin_after_thirty_days_for_active_pairs():
    assert not checkin_due(kickoff=KICKOFF, pair_status="active", now=day(29.9))
    assert checkin_due(kickoff=KICKOFF, pair_status="active", now=day(30))
    assert not checkin_due(kickoff=KICKOFF, pair_status="ended", now=day(31))
    assert not checkin_due(kickoff=None, pair_status="active", now=day(31))


def test_scores_and_choices_are_checked():
    assert check_score(5) == 5
    for bad in (0, 6, "3", True, None):
        with pytest.raises(UserError):
            check_score(bad)
    assert check_exit_choice(STAY, pair_status="ended") == STAY
    with pytest.raises(Conflict):
        check_exit_choice(REMATCH, pair_status="ended")
    with pytest.raises(UserError):
        check_exit_choice("divorce", pair_status="active")


def test_button_values_round_trip_and_junk_is_refused():
    assert parse_score_value("12:4") == (12, 4)
    assert parse_exit_value("12:rematch") == (12, REMATCH)
    for junk in ("12:9", "x:4", "12", "", None, "99999999999:1", "12:rematch:x"):
        with pytest.raises(UserError):
            parse_score_value(junk)
    for junk in ("12:leave", ":end", "²:end", None):
        with pytest.raises(UserError):
            parse_exit_value(junk)


def test_exit_effects_are_blame_free():
    members = ("UMENTOR", "UMENTEE")
    rematch = exit_effects(members=members, by="UMENTEE", choice=REMATCH)
    assert rematch == care.ExitEffects(True, "UMENTEE", ("UMENTEE",), "UMENTOR", True)
    end = exit_effects(members=members, by="UMENTOR", choice=END)
    assert end.back_to_pool == () and end.offer_pool_to == "UMENTEE" and end.end_pair
    assert not exit_effects(members=members, by="UMENTOR", choice=STAY).end_pair
    with pytest.raises(ValueError):
        exit_effects(members=members, by="USTRANGER", choice=END)


# ---------------------------------------------------------------- store


def test_checkin_answers_are_one_row_per_person_and_pair(db: Database):
    with db.session() as session:
        pair = Pair(
            team_id="T1",
            mentor_id="UA",
            mentee_id="UB",
            inviter_id="UA",
            status="active",
            created_at=KICKOFF,
            accepted_at=KICKOFF,
        )
        session.add(pair)
        session.flush()
        checkins.record_score(
            session, team_id="T1", pair_id=pair.id, user_id="UA", score=2, now=day(30)
        )
        checkins.record_score(
            session, team_id="T1", pair_id=pair.id, user_id="UA", score=4, now=day(31)
        )
        checkins.record_not_working(
            session, team_id="T1", pair_id=pair.id, user_id="UB", now=day(31)
        )
        checkins.record_exit_choice(
            session, team_id="T1", pair_id=pair.id, user_id="UB", choice=REMATCH, now=day(31)
        )
        with pytest.raises(UserError):
            checkins.record_score(
                session, team_id="T1", pair_id=pair.id, user_id="UA", score=9, now=day(31)
            )
        with pytest.raises(ValueError):
            checkins.record_exit_choice(
                session, team_id="T1", pair_id=pair.id, user_id="UA", choice="x", now=day(31)
            )
    with db.session() as session:
        mine = checkins.answers_of(session, team_id="T1", user_id="UA")
        assert [(a["score"], a["not_working"]) for a in mine] == [(4, False)]
        theirs = checkins.get(session, team_id="T1", pair_id=pair.id, user_id="UB")
        assert theirs.not_working and theirs.exit_choice == REMATCH and theirs.score is None
        assert checkins.get(session, team_id="T2", pair_id=pair.id, user_id="UB") is None
        assert checkins.forget(session, team_id="T1", user_id="UB") == 1
        assert checkins.answers_of(session, team_id="T1", user_id="UB") == []


# ---------------------------------------------------------------- views


@pytest.mark.parametrize("reason", [NO_FIRST_MEETING, QUIET, MISSED_TWICE])
def test_nudge_is_kind_with_one_button(content, reason):
    slots = [day(40), day(54), day(68)]
    message = care_nudge(
        content, pair_id=3, reason=reason, mentor_id="UA", mentee_id="UB", slots=slots
    )
    blocks = as_dicts(message.blocks)
    assert validate_message_blocks(blocks) == []
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert [(b["action_id"], b["value"]) for b in buttons] == [(Action.OPEN_SCHEDULE, "3")]
    assert all_text(blocks).count("<!date^") == 3
    no_slots = care_nudge(
        content, pair_id=3, reason=reason, mentor_id="UA", mentee_id="UB", slots=[]
    )
    assert content.message("slots_none") in all_text(as_dicts(no_slots.blocks))


def test_checkin_is_private_and_marks_the_choice(content):
    message = checkin_message(content, pair_id=5, partner_id="UB", score=4)
    blocks = as_dicts(message.blocks)
    assert validate_message_blocks(blocks) == []
    scores = blocks[1]["elements"]
    assert [e["value"] for e in scores] == [f"5:{n}" for n in range(1, 6)]
    assert scores[3]["text"]["text"] == "✓ 4" and scores[3]["style"] == "primary"
    assert blocks[2]["elements"][0]["action_id"] == Action.CHECKIN_NOT_WORKING
    assert "never" in all_text(blocks)  # says who never sees it
    assert parse_score_value(scores[0]["value"]) == (5, 1)


def test_exit_offer_partner_notice_and_coordinators(content):
    offer = as_dicts(exit_offer(content, pair_id=5, partner_id="UB").blocks)
    assert validate_message_blocks(offer) == []
    choices = [parse_exit_value(e["value"]) for e in offer[1]["elements"]]
    assert choices == [(5, REMATCH), (5, END), (5, STAY)]

    notice = partner_exit_notice(content, pair_id=5, ended_by="UA")
    shown = all_text(as_dicts(notice.blocks))
    assert validate_message_blocks(as_dicts(notice.blocks)) == []
    assert "nobody's fault" in shown and "isn't working" not in shown
    assert as_dicts(notice.blocks)[1]["elements"][0]["action_id"] == Action.REJOIN_POOL

    told = coordinator_exit_notice(
        content, mentor_id="UA", mentee_id="UB", ended_by="UB", rematch=True
    )
    assert "<@UB> asked to be matched again" in told.text
    assert validate_message_blocks(as_dicts(told.blocks)) == []
    for choice in (REMATCH, END, STAY):
        answered = exit_answered(content, partner_id="UA", choice=choice)
        assert validate_message_blocks(as_dicts(answered.blocks)) == []


def test_pair_facts_from_the_store_feed_the_rules(db: Database):
    from bot.store.care import pair_facts
    from bot.store.models import Feedback, Meeting

    with db.session() as session:
        quiet = Pair(
            team_id="T1",
            mentor_id="UA",
            mentee_id="UB",
            inviter_id="UA",
            status="active",
            created_at=KICKOFF,
            accepted_at=KICKOFF,
        )
        missing = Pair(
            team_id="T1",
            mentor_id="UC",
            mentee_id="UD",
            inviter_id="UC",
            status="active",
            created_at=KICKOFF,
            accepted_at=KICKOFF,
        )
        gone = Pair(
            team_id="T1",
            mentor_id="UE",
            mentee_id="UF",
            inviter_id="UE",
            status="ended",
            created_at=KICKOFF,
            accepted_at=KICKOFF,
        )
        session.add_all([quiet, missing, gone])
        session.flush()
        for number, on in enumerate((5, 12), start=1):
            m = Meeting(
                team_id="T1",
                pair_id=missing.id,
                starts_at=day(on),
                minutes=45,
                number=number,
                created_at=KICKOFF,
            )
            session.add(m)
            session.flush()
            session.add(
                Feedback(
                    team_id="T1",
                    pair_id=missing.id,
                    meeting_id=m.id,
                    user_id="UD",
                    happened="no",
                    usefulness=None,
                    updated_at=day(on + 1),
                )
            )
        session.add(
            Meeting(
                team_id="T1",
                pair_id=quiet.id,
                starts_at=day(3),
                minutes=45,
                number=1,
                created_at=KICKOFF,
            )
        )
    with db.session() as session:
        found = pair_facts(session, team_id="T1", nudged_at={quiet.id: day(34)})
        assert pair_facts(session, team_id="T2") == []
    assert [f.pair_id for f in found] == [quiet.id, missing.id]
    assert found[0].nudged_at == day(34) and found[1].nudged_at is None
    assert [m.outcome for m in found[1].meetings] == [MISSED, MISSED]
    assert assess(found[1], now=day(13)).reason == MISSED_TWICE
    assert assess(found[0], now=day(41)).action == AT_RISK  # quiet since day 33, nudged 34


def test_a_checkin_long_overdue_is_not_sent():
    # Two weeks past its day (a pass that did not run, a pair older than the feature),
    # "you've been paired for a month" would be wrong: no check-in then.
    assert checkin_due(kickoff=KICKOFF, pair_status="active", now=day(43.9))
    assert not checkin_due(kickoff=KICKOFF, pair_status="active", now=day(44))


def test_keep_going_keeps_the_way_out(content):
    kept = as_dicts(exit_answered(content, partner_id="UA", choice=STAY, pair_id=5).blocks)
    assert validate_message_blocks(kept) == []
    assert [parse_exit_value(e["value"]) for e in kept[1]["elements"]] == [
        (5, REMATCH),
        (5, END),
        (5, STAY),
    ]
    assert "carries on" in all_text(kept)
    ended = as_dicts(exit_answered(content, partner_id="UA", choice=END, pair_id=5).blocks)
    assert "elements" not in str(ended)


# The bundled content's tip time and days: 09:00, Monday to Friday.
MORNINGS = {"tip_minute": 9 * 60, "working_days": frozenset(range(5))}


def test_a_checkin_reaches_each_member_in_their_own_working_morning():
    # Due on a Saturday 17:00 UTC (kickoff + 30 days): Monday 09:00 in each zone.
    saturday = datetime(2026, 4, 4, 17, 0, tzinfo=UTC)
    kolkata = care.checkin_send_at(now=saturday, tz="Asia/Kolkata", **_minute(9 * 60))
    berlin = care.checkin_send_at(now=saturday, tz="Europe/Berlin", **_minute(8 * 60 + 30))
    assert kolkata == datetime(2026, 4, 6, 3, 30, tzinfo=UTC)  # 09:00 IST
    assert berlin == datetime(2026, 4, 6, 6, 30, tzinfo=UTC)  # 08:30 CEST, their own time
    # Due on a Tuesday before their morning: that morning; after it: the next one.
    tuesday_early = datetime(2026, 4, 7, 1, 0, tzinfo=UTC)
    assert care.checkin_send_at(now=tuesday_early, tz="Asia/Kolkata", **_minute(540)) == (
        datetime(2026, 4, 7, 3, 30, tzinfo=UTC)
    )
    tuesday_late = datetime(2026, 4, 7, 12, 0, tzinfo=UTC)
    assert care.checkin_send_at(now=tuesday_late, tz="Asia/Kolkata", **_minute(540)) == (
        datetime(2026, 4, 8, 3, 30, tzinfo=UTC)
    )


def _minute(minute: int) -> dict:
    return {"minute_of_day": minute, "working_days": MORNINGS["working_days"]}


def test_the_care_pass_plans_each_nudge_and_checkin_once(db: Database):
    """Two passes (two processes) at the same instant, and later ones: one nudge per
    episode, one check-in per member; a new episode is nudged again."""
    from sqlalchemy import select

    from bot import outgoing
    from bot.services.care import care_teams, plan_care
    from bot.store.models import Meeting, ScheduledMessage, Workspace

    with db.session() as session:
        pair = Pair(
            team_id="T1",
            mentor_id="UA",
            mentee_id="UB",
            inviter_id="UA",
            status="active",
            created_at=KICKOFF,
            accepted_at=KICKOFF,
        )
        paused = Pair(
            team_id="T2",
            mentor_id="UC",
            mentee_id="UD",
            inviter_id="UC",
            status="active",
            created_at=KICKOFF,
            accepted_at=KICKOFF,
        )
        session.add_all([pair, paused])
        session.add(Workspace(team_id="T2", status="paused", reason="token_revoked", since=KICKOFF))
        session.flush()
        pair_id = pair.id

    def planned() -> list[tuple[str, str, str]]:
        with db.session() as session:
            return [
                (row.kind, row.recipient, row.payload.get("reason", ""))
                for row in session.scalars(select(ScheduledMessage).order_by(ScheduledMessage.id))
            ]

    with db.session() as session:
        assert care_teams(session) == ["T1"]  # a paused workspace is left alone
    for now in (day(20), day(21), day(21), day(22), day(30), day(30.5), day(35)):
        with db.session() as session:
            plan_care(session, team_id="T1", now=now, **MORNINGS)
    group = outgoing.pair_recipient(pair_id)
    assert planned() == [
        (outgoing.CARE_NUDGE, group, NO_FIRST_MEETING),
        (outgoing.CHECKIN, "UA", ""),
        (outgoing.CHECKIN, "UB", ""),
    ]
    # They met on day 36 and then went quiet: a new episode, a new nudge.
    with db.session() as session:
        session.add(
            Meeting(
                team_id="T1",
                pair_id=pair_id,
                starts_at=day(36),
                minutes=45,
                number=1,
                created_at=day(35),
            )
        )
    for now in (day(60), day(66), day(66.1)):
        with db.session() as session:
            plan_care(session, team_id="T1", now=now, **MORNINGS)
    assert planned()[3:] == [(outgoing.CARE_NUDGE, group, QUIET)]
