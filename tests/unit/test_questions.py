"""The question parking lot: what may be parked, the store, and the prep lines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain.errors import Conflict, UserError
from bot.domain.questions import (
    OPEN_MAX,
    PREP_SHOWN,
    QUESTION_MAX,
    Question,
    check_question,
    cleared_by,
    for_prep,
)
from bot.store import questions as store
from bot.store.db import Database
from bot.store.models import Pair
from bot.views.common import as_dicts
from bot.views.questions import prep_question_blocks, question_parked
from slackemu.limits import validate_message_blocks
from slackemu.taint import live_tokens
from tests.conftest import all_text

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
TEAM = "T0ASK"
HOSTILE = "<!channel> see <https://evil.example|this> & <@U0BOSS>"


def q(n: int, text: str = "Question", who: str = "UMENTEE", minutes: int = 0) -> Question:
    return Question(n, who, f"{text} {n}", NOW + timedelta(minutes=minutes or n))


def test_a_question_is_one_line_and_stripped():
    assert check_question("  How do I\n  ask for feedback?  ", open_count=0) == (
        "How do I ask for feedback?"
    )


@pytest.mark.parametrize("text", ["", "   ", None, "\n\t"])
def test_an_empty_question_says_how(text):
    with pytest.raises(UserError, match="/mentor ask"):
        check_question(text, open_count=0)


def test_length_is_checked_on_the_server():
    assert len(check_question("x" * QUESTION_MAX, open_count=0)) == QUESTION_MAX
    with pytest.raises(UserError, match="nothing was saved"):
        check_question("x" * (QUESTION_MAX + 1), open_count=0)


def test_the_lot_has_a_bound():
    check_question("fine", open_count=OPEN_MAX - 1)
    with pytest.raises(Conflict):
        check_question("one more", open_count=OPEN_MAX)


def test_prep_shows_the_oldest_first_and_counts_the_rest():
    questions = [q(n, minutes=100 - n) for n in range(1, PREP_SHOWN + 4)]
    prep = for_prep(questions)
    assert len(prep.shown) == PREP_SHOWN and prep.more == 3
    assert [x.asked_at for x in prep.shown] == sorted(x.asked_at for x in questions)[:PREP_SHOWN]
    assert for_prep([]).shown == () and for_prep([]).more == 0


def test_a_held_meeting_clears_what_its_prep_listed():
    sent = NOW + timedelta(minutes=5)
    questions = [q(1, minutes=1), q(2, minutes=5), q(3, minutes=9)]
    assert [x.id for x in cleared_by(questions, prep_sent_at=sent)] == [1]
    # Beyond what the prompt showed ("…and 3 more"), questions wait for the next one.
    many = [q(n, minutes=n) for n in range(1, PREP_SHOWN + 4)]
    cleared = cleared_by(many, prep_sent_at=NOW + timedelta(hours=1))
    assert [x.id for x in cleared] == list(range(1, PREP_SHOWN + 1))


# ---------------------------------------------------------------- store


def _pair(db: Database, team: str = TEAM) -> int:
    with db.session() as session:
        pair = Pair(
            team_id=team,
            mentor_id="UMENTOR",
            mentee_id="UMENTEE",
            inviter_id="UMENTOR",
            status="active",
            created_at=NOW,
            accepted_at=NOW,
        )
        session.add(pair)
        session.flush()
        return pair.id


def test_park_list_and_clear(db: Database):
    pair_id = _pair(db)
    other = _pair(db, "T0OTHER")
    with db.session() as session:
        store.park(
            session, team_id=TEAM, pair_id=pair_id, user_id="UMENTEE", text=" First ", now=NOW
        )
        store.park(
            session,
            team_id=TEAM,
            pair_id=pair_id,
            user_id="UMENTOR",
            text="Second",
            now=NOW + timedelta(hours=2),
        )
        store.park(
            session, team_id="T0OTHER", pair_id=other, user_id="UX", text="Elsewhere", now=NOW
        )
    with db.session() as session:
        found = store.open_questions(session, team_id=TEAM, pair_id=pair_id)
        assert [(x.asked_by, x.text) for x in found] == [
            ("UMENTEE", "First"),
            ("UMENTOR", "Second"),
        ]
        assert (
            store.clear_for_meeting(
                session, team_id=TEAM, pair_id=pair_id, prep_sent_at=NOW + timedelta(hours=1)
            )
            == 1
        )
    with db.session() as session:
        assert [x.text for x in store.open_questions(session, team_id=TEAM, pair_id=pair_id)] == [
            "Second"
        ]
        assert len(store.open_questions(session, team_id="T0OTHER", pair_id=other)) == 1


def test_park_refuses_too_long_and_too_many(db: Database):
    pair_id = _pair(db)
    with db.session() as session:
        with pytest.raises(UserError):
            store.park(
                session,
                team_id=TEAM,
                pair_id=pair_id,
                user_id="UMENTEE",
                text="x" * (QUESTION_MAX + 1),
                now=NOW,
            )
        for n in range(OPEN_MAX):
            store.park(
                session, team_id=TEAM, pair_id=pair_id, user_id="UMENTEE", text=f"q{n}", now=NOW
            )
        with pytest.raises(Conflict):
            store.park(
                session, team_id=TEAM, pair_id=pair_id, user_id="UMENTEE", text="too many", now=NOW
            )


def test_forget_deletes_their_questions_and_scrubs_their_id(db: Database):
    pair_id = _pair(db)
    with db.session() as session:
        store.park(session, team_id=TEAM, pair_id=pair_id, user_id="UMENTEE", text="mine", now=NOW)
        store.park(
            session,
            team_id=TEAM,
            pair_id=pair_id,
            user_id="UMENTOR",
            text="ask <@UMENTEE> about it",
            now=NOW,
        )
        assert store.questions_by(session, team_id=TEAM, user_id="UMENTEE")[0]["question"] == "mine"
        assert store.forget(session, team_id=TEAM, user_id="UMENTEE", tombstone="ANON-1") == 1
    with db.session() as session:
        [left] = store.open_questions(session, team_id=TEAM, pair_id=pair_id)
        assert left.text == "ask <@ANON-1> about it"


# ---------------------------------------------------------------- views


def test_prep_lines_escape_and_fit_even_the_worst_questions(content):
    questions = [q(n, text="<" * (QUESTION_MAX - 3)) for n in range(1, 12)]
    blocks = as_dicts(prep_question_blocks(content, for_prep(questions)))
    assert validate_message_blocks(blocks) == []
    # Eight are listed at most; of those, the questions' share of the prompt's text
    # (QUESTIONS_BUDGET) holds three at their longest: the other eight are counted.
    assert all_text(blocks).count("(<@UMENTEE>)") == 3
    assert "8 more" in all_text(blocks)
    hostile = as_dicts(prep_question_blocks(content, for_prep([q(1, text=HOSTILE)])))
    text = all_text(hostile)
    assert "&lt;!channel&gt;" in text and "<!channel>" not in text
    assert live_tokens(text.replace("<@UMENTEE>", "")) == []
    assert prep_question_blocks(content, for_prep([])) == []


def test_the_confirmation_does_not_repeat_the_question(content):
    message = question_parked(content)
    assert validate_message_blocks(as_dicts(message.blocks)) == []
    assert "Parked" in message.text
