"""The question parking lot through Slack: `/mentor ask` parks a question for the next
meeting (bad input refused, nothing saved), the next prep prompt lists the questions to
both members, escaped, and a meeting held clears the ones parked before it."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from bot.domain.questions import OPEN_MAX, QUESTION_MAX
from bot.ids import Action
from bot.store.models import Pair, ParkedQuestion
from slackemu import Input
from tests.conftest import COORDINATOR, MENTEE, MENTOR, STRANGER, Harness, all_text
from tests.scenario.test_coaching import end_pairing
from tests.scenario.test_forget_and_export import _forget_me

PARKED = "Parked for your next meeting"


def pair_up(h: Harness, mentor: str = MENTOR, mentee: str = MENTEE) -> str:
    h.slash(mentor, f"start <@{mentee}|someone>")
    h.click(mentee, h.last_dm(mentee), Action.ACCEPT_INVITE)
    return h.slack.calls_to("conversations.open")[-1].response["channel"]["id"]


def count(h: Harness) -> int:
    with h.db.session() as s:
        return s.scalar(select(func.count()).select_from(ParkedQuestion))


def ask(h: Harness, user: str, text: str) -> str:
    response = h.slash(user, f"ask {text}".rstrip())
    assert response.status == 200
    return all_text(response.json)


def preps(h: Harness, user: str) -> list[dict]:
    return [m for m in h.slack.messages_in(user) if "Prepare for" in m.get("text", "")]


def schedule(h: Harness, group: str, first_in: timedelta) -> list:
    kickoff = next(m for m in h.slack.messages_in(group) if "Welcome" in m.get("text", ""))
    h.click(MENTOR, kickoff, Action.OPEN_SCHEDULE)
    view = h.driver.last_view_opened(MENTOR)
    first = h.clock.now + first_in
    times = [first + timedelta(days=7 * i) for i in range(3)]
    h.submit(
        MENTOR,
        view,
        {
            block: {"value": Input.datetime(int(t.timestamp()))}
            for block, t in zip(("meeting_1", "meeting_2", "meeting_3"), times, strict=True)
        },
    )
    return times


def test_bad_questions_are_refused_and_change_nothing(harness: Harness) -> None:
    h = harness
    # Not in a pair yet.
    assert "not in an active mentoring pair" in ask(h, MENTOR, "Anything?")
    pair_up(h)
    assert "`/mentor ask <question>`" in all_text(h.slash(MENTEE, "help").json)
    assert "Add the question after the command" in ask(h, MENTEE, "")
    assert "Add the question after the command" in ask(h, MENTEE, "   ")
    too_long = ask(h, MENTEE, "q" * (QUESTION_MAX + 1))
    assert f"{QUESTION_MAX + 1:,} characters" in too_long and "nothing was saved" in too_long
    # A stranger with no pair cannot park anything in theirs.
    assert "not in an active mentoring pair" in ask(h, STRANGER, "Let me in?")
    assert count(h) == 0
    # At the limit it is accepted; the answer does not repeat the question.
    answer = ask(h, MENTEE, "q" * QUESTION_MAX)
    assert PARKED in answer and "qqqq" not in answer
    for n in range(OPEN_MAX - 1):
        assert PARKED in ask(h, MENTOR if n % 2 else MENTEE, f"Question {n}?")
    assert count(h) == OPEN_MAX
    assert f"already has {OPEN_MAX} questions" in ask(h, MENTOR, "One more?")
    assert count(h) == OPEN_MAX


def test_several_pairs_name_the_partner(harness: Harness) -> None:
    h = harness
    pair_up(h)
    pair_up(h, mentor=MENTOR, mentee=STRANGER)
    refusal = ask(h, MENTOR, "Which pair gets this?")
    assert "more than one pair" in refusal and "@partner" in refusal
    stray = ask(h, MENTOR, f"<@{COORDINATOR}|carol> Which pair gets this?")
    assert f"not in an active pair with <@{COORDINATOR}>" in stray, stray
    assert count(h) == 0
    assert PARKED in ask(h, MENTOR, f"<@{STRANGER}|dave> How do reviews work here?")
    assert "Add the question" in ask(h, MENTOR, f"<@{STRANGER}|dave>")
    with h.db.session() as s:
        [row] = s.scalars(select(ParkedQuestion)).all()
        assert row.text == "How do reviews work here?"
    # With one pair, a leading mention of someone else is part of the question.
    assert PARKED in ask(h, MENTEE, f"<@{STRANGER}|dave> said what about reviews?")
    with h.db.session() as s:
        texts = sorted(r.text for r in s.scalars(select(ParkedQuestion)))
    # Kept by ID (shown as Slack shows a mention), never by the handle "dave".
    assert texts == [f"@{STRANGER} said what about reviews?", "How do reviews work here?"]


def test_several_pairs_end_or_schedule_the_one_named(harness: Harness) -> None:
    """In two pairs, `/mentor end` and `/mentor schedule` ask for the partner (there is
    no End button anywhere else), and `/mentor end @partner` ends that pair only."""
    h = harness
    pair_up(h)
    pair_up(h, mentor=MENTOR, mentee=STRANGER)
    for verb in ("end", "schedule"):
        refusal = all_text(h.slash(MENTOR, verb).json)
        assert "more than one pair" in refusal and f"`/mentor {verb} @partner`" in refusal
    stray = all_text(h.slash(MENTOR, f"end <@{COORDINATOR}|carol>").json)
    assert "not in an active pair with" in stray
    confirm = end_pairing(h, MENTOR, f"end <@{STRANGER}|dave>")
    assert f"<@{STRANGER}>" in all_text(confirm) and "End pairing" in all_text(confirm)
    with h.db.session() as s:
        status = {p.mentee_id: p.status for p in s.scalars(select(Pair))}
    assert status == {MENTEE: "active", STRANGER: "ended"}
    # One pair left: the plain command means it again.
    assert "End pairing" in all_text(h.slash(MENTOR, "end").json)


def test_prep_lists_questions_then_a_held_meeting_clears_them(harness: Harness) -> None:
    h = harness
    group = pair_up(h)
    times = schedule(h, group, timedelta(days=3))
    ask(h, MENTEE, "How do I say no to <!channel> requests & *urgent* asks?")
    ask(h, MENTOR, "Shall we look at <https://evil.example|your plan>?")
    h.tick(times[0] - timedelta(hours=24))
    for user in (MENTEE, MENTOR):
        shown = all_text(preps(h, user)[-1])
        assert "Questions parked for this meeting" in shown, user
        assert "How do I say no to @channel requests &amp; *urgent* asks?" in shown
        assert f"(<@{MENTEE}>)" in shown and "your plan" in shown
        # A link's address is shown in the open beside its words, never behind them.
        assert "your plan (https://evil.example)" in shown
        assert "<!channel>" not in shown and "<https://evil.example" not in shown
    # Questions parked after the prompt went out, even before the meeting, were never
    # shown: they wait for the next meeting's prep, as does one parked during it.
    h.clock.set(times[0] - timedelta(hours=2))
    ask(h, MENTOR, "Parked after the prep prompt")
    h.clock.set(times[0] + timedelta(minutes=10))
    ask(h, MENTEE, "Parked during the meeting")
    h.tick(times[0] + timedelta(hours=2))
    poll = h.last_dm(MENTOR)
    # "Didn't happen" clears nothing; "yes, it happened" clears what was parked before it.
    h.click(MENTOR, poll, "feedback_happened:no")
    assert count(h) == 4
    h.click(MENTOR, h.slack.message(poll["ts"]), "feedback_happened:yes")
    assert count(h) == 2
    h.tick(times[1] - timedelta(hours=24))
    shown = all_text(preps(h, MENTEE)[-1])
    assert "Parked during the meeting" in shown and "say no to" not in shown
    assert "Parked after the prep prompt" in shown
    assert "Add focus and questions" in shown  # the prep form's button is still there


def test_a_person_mentioned_in_a_question_is_shown_by_name_and_forgotten_with_forget_me(
    harness: Harness,
) -> None:
    """Slack sends a mention as ``<@U…|handle>``. Kept as "@handle", the partner's
    question went on naming a person who used forget-me (which replaces IDs); kept by
    ID, it is shown as Slack shows a mention, then as "someone who left"."""
    h = harness
    group = pair_up(h)
    assert PARKED in ask(h, MENTOR, f"how is <@{COORDINATOR}|carol> finding the program?")
    with h.db.session() as s:
        assert "carol" not in s.scalars(select(ParkedQuestion.text)).one()
    first, second, _third = schedule(h, group, timedelta(days=3))
    h.tick(first - timedelta(hours=24))
    assert f"how is <@{COORDINATOR}> finding the program?" in all_text(preps(h, MENTEE)[-1])
    _forget_me(h, COORDINATOR)
    h.tick(second - timedelta(hours=24))  # not answered at the first meeting: still open
    shown = all_text(preps(h, MENTEE)[-1])
    assert "how is someone who left finding the program?" in shown
    assert COORDINATOR not in shown
