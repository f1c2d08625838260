"""A pair's goals and agreement: the rules, the store, and the Block Kit builders."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.domain.errors import UserError
from bot.domain.goals import (
    AGREEMENT_MAX,
    BY_WHEN,
    CADENCE,
    CONTACT,
    DONE,
    OPEN,
    SOME,
    WHAT,
    WHAT_MAX,
    WHY,
    WHY_MAX,
    Agreement,
    GoalInput,
    GoalState,
    asks_progress,
    cadence_interval,
    check_plan,
    latest_by_when,
    parse_progress_value,
    progress_value,
    status_after,
)
from bot.ids import GOAL_BLOCKS, INPUT_ACTION, Action
from bot.ids import Block as BlockId
from bot.store import goals as store
from bot.store.db import Database
from bot.store.models import GoalProgress, Meeting, Pair
from bot.views.common import MESSAGE_TEXT_BUDGET, as_dicts
from bot.views.goals import (
    by_when_text,
    goal_card,
    goal_progress_blocks,
    goals_form_errors,
    goals_home_blocks,
    goals_modal,
    prep_goal_lines,
    read_goals_form,
)
from slackemu.limits import blocks_text_length, validate_message_blocks, validate_view
from slackemu.taint import live_tokens
from tests.conftest import all_text

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
TEAM = "T0GOALS"
HOSTILE = "<!here> <@U0BOSS> <https://evil.example|click> & more"


def goal(position: int = 1, **kw) -> GoalInput:
    values = {"what": f"Goal {position}", "why": "Because", "by_when": TODAY + timedelta(days=90)}
    values.update(kw)
    return GoalInput(**values)


def state(position: int = 1, **kw) -> GoalState:
    values = {
        "id": 10 + position,
        "position": position,
        "what": f"Goal {position}",
        "why": "Because it matters",
        "by_when": TODAY + timedelta(days=60),
    }
    values.update(kw)
    return GoalState(**values)


# ---------------------------------------------------------------- rules


def test_a_full_plan_is_accepted_stripped_and_in_place():
    plan, problems = check_plan(
        [goal(1, what="  Lead a review  "), GoalInput(), goal(3)],
        Agreement("weekly", "  DM here ", " team news "),
        today=TODAY,
    )
    assert problems == {}
    assert [(g.position, g.what) for g in plan.goals] == [(1, "Lead a review"), (3, "Goal 3")]
    assert plan.agreement == Agreement("weekly", "DM here", "team news")


def test_an_empty_form_is_an_empty_plan():
    plan, problems = check_plan([GoalInput()] * 3, Agreement(), today=TODAY)
    assert problems == {} and plan.goals == () and plan.agreement.empty


@pytest.mark.parametrize(
    ("raw", "field", "fragment"),
    [
        (GoalInput(why="just why", by_when=TODAY + timedelta(days=5)), WHAT, "Name the goal"),
        (goal(what="x" * (WHAT_MAX + 1)), WHAT, f"keep it to {WHAT_MAX}"),
        (goal(why="y" * (WHY_MAX + 1)), WHY, f"keep it to {WHY_MAX}"),
        (goal(by_when=None), BY_WHEN, "Pick the date"),
        (goal(by_when=TODAY), BY_WHEN, "still ahead"),
        (goal(by_when=TODAY - timedelta(days=1)), BY_WHEN, "still ahead"),
        (goal(by_when=date(2028, 3, 3)), BY_WHEN, "within 2 years"),
    ],
)
def test_goal_problems_are_reported_by_place_and_field(raw, field, fragment):
    plan, problems = check_plan([GoalInput(), raw], Agreement(), today=TODAY)
    assert plan is None
    assert list(problems) == [(2, field)] and fragment in problems[(2, field)]


def test_lengths_at_the_limit_pass():
    plan, problems = check_plan(
        [goal(what="x" * WHAT_MAX, why="y" * WHY_MAX, by_when=latest_by_when(TODAY))],
        Agreement("monthly", "c" * AGREEMENT_MAX, "d" * AGREEMENT_MAX),
        today=TODAY,
    )
    assert problems == {} and len(plan.goals) == 1


def test_a_saved_date_that_has_passed_may_stay_but_not_be_set():
    passed = TODAY - timedelta(days=3)
    plan, problems = check_plan(
        [goal(1, by_when=passed), goal(2)],
        Agreement("weekly"),
        today=TODAY,
        saved_dates={1: passed},
    )
    assert problems == {} and plan.goals[0].by_when == passed
    plan, problems = check_plan(
        [goal(1, by_when=passed - timedelta(days=1))],
        Agreement(),
        today=TODAY,
        saved_dates={1: passed},
    )
    assert plan is None and "still ahead" in problems[(1, BY_WHEN)]


def test_two_years_from_a_leap_day():
    assert latest_by_when(date(2028, 2, 29)) == date(2030, 2, 28)


def test_more_than_three_goals_are_refused_whatever_the_form_sent():
    plan, problems = check_plan([goal(n) for n in range(1, 5)], Agreement(), today=TODAY)
    assert plan is None and "at most 3" in problems["goals"]


@pytest.mark.parametrize(
    ("agreement", "key"),
    [
        (Agreement(cadence="daily"), CADENCE),
        (Agreement(contact="c" * (AGREEMENT_MAX + 1)), CONTACT),
        (Agreement(confidential="c" * (AGREEMENT_MAX + 1)), "confidential"),
    ],
)
def test_agreement_problems(agreement, key):
    plan, problems = check_plan([], agreement, today=TODAY)
    assert plan is None and list(problems) == [key]


def test_progress_taps_and_status():
    assert status_after("done", OPEN) == DONE
    assert status_after("some", DONE) == OPEN
    assert status_after("not_started", OPEN) == OPEN
    assert [n for n in range(1, 8) if asks_progress(n)] == [2, 4, 6]


def test_progress_values_round_trip_and_junk_is_refused():
    value = progress_value(pair_id=7, goal_id=9, meeting_id=None, progress="some")
    tap = parse_progress_value(value)
    assert (tap.pair_id, tap.goal_id, tap.meeting_id, tap.progress) == (7, 9, None, "some")
    assert parse_progress_value("7:9:12:done").meeting_id == 12
    for junk in (
        "",
        "7:9:12",
        "7:9:12:finished",
        "a:9:1:done",
        "7:²:1:done",
        None,
        5,
        "7:9:99999999999:done",
        "7:9:1:done:extra",
    ):
        with pytest.raises(UserError):
            parse_progress_value(junk)


def test_cadence_interval_defaults_to_fortnightly():
    assert cadence_interval(None) == timedelta(days=14)
    assert cadence_interval("weekly") == timedelta(days=7)
    assert cadence_interval("monthly") == timedelta(days=28)


# ---------------------------------------------------------------- store


def _pair(db: Database, mentor: str = "UMENTOR", mentee: str = "UMENTEE", team: str = TEAM):
    with db.session() as session:
        pair = Pair(
            team_id=team,
            mentor_id=mentor,
            mentee_id=mentee,
            inviter_id=mentor,
            status="active",
            created_at=NOW,
            accepted_at=NOW,
        )
        session.add(pair)
        session.flush()
        meeting = Meeting(
            team_id=team,
            pair_id=pair.id,
            starts_at=NOW + timedelta(days=3),
            minutes=45,
            number=1,
            created_at=NOW,
        )
        session.add(meeting)
        session.flush()
        return pair.id, meeting.id


def _save(db, pair_id, goals, agreement=None, team=TEAM):
    plan, problems = check_plan(goals, agreement or Agreement(), today=TODAY)
    assert not problems
    with db.session() as session:
        rows, _ = store.save_plan(session, team_id=team, pair_id=pair_id, plan=plan, now=NOW)
        return [store.as_state(r) for r in rows]


def test_save_plan_keeps_status_of_kept_goals_and_drops_emptied_ones(db: Database):
    pair_id, meeting_id = _pair(db)
    saved = _save(db, pair_id, [goal(1), goal(2), goal(3)], Agreement("weekly", "DM", "all"))
    assert [g.position for g in saved] == [1, 2, 3]
    with db.session() as session:
        store.record_progress(
            session,
            team_id=TEAM,
            pair_id=pair_id,
            goal_id=saved[0].id,
            meeting_id=meeting_id,
            progress="done",
            now=NOW,
        )
    again = _save(db, pair_id, [goal(1, why="edited"), GoalInput(), goal(3)])
    assert [(g.position, g.status, g.why) for g in again] == [
        (1, DONE, "edited"),
        (3, OPEN, "Because"),
    ]
    assert again[0].id == saved[0].id
    with db.session() as session:
        agreement = store.agreement_value(
            store.agreement_of(session, team_id=TEAM, pair_id=pair_id)
        )
        assert agreement == Agreement()  # the second form left the agreement empty
        assert store.goals_of(session, team_id="T0OTHER", pair_id=pair_id) == []


def test_a_second_tap_on_the_same_poll_replaces_the_first(db: Database):
    pair_id, meeting_id = _pair(db)
    other_pair, other_meeting = _pair(db, "UOTHER1", "UOTHER2")
    [first] = _save(db, pair_id, [goal(1)])
    with db.session() as session:
        for progress in ("some", "done", "some"):
            row = store.record_progress(
                session,
                team_id=TEAM,
                pair_id=pair_id,
                goal_id=first.id,
                meeting_id=meeting_id,
                progress=progress,
                now=NOW,
            )
        assert (row.progress, row.status, row.done_at) == (SOME, OPEN, None)
        taps = session.scalars(select(GoalProgress)).all()
        assert [(t.meeting_id, t.progress) for t in taps] == [(meeting_id, "some")]
        assert store.progress_on(
            session, team_id=TEAM, goal_ids=[first.id], meeting_id=meeting_id
        ) == {first.id: "some"}

        def tap(**kw):
            values = dict(
                team_id=TEAM,
                pair_id=pair_id,
                goal_id=first.id,
                meeting_id=None,
                progress="done",
                now=NOW,
            )
            values.update(kw)
            return store.record_progress(session, **values)

        assert tap(team_id="T0OTHER") is None  # another workspace
        assert tap(pair_id=other_pair) is None  # a goal of another pair
        assert tap(meeting_id=other_meeting) is None  # a poll of another pair
        with pytest.raises(UserError):
            tap(progress="x")


def test_card_place_and_status(db: Database):
    pair_id, _ = _pair(db)
    [first] = _save(db, pair_id, [goal(1)])
    with db.session() as session:
        assert store.card_of(session, team_id=TEAM, pair_id=pair_id) is None
        store.set_card(session, team_id=TEAM, pair_id=pair_id, channel_id="G1", ts="1.2", now=NOW)
        assert store.card_of(session, team_id=TEAM, pair_id=pair_id) == ("G1", "1.2")
        row = store.set_status(session, team_id=TEAM, goal_id=first.id, status=DONE, now=NOW)
        assert row.status == DONE and row.done_at == NOW


def test_two_cards_posted_at_once_keep_one(db: Database):
    from bot.services.goals import card_posted
    from bot.store.models import ScheduledMessage

    pair_id, _ = _pair(db)
    _save(db, pair_id, [goal(1)])
    with db.session() as session:
        card_posted(session, team_id=TEAM, pair_id=pair_id, channel_id="G1", ts="1.1", now=NOW)
    with db.session() as session:
        # A second delivery that also found no card posted 1.2: it is deleted in Slack,
        # and the kept card is updated with the goals as they are.
        card_posted(session, team_id=TEAM, pair_id=pair_id, channel_id="G1", ts="1.2", now=NOW)
        assert store.card_of(session, team_id=TEAM, pair_id=pair_id) == ("G1", "1.1")
        rows = session.scalars(select(ScheduledMessage)).all()
        assert sorted(r.kind for r in rows) == ["goal_card", "slack_delete"]
        assert next(r for r in rows if r.kind == "slack_delete").payload == {
            "channel": "G1",
            "ts": "1.2",
        }
    with db.session() as session:
        # The card was deleted in Slack: its replacement takes its place.
        card_posted(
            session,
            team_id=TEAM,
            pair_id=pair_id,
            channel_id="G1",
            ts="1.3",
            now=NOW,
            replacing=("G1", "1.1"),
        )
        assert store.card_of(session, team_id=TEAM, pair_id=pair_id) == ("G1", "1.3")


def test_goal_counts_leave_out_the_viewers_pairs_and_carry_no_words(db: Database):
    ids = [_pair(db, f"UMENTOR{n}", f"UMENTEE{n}")[0] for n in range(4)]
    _pair(db, "UELSEWHERE1", "UELSEWHERE2", team="T0OTHER")
    for n, pair_id in enumerate(ids):
        saved = _save(db, pair_id, [goal(1), goal(2)][: 1 + n % 2])
        if n < 2:
            with db.session() as session:
                store.set_status(session, team_id=TEAM, goal_id=saved[0].id, status=DONE, now=NOW)
    with db.session() as session:
        counts = store.goal_counts(session, team_id=TEAM)
        assert counts == store.GoalCounts(4, 6, 2, 2)
        mine = store.goal_counts(session, team_id=TEAM, exclude_user="UMENTEE0")
        assert mine == store.GoalCounts(3, 5, 1, 1)


def test_forget_words_keeps_dates_and_statuses_only(db: Database):
    pair_id, _ = _pair(db)
    _save(
        db, pair_id, [goal(1, what="Secret goal", why="Secret why")], Agreement("weekly", "x", "y")
    )
    with db.session() as session:
        store.set_card(session, team_id=TEAM, pair_id=pair_id, channel_id="G1", ts="1.2", now=NOW)
        changed, cards = store.forget_words(session, team_id=TEAM, pair_ids=[pair_id])
        assert changed == 2 and cards == [("G1", "1.2")]
    with db.session() as session:
        [row] = store.goals_of(session, team_id=TEAM, pair_id=pair_id)
        assert (row.what, row.why, row.status) == ("", "", OPEN)
        data = store.plans_data(session, team_id=TEAM, pair_ids=[pair_id])
        assert data[0]["agreement"] == {"cadence": "weekly", "contact": "", "confidential": ""}
        assert store.card_of(session, team_id=TEAM, pair_id=pair_id) is None


def test_plans_data_is_what_my_data_shows(db: Database):
    pair_id, _ = _pair(db)
    other, _ = _pair(db, "UX", "UY")
    _save(db, pair_id, [goal(1, what="Own words")], Agreement("fortnightly"))
    with db.session() as session:
        data = store.plans_data(session, team_id=TEAM, pair_ids=[pair_id, other])
    assert [d["pair_id"] for d in data] == [pair_id]
    assert data[0]["goals"][0]["what"] == "Own words"


# ---------------------------------------------------------------- views


def test_modal_is_within_slacks_limits_and_prefilled(content):
    view = goals_modal(
        content,
        pair_id=5,
        goals=[state(1, what=HOSTILE), state(3, why="")],
        agreement=Agreement("monthly", "DM me", "team stuff"),
    ).to_dict()
    assert validate_view(view) == []
    assert len(view["title"]["text"]) <= 24 and len(view["blocks"]) <= 100
    by_block = {b.get("block_id"): b for b in view["blocks"]}
    assert by_block[BlockId.GOAL_1_WHAT]["element"]["initial_value"] == HOSTILE  # plain text
    assert by_block[BlockId.GOAL_1_WHAT]["element"]["max_length"] == WHAT_MAX
    assert by_block[BlockId.GOAL_1_WHY]["element"]["max_length"] == WHY_MAX
    assert "initial_value" not in by_block[BlockId.GOAL_2_WHAT]["element"]
    assert by_block[BlockId.GOAL_3_BY]["element"]["initial_date"] == "2026-05-01"
    assert by_block[BlockId.AGREE_CADENCE]["element"]["initial_option"]["value"] == "monthly"
    assert by_block[BlockId.AGREE_CONTACT]["element"]["max_length"] == AGREEMENT_MAX
    assert all(by_block[b]["optional"] for group in GOAL_BLOCKS for b in group)


def test_an_empty_modal_is_valid(content):
    assert validate_view(goals_modal(content, pair_id=1).to_dict()) == []


def _submitted(values: dict) -> dict:
    return {"state": {"values": {k: {INPUT_ACTION: v} for k, v in values.items()}}}


def test_the_submitted_form_reads_back_and_problems_map_to_blocks():
    view = _submitted(
        {
            BlockId.GOAL_1_WHAT: {"type": "plain_text_input", "value": "Speak up"},
            BlockId.GOAL_1_BY: {"type": "datepicker", "selected_date": "2026-06-01"},
            BlockId.GOAL_2_WHY: {"type": "plain_text_input", "value": "why only"},
            BlockId.GOAL_3_BY: {"type": "datepicker", "selected_date": "not-a-date"},
            BlockId.AGREE_CADENCE: {"selected_option": {"value": "hourly"}},
            BlockId.AGREE_CONTACT: {"type": "plain_text_input", "value": None},
        }
    )
    goals, agreement = read_goals_form(view)
    assert goals[0] == GoalInput("Speak up", None, date(2026, 6, 1))
    assert goals[2].by_when is None and goals[2].empty
    assert agreement == Agreement("hourly", "", "")
    _, problems = check_plan(goals, agreement, today=TODAY)
    errors = goals_form_errors(problems)
    assert set(errors) == {BlockId.GOAL_2_WHAT, BlockId.GOAL_2_BY, BlockId.AGREE_CADENCE}
    assert goals_form_errors({"goals": "too many"}) == {BlockId.GOAL_1_WHAT: "too many"}


def test_a_form_that_is_not_ours_reads_as_empty():
    goals, agreement = read_goals_form({"state": "nonsense"})
    assert all(g.empty for g in goals) and agreement.empty


def _pair_card(content, goals, agreement):
    """Pair 3's goal card, between UMENTOR and UMENTEE."""
    return goal_card(
        content,
        pair_id=3,
        mentor_id="UMENTOR",
        mentee_id="UMENTEE",
        goals=goals,
        agreement=agreement,
    )


def test_goal_card_escapes_the_pairs_words_and_fits_slack(content):
    goals = [
        state(1, what=HOSTILE, why=HOSTILE, status=DONE),
        state(2, what="<" * WHAT_MAX, why="&" * WHY_MAX, progress=SOME),
        state(3, what="Plain", why=""),
    ]
    message = _pair_card(content, goals, Agreement("weekly", "<" * AGREEMENT_MAX, HOSTILE))
    blocks = as_dicts(message.blocks)
    assert validate_message_blocks(blocks) == []
    shown = all_text(blocks)
    assert "&lt;!here&gt;" in shown and "<!here>" not in shown
    assert live_tokens(shown.replace("<@UMENTOR>", "").replace("<@UMENTEE>", "")) == []
    assert "Every week" in shown and "by 1 May 2026" in shown
    assert content.message("goals_mark_done") in shown
    assert content.message("goals_mark_some") in shown
    assert HOSTILE not in message.text  # the notification carries counts, not words
    assert message.text.endswith("2 open, 1 done")
    button = blocks[-1]["elements"][0]
    assert button["action_id"] == Action.OPEN_GOALS and button["value"] == "3"


# Typed words at their longest, of the characters that grow most when escaped.
_GROWING = st.sampled_from(["&", "<", ">", "a", " ", "é", "🙂"])


def _typed(longest: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(_GROWING, min_size=1, max_size=longest),
        st.sampled_from("&<>a").map(lambda c: c * longest),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    whats=st.lists(_typed(WHAT_MAX), min_size=3, max_size=3),
    whys=st.lists(_typed(WHY_MAX), min_size=3, max_size=3),
    contact=_typed(AGREEMENT_MAX),
    confidential=_typed(AGREEMENT_MAX),
)
def test_a_full_goal_card_fits_one_message_whatever_the_pair_typed(
    content, whats, whys, contact, confidential
):
    # Three goals and both agreement answers, each at most its server-side length: every
    # "&" is sent as five characters, and msg_blocks_too_long (about 11,000 characters
    # of block text, slackapi/bolt-js#2509) would keep the card from ever being posted.
    goals = [
        state(n, what=what, why=why, progress=SOME)
        for n, (what, why) in enumerate(zip(whats, whys, strict=True), start=1)
    ]
    message = _pair_card(content, goals, Agreement("weekly", contact, confidential))
    blocks = as_dicts(message.blocks)
    assert validate_message_blocks(blocks) == []
    assert blocks_text_length(blocks) <= MESSAGE_TEXT_BUDGET


def test_plain_words_on_the_goal_card_show_whole_at_their_longest(content):
    what, why = "w" * (WHAT_MAX - 1) + "W", "y" * (WHY_MAX - 1) + "Y"
    contact, confidential = "c" * (AGREEMENT_MAX - 1) + "C", "k" * (AGREEMENT_MAX - 1) + "K"
    message = _pair_card(
        content,
        [state(n, what=what, why=why) for n in (1, 2, 3)],
        Agreement("weekly", contact, confidential),
    )
    shown = all_text(as_dicts(message.blocks))
    for words in (what, why, contact, confidential):
        assert words in shown
    assert "…" not in shown


def test_an_empty_goal_card_invites_the_pair_to_set_goals(content):
    message = goal_card(content, pair_id=3, mentor_id="UA", mentee_id="UB", goals=[])
    blocks = as_dicts(message.blocks)
    assert validate_message_blocks(blocks) == []
    assert content.message("goals_set_button") in all_text(blocks)


def test_home_section_is_compact_and_escaped(content):
    blocks = as_dicts(
        goals_home_blocks(content, pair_id=4, goals=[state(1, what=HOSTILE), state(2)])
    )
    assert len(blocks) == 1
    assert validate_view({"type": "home", "blocks": blocks}) == []
    text = blocks[0]["text"]["text"]
    assert "1" in text and "&lt;!here&gt;" in text and "<!here>" not in text
    assert blocks[0]["accessory"]["action_id"] == Action.OPEN_GOALS
    none = as_dicts(goals_home_blocks(content, pair_id=4, goals=[]))
    assert content.message("goals_home_none") in none[0]["text"]["text"]


def test_prep_lines_show_open_goals_only(content):
    assert prep_goal_lines(content, [state(1, status=DONE)]) == []
    blocks = as_dicts(prep_goal_lines(content, [state(1, what=HOSTILE), state(2, status=DONE)]))
    assert validate_message_blocks(blocks) == []
    text = blocks[0]["text"]["text"]
    assert "Progress on" in text and "&lt;!here&gt;" in text and "Goal 2" not in text


def test_progress_row_per_goal_marks_the_choice(content):
    goals = [state(1), state(2, what=HOSTILE), state(3, status=DONE)]
    blocks = as_dicts(
        goal_progress_blocks(content, pair_id=8, meeting_id=40, goals=goals, chosen={11: "done"})
    )
    assert validate_message_blocks(blocks) == []
    rows = [b for b in blocks if b["type"] == "actions"]
    assert len(rows) == 2  # the goal already done is not asked about
    first = rows[0]["elements"]
    assert [e["action_id"] for e in first] == [
        f"{Action.GOAL_PROGRESS}:not_started",
        f"{Action.GOAL_PROGRESS}:some",
        f"{Action.GOAL_PROGRESS}:done",
    ]
    assert first[2]["text"]["text"].startswith("✓ ") and first[2]["style"] == "primary"
    assert parse_progress_value(first[1]["value"]).meeting_id == 40
    assert "<!here>" not in all_text(blocks)
    assert goal_progress_blocks(content, pair_id=8, meeting_id=40, goals=[state(status=DONE)]) == []


def test_by_when_is_a_plain_date():
    assert by_when_text(date(2026, 6, 9)) == "9 Jun 2026"
