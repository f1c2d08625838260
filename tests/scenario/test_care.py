"""Care before a pair fails, through Slack with time moved by scheduler passes: kind
nudges to a pair that stalls, coordinators told only when a nudge changed nothing, the
private 30-day check-in, and its blame-free way out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from bot.ids import Action, Block
from bot.runtime import make_engine
from bot.services import pool
from bot.store.models import MatchCheckin, Pair, PoolMember, ScheduledMessage
from slackemu import Input
from tests.conftest import COORDINATOR, MENTEE, MENTOR, START, STRANGER, Harness, all_text

CHECKIN_TEXT = "How is your mentoring match going?"


def pair_up(h: Harness) -> str:
    h.slash(MENTOR, f"start <@{MENTEE}|bob>")
    h.click(MENTEE, h.last_dm(MENTEE), Action.ACCEPT_INVITE)
    return h.slack.wait_for("conversations.open").response["channel"]["id"]


def day(n: float) -> datetime:
    """``n`` days after the kickoff (START)."""
    return START + timedelta(days=n)


def tick(h: Harness, when: datetime) -> None:
    h.tick(when)
    h.slack.advance(6 * 3600)  # hours between passes: Slack's rate limits have refilled


def nudges(h: Harness, group: str) -> list[dict]:
    """The care nudges in the pair's group DM."""
    return [
        m
        for m in h.slack.messages_in(group)
        if any(str(b.get("block_id", "")).startswith("care:") for b in m.get("blocks") or ())
    ]


def at_risk_shown(h: Harness) -> str:
    """What the coordinator's App Home says about pairs at risk."""
    h.driver.app_home_opened(COORDINATOR)
    h.app.drain()
    home = h.slack.home_view(COORDINATOR)
    risky = [b for b in home["blocks"] if str(b.get("block_id", "")).startswith("insights_risk")]
    if risky:
        return " ".join(all_text(b) for b in risky)
    return "none" if "No pairs look at risk" in all_text(home) else "?"


def schedule_from(h: Harness, message: dict, times: list[datetime]) -> None:
    h.click(MENTOR, message, Action.OPEN_SCHEDULE)
    view = h.driver.last_view_opened(MENTOR)
    assert view["callback_id"] == "schedule_modal"
    values = {
        block: {"value": Input.datetime(int(t.timestamp()))}
        for block, t in zip(("meeting_1", "meeting_2", "meeting_3"), times, strict=True)
    }
    values[Block.LENGTH] = {"value": Input.plain_text(None)}
    h.submit(MENTOR, view, values)


def checkin_mornings(h: Harness) -> None:
    """Past day 30 (the check-ins are planned), then past each member's next working
    morning (09:00 in Kolkata and Los Angeles: they are sent)."""
    tick(h, day(30) + timedelta(hours=1))
    tick(h, day(31) + timedelta(hours=1))


def checkins(h: Harness, user: str) -> list[dict]:
    return [m for m in h.slack.messages_in(user) if m.get("text") == CHECKIN_TEXT]


def count(h: Harness, model: type, *where: object) -> int:
    with h.db.session() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


# ---------------------------------------------------------------- nudges


def test_no_first_meeting_is_nudged_once_then_at_risk_after_a_week(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    tick(h, day(20.9))
    assert nudges(h, group) == []
    tick(h, day(21) + timedelta(hours=1))
    [nudge] = nudges(h, group)
    text = all_text(nudge)
    assert "three weeks since you paired up" in text
    assert f"<@{MENTOR}>" in text and f"<@{MENTEE}>" in text
    assert [e["action_id"] for b in nudge["blocks"] for e in b.get("elements", [])] == [
        Action.OPEN_SCHEDULE
    ]
    # Later passes, a restarted process and two processes at once send nothing more.
    tick(h, day(22))
    engines = [make_engine(h.settings, h.app.deps.content, h.db) for _ in range(2)]
    try:
        for engine in engines:
            engine.run_pass(day(23), deliver=False)
    finally:
        for engine in engines:
            engine.close()
    tick(h, day(23))
    assert len(nudges(h, group)) == 1
    assert count(h, ScheduledMessage, ScheduledMessage.kind == "care_nudge") == 1
    # The pair heard first; coordinators see it only when a week has changed nothing.
    h.clock.set(day(27.5))
    assert at_risk_shown(h) == "none"
    tick(h, day(28) + timedelta(hours=2))
    shown = at_risk_shown(h)
    assert "no first meeting three weeks after kickoff" in shown
    assert f"<@{MENTOR}>" in shown and f"<@{MENTEE}>" in shown
    assert len(nudges(h, group)) == 1


def test_a_pair_that_schedules_after_the_nudge_never_shows_at_risk(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    tick(h, day(21) + timedelta(hours=1))
    [nudge] = nudges(h, group)
    h.clock.set(day(22))
    first = day(24)
    schedule_from(h, nudge, [first, first + timedelta(days=7), first + timedelta(days=14)])
    for n in (25, 29, 36):
        tick(h, day(n))
        assert at_risk_shown(h) == "none"
    assert len(nudges(h, group)) == 1


def test_thirty_days_without_a_meeting_is_nudged(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    first = day(1)
    schedule_from(h, h.slack.messages_in(group)[-1], [first, day(2), day(3)])
    tick(h, day(3) + timedelta(hours=3))
    tick(h, day(32.9))
    assert nudges(h, group) == []
    tick(h, day(33) + timedelta(hours=1))
    [nudge] = nudges(h, group)
    assert "about a month since you last met" in all_text(nudge)
    tick(h, day(36))
    assert len(nudges(h, group)) == 1


def test_two_meetings_in_a_row_that_did_not_happen_are_nudged(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    schedule_from(h, h.slack.messages_in(group)[-1], [day(1), day(2), day(9)])
    for n in (1, 2):
        tick(h, day(n) + timedelta(hours=2))
        poll = [m for m in h.slack.messages_in(MENTOR) if m.get("text", "").startswith("How did")]
        h.click(MENTOR, poll[-1], f"{Action.FEEDBACK_HAPPENED}:no")
        if n == 1:
            tick(h, day(1) + timedelta(hours=3))
            assert nudges(h, group) == []  # one is not two in a row
    tick(h, day(2) + timedelta(hours=3))
    [nudge] = nudges(h, group)
    assert "last two meetings didn't happen" in all_text(nudge)
    tick(h, day(4))
    assert len(nudges(h, group)) == 1


# ---------------------------------------------------------------- the 30-day check-in


def test_the_check_in_arrives_once_to_each_member_privately(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    tick(h, day(29.9))
    assert checkins(h, MENTOR) == checkins(h, MENTEE) == []
    # Day 30 is Wednesday 1 April, 18:00 UTC: 23:30 in Kolkata, and 11:00 in Los
    # Angeles, whose 09:00 is gone: each is asked the next working morning, not now.
    tick(h, day(30) + timedelta(hours=1))
    assert checkins(h, MENTOR) == checkins(h, MENTEE) == []
    tick(h, day(31))
    tick(h, day(45))
    [mine], [theirs] = checkins(h, MENTEE), checkins(h, MENTOR)
    assert f"<@{MENTOR}>" in all_text(mine) and f"<@{MENTEE}>" in all_text(theirs)
    assert not [m for m in h.slack.messages_in(group) if m.get("text") == CHECKIN_TEXT]

    # A score: kept for that member of that pair, shown on their own message.
    h.click(MENTEE, mine, f"{Action.CHECKIN_SCORE}:4")
    assert "✓ 4" in all_text(h.slack.message(mine["ts"]))
    assert "✓" not in all_text(h.slack.message(theirs["ts"]))
    h.click(MENTEE, h.slack.message(mine["ts"]), f"{Action.CHECKIN_SCORE}:4")
    with h.db.session() as s:
        [row] = s.scalars(select(MatchCheckin)).all()
        assert (row.user_id, row.score, row.not_working) == (MENTEE, 4, False)
    # The partner learns nothing of it.
    for call in h.slack.calls:
        if call.args.get("channel") in {MENTOR, h.slack.dm_channel(MENTOR), group}:
            assert "✓ 4" not in all_text(call.args)

    # A stranger's presses change nothing and are answered kindly.
    for action in (f"{Action.CHECKIN_SCORE}:1", Action.CHECKIN_NOT_WORKING):
        mark = h.slack.mark()
        response = h.click(STRANGER, mine, action, channel=h.slack.dm_channel(MENTEE))
        assert response.status == 200
        assert "not part of" in all_text(h.slack.wait_for("response_url", after=mark).args)
    assert count(h, MatchCheckin) == 1
    assert count(h, MatchCheckin, MatchCheckin.user_id == STRANGER) == 0


def test_a_check_in_never_sent_cannot_be_answered(harness: Harness) -> None:
    h = harness
    pair_up(h)
    with h.db.session() as s:
        pair_id = s.scalars(select(Pair.id)).one()
    forged = {
        "ts": "1.000001",
        "blocks": [
            {
                "type": "actions",
                "block_id": f"checkin:{pair_id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": f"{Action.CHECKIN_SCORE}:5",
                        "text": {"type": "plain_text", "text": "5"},
                        "value": f"{pair_id}:5",
                    }
                ],
            }
        ],
    }
    mark = h.slack.mark()
    response = h.click(
        MENTEE, forged, f"{Action.CHECKIN_SCORE}:5", channel=h.slack.dm_channel(MENTEE)
    )
    assert response.status == 200
    assert "not one of mine" in all_text(h.slack.wait_for("response_url", after=mark).args)
    assert count(h, MatchCheckin) == 0


def test_not_working_exit_rematch_and_both_back_in_the_pool(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    checkin_mornings(h)
    [mine] = checkins(h, MENTEE)
    h.click(MENTEE, mine, Action.CHECKIN_NOT_WORKING)
    assert "✓ This isn't working for me" in all_text(h.slack.message(mine["ts"]))
    offer = h.last_dm(MENTEE)
    assert "Not every match clicks" in all_text(offer)
    # Pressed again: no second offer.
    h.click(MENTEE, h.slack.message(mine["ts"]), Action.CHECKIN_NOT_WORKING)
    assert len([m for m in h.slack.messages_in(MENTEE) if "Not every match" in m["text"]]) == 1

    # Only the person who said so can take the way out.
    mark = h.slack.mark()
    h.click(STRANGER, offer, f"{Action.EXIT_CHOICE}:rematch", channel=h.slack.dm_channel(MENTEE))
    assert "not part of" in all_text(h.slack.wait_for("response_url", after=mark).args)
    mark = h.slack.mark()
    h.click(MENTOR, offer, f"{Action.EXIT_CHOICE}:rematch", channel=h.slack.dm_channel(MENTEE))
    assert "not one of mine" in all_text(h.slack.wait_for("response_url", after=mark).args)
    with h.db.session() as s:
        assert s.scalars(select(Pair.status)).one() == "active"

    mentor_before = len(h.slack.messages_in(MENTOR))
    h.click(MENTEE, offer, f"{Action.EXIT_CHOICE}:rematch")
    with h.db.session() as s:
        pair = s.scalars(select(Pair)).one()
        assert (pair.status, pair.ended_by) == ("ended", MENTEE)
        [back] = s.scalars(select(PoolMember)).all()
        assert (back.user_id, back.roles) == (MENTEE, "mentee")
        checkin = s.scalars(select(MatchCheckin)).one()
        assert (checkin.not_working, checkin.exit_choice) == (True, "rematch")
    # The one who asked reads it in place of the offer.
    answered = all_text(h.slack.message(offer["ts"]))
    assert "has ended" in answered and "back in the mentoring pool" in answered
    # The partner is told kindly, never why.
    [notice] = h.slack.messages_in(MENTOR)[mentor_before:]
    told = all_text(notice)
    assert "come to an end" in told and f"<@{MENTEE}>" in told
    for secret in ("isn't working", "check-in", "not working", "score"):
        assert secret not in told.lower()
    # Coordinators hear it privately; the group DM hears nothing of the reason.
    private = all_text(h.last_dm(COORDINATOR))
    assert "For coordinators only" in private and "asked to be matched again" in private
    assert not [m for m in h.slack.messages_in(group) if "check-in" in all_text(m)]
    # It's over: the way out is not taken twice (a stale copy of the offer, elsewhere).
    mark = h.slack.mark()
    h.click(MENTEE, offer, f"{Action.EXIT_CHOICE}:end", channel=h.slack.dm_channel(MENTEE))
    assert "already ended" in all_text(h.slack.wait_for("response_url", after=mark).args)
    # Nor does the check-in take a score for a pairing that is over.
    mark = h.slack.mark()
    h.click(MENTEE, h.slack.message(mine["ts"]), f"{Action.CHECKIN_SCORE}:5")
    assert "already ended" in all_text(h.slack.wait_for("response_url", after=mark).args)
    assert "✓ 5" not in all_text(h.slack.message(mine["ts"]))

    # The partner goes back to the pool only if they wish; a stranger cannot do it for them.
    mark = h.slack.mark()
    h.click(STRANGER, notice, Action.REJOIN_POOL, channel=h.slack.dm_channel(MENTOR))
    assert "not part of" in all_text(h.slack.wait_for("response_url", after=mark).args)
    assert count(h, PoolMember, PoolMember.user_id == MENTOR) == 0
    h.click(MENTOR, notice, Action.REJOIN_POOL)
    assert "mentoring pool as a mentor" in h.last_dm(MENTOR)["text"]
    mark = h.slack.mark()
    h.click(MENTOR, notice, Action.REJOIN_POOL)
    assert "already in the mentoring pool" in all_text(
        h.slack.wait_for("response_url", after=mark).args
    )
    with h.db.session() as s:
        matchable = pool.matchable(s, team_id=h.slack.team_id, now=h.clock.now)
    assert {(e.user_id, e.roles) for e in matchable} == {(MENTOR, "mentor"), (MENTEE, "mentee")}


def test_stay_only_records_and_end_leaves_the_pool(harness: Harness) -> None:
    h = harness
    pair_up(h)
    checkin_mornings(h)
    # The mentor had signed up to the pool: "no new match for now" takes them out.
    with h.db.session() as s:
        pool.rejoin(s, team_id=h.slack.team_id, user_id=MENTOR, role="mentor", now=h.clock.now)
    assert count(h, PoolMember, PoolMember.user_id == MENTOR) == 1
    [mine] = checkins(h, MENTOR)
    h.click(MENTOR, mine, Action.CHECKIN_NOT_WORKING)
    offer = h.last_dm(MENTOR)
    h.click(MENTOR, offer, f"{Action.EXIT_CHOICE}:stay")
    assert "the pairing carries on" in all_text(h.slack.message(offer["ts"]))
    with h.db.session() as s:
        assert s.scalars(select(Pair.status)).one() == "active"
    coordinator_dms = len(h.slack.messages_in(COORDINATOR))
    h.click(MENTOR, h.slack.message(offer["ts"]), f"{Action.EXIT_CHOICE}:end")
    with h.db.session() as s:
        assert s.scalars(select(Pair.status)).one() == "ended"
        assert s.scalars(select(MatchCheckin.exit_choice)).one() == "end"
    assert count(h, PoolMember, PoolMember.user_id == MENTOR) == 0
    assert "`/mentor join` puts you back" in all_text(h.slack.message(offer["ts"]))
    assert "come to an end" in h.last_dm(MENTEE)["text"]
    private = h.slack.messages_in(COORDINATOR)[coordinator_dms:]
    assert len(private) == 1 and "asked to be matched again" not in all_text(private[0])


def test_an_exit_takes_the_meetings_ahead_off_both_calendars(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    kickoff = h.slack.messages_in(group)[0]
    schedule_from(h, kickoff, [day(n) + timedelta(hours=16) for n in (33, 40, 47)])
    checkin_mornings(h)
    [mine] = checkins(h, MENTEE)
    h.click(MENTEE, mine, Action.CHECKIN_NOT_WORKING)
    files_before = [m for m in h.slack.messages_in(group) if m.get("files")]
    h.click(MENTEE, h.last_dm(MENTEE), f"{Action.EXIT_CHOICE}:end")
    shared = [m for m in h.slack.messages_in(group) if m.get("files")][len(files_before) :]
    assert len(shared) == 1 and len(shared[0]["files"]) == 3
    for file in shared[0]["files"]:
        ics = h.slack.file_content(file["id"]) or b""
        assert b"METHOD:CANCEL" in ics and b"STATUS:CANCELLED" in ics
        assert b"SEQUENCE:1" in ics
    # Then the group DM hears that the pairing ended (never why), the files explained.
    h.app.drain()
    ended = h.slack.messages_in(group)[-1]
    assert "has ended" in ended["text"] and "isn't working" not in all_text(ended)
    assert all_text(ended).count("Open the file above to take it off") == 3
