"""The daily tip's order (bot.domain.tips): pure rules over plain data and a ``now``."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.domain.tips import (
    LOW_RATING_LASTS,
    RELATIONSHIP_PERIOD,
    Pairing,
    Rating,
    Received,
    TipHistory,
    TipOption,
    choose_tip,
    tip_order,
)

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
DAY = timedelta(days=1)
MENTOR = [TipOption(f"mentor-{i}", "mentor") for i in range(10)]
MENTEE = [TipOption(f"mentee-{i}", "mentee") for i in range(10)]
OLD_PAIR = (Pairing("mentor", NOW - timedelta(days=60)),)


def send(
    options: list[TipOption],
    history: TipHistory,
    count: int,
    *,
    seed: int = 7,
    start: datetime = NOW,
) -> tuple[list[str], TipHistory]:
    """``count`` tips, one a day from ``start``: what was sent, and the history after."""
    sent = []
    for n in range(count):
        now = start + n * DAY
        choice = choose_tip(options, history, seed=seed, now=now)
        assert choice is not None
        sent.append(choice.tip_id)
        history = history.after_sending(choice.tip_id, choice.cycle, now)
    return sent, history


def disliking(history: TipHistory, tip_id: str) -> TipHistory:
    received = dict(history.received)
    before = received.get(tip_id, Received(-1, NOW))
    received[tip_id] = replace(before, disliked=True)
    return replace(history, received=received)


def cycles(sent: list[str]) -> list[list[str]]:
    """Split at each repeat: a new turn starts with the first practice sent twice."""
    out: list[list[str]] = [[]]
    for tip in sent:
        if tip in out[-1]:
            out.append([])
        out[-1].append(tip)
    return out


# ---------------------------------------------------------------- no repeat, from what was received


def test_each_turn_sends_every_practice_once_in_a_fresh_order() -> None:
    ids = sorted(o.id for o in MENTOR)
    sent, _ = send(MENTOR, TipHistory(pairings=OLD_PAIR), 40)
    turns = [sent[i : i + 10] for i in range(0, 40, 10)]
    assert all(sorted(turn) == ids for turn in turns)
    assert len({tuple(turn) for turn in turns}) == 4, "each turn is a new shuffle"


def test_a_new_turn_never_opens_with_what_was_just_sent() -> None:
    """Shuffled afresh, a turn could open with the practice the last one ended with: the
    same tip two days running. A new turn's first three are none of the last turn's
    last three, whatever else orders it (a 👎, a low rating, a new pairing), so a
    practice comes back no sooner than four tips later; and which practices close a
    turn still changes from turn to turn."""
    rated = [replace(o, after_low_rating=o.id in {"mentor-2", "mentor-6"}) for o in MENTOR]
    histories = {
        "plain": (MENTOR, TipHistory(pairings=OLD_PAIR)),
        "a 👎": (MENTOR, disliking(TipHistory(pairings=OLD_PAIR), "mentor-3")),
        "new pairing": (MENTOR, TipHistory(pairings=(Pairing("mentor", NOW),))),
        "a low rating": (rated, TipHistory(pairings=OLD_PAIR)),
    }
    for name, (options, start) in histories.items():
        for seed in range(40):
            history, sent, cycles_of = start, [], []
            for n in range(50):
                now = NOW + n * DAY
                if name == "a low rating" and n in (9, 29):  # at a turn's end, say
                    history = replace(history, ratings=(Rating("mentor", 1, now),))
                choice = choose_tip(options, history, seed=seed, now=now)
                assert choice is not None
                sent.append(choice.tip_id)
                cycles_of.append(choice.cycle)
                history = history.after_sending(choice.tip_id, choice.cycle, now)
            turns = [
                [tip for tip, c in zip(sent, cycles_of, strict=True) if c == cycle]
                for cycle in sorted(set(cycles_of))
            ]
            for before, after in zip(turns, turns[1:-1], strict=False):
                assert not set(after[:3]) & set(before[-3:]), (name, seed, before, after)
            repeats = [
                sent.index(tip, n + 1) - n for n, tip in enumerate(sent) if tip in sent[n + 1 :]
            ]
            assert min(repeats) >= 4, (name, seed, sent)
            assert len({frozenset(turn[-3:]) for turn in turns[:-1]}) > 1, (name, seed, turns)


def test_order_is_per_person_and_repeatable() -> None:
    history = TipHistory(pairings=OLD_PAIR)
    assert send(MENTOR, history, 25, seed=3)[0] == send(MENTOR, history, 25, seed=3)[0]
    firsts = {tuple(send(MENTOR, history, 10, seed=s)[0]) for s in range(20)}
    assert len(firsts) > 15, "different people get different orders"


def test_only_what_was_received_counts_whenever_it_was_sent() -> None:
    # Three tips went out in this turn, weeks apart (days with no tip in between cost
    # nothing): the next seven are exactly the other seven.
    received = {
        "mentor-2": Received(0, NOW - 30 * DAY),
        "mentor-5": Received(0, NOW - 9 * DAY),
        "mentor-8": Received(0, NOW - DAY),
    }
    history = TipHistory(received=received, pairings=OLD_PAIR)
    cycle, order = tip_order(MENTOR, history, seed=1, now=NOW)
    assert cycle == 0
    assert sorted(order) == sorted(o.id for o in MENTOR if o.id not in received)
    sent, history = send(MENTOR, history, 8, seed=1)
    assert sent[:7] == order
    assert history.received[sent[7]].cycle == 1, "the eighth starts the next turn"


def test_a_practice_added_to_the_content_joins_the_current_turn() -> None:
    sent, history = send(MENTOR, TipHistory(pairings=OLD_PAIR), 14)  # turn 1, 4 sent
    added = [*MENTOR, TipOption("mentor-new", "mentor")]
    more, _ = send(added, history, 7, start=NOW + 14 * DAY)
    assert "mentor-new" in more, "sent in this turn, not after a full extra turn"
    assert sorted(sent[10:] + more) == sorted(o.id for o in added)


def test_a_removed_practice_is_never_sent_and_does_not_hold_up_the_turn() -> None:
    sent, history = send(MENTOR, TipHistory(pairings=OLD_PAIR), 12)
    removed = sent[11]  # sent in the current turn
    fewer = [o for o in MENTOR if o.id != removed]
    more, _ = send(fewer, history, 30, start=NOW + 12 * DAY)
    assert removed not in more
    assert sorted(more[:8]) == sorted(o.id for o in fewer if o.id != sent[10])
    assert all(sorted(turn) == sorted(o.id for o in fewer) for turn in cycles(more[8:])[:2])


def test_the_list_follows_the_role_and_keeps_each_lists_place() -> None:
    # A mentor, four tips into their second turn, becomes a mentee too: the mentee
    # practices join the current turn; nothing repeats until all twenty were sent.
    _, history = send(MENTOR, TipHistory(pairings=OLD_PAIR), 14)
    both = [*MENTOR, *MENTEE]
    sent, history = send(both, history, 16, start=NOW + 14 * DAY)
    assert len(set(sent)) == 16 and set(o.id for o in MENTEE) <= set(sent)
    # Mentee only: their turn is their own list's.
    mentee_sent, _ = send(MENTEE, history, 10, start=NOW + 30 * DAY)
    assert sorted(mentee_sent) == sorted(o.id for o in MENTEE)


def test_empty_list_single_practice_and_everything_disliked() -> None:
    assert choose_tip([], TipHistory(), seed=1, now=NOW) is None
    one = [TipOption("only", "mentor")]
    assert send(one, TipHistory(), 3)[0] == ["only"] * 3
    history = disliking(TipHistory(received={"only": Received(0, NOW - DAY)}), "only")
    # Its only practice, 👎'd: still sent, every other turn.
    choice = choose_tip(one, history, seed=1, now=NOW)
    assert choice is not None and (choice.tip_id, choice.cycle) == ("only", 2)


# ---------------------------------------------------------------- 👎: last, and every other turn


def test_a_disliked_practice_comes_last_and_every_other_turn() -> None:
    sent, history = send(MENTOR, TipHistory(pairings=OLD_PAIR), 3)
    disliked = sent[0]
    history = disliking(history, disliked)
    more, _ = send(MENTOR, history, 7 + 9 + 10 + 9 + 10, start=NOW + 3 * DAY)
    # The rest of turn 0 (7), then turn 1 without it (sent in turn 0), turn 2 with it
    # last, turn 3 without, turn 4 with it last.
    turns = cycles(sent + more)
    assert [len(t) for t in turns] == [10, 9, 10, 9, 10]
    assert disliked not in turns[1] and disliked not in turns[3]
    assert turns[2][-1] == disliked and turns[4][-1] == disliked


def test_disliked_before_it_was_sent_in_this_turn_goes_last() -> None:
    history = TipHistory(pairings=OLD_PAIR)
    _, order = tip_order(MENTOR, history, seed=7, now=NOW)
    first = order[0]
    sent, _ = send(MENTOR, disliking(history, first), 10)
    assert sent[-1] == first and sorted(sent) == sorted(o.id for o in MENTOR)


def test_a_thumbs_up_later_puts_it_back_in_the_shuffle() -> None:
    history = disliking(TipHistory(pairings=OLD_PAIR), "mentor-0")
    history = replace(
        history, received={**history.received, "mentor-0": Received(-1, NOW, disliked=False)}
    )
    assert tip_order(MENTOR, history, seed=7, now=NOW) == tip_order(
        MENTOR, TipHistory(pairings=OLD_PAIR), seed=7, now=NOW
    )


# ---------------------------------------------------------------- a new pairing: relationship first

RELATIONSHIP = {"mentor-1", "mentor-4", "mentee-8"}
TAGGED = [replace(o, relationship=o.id in RELATIONSHIP) for o in (*MENTOR, *MENTEE)]
TAGGED_MENTOR = [o for o in TAGGED if o.role == "mentor"]


def test_the_first_two_weeks_of_a_pairing_favour_relationship_practices() -> None:
    history = TipHistory(pairings=(Pairing("mentor", NOW - DAY),))
    sent, _ = send(TAGGED_MENTOR, history, 10)
    assert set(sent[:2]) == {"mentor-1", "mentor-4"}
    assert sorted(sent) == sorted(o.id for o in TAGGED_MENTOR)


def test_after_two_weeks_relationship_practices_take_their_usual_place() -> None:
    old = TipHistory(pairings=(Pairing("mentor", NOW - RELATIONSHIP_PERIOD),))
    untagged = TipHistory(pairings=OLD_PAIR)
    assert tip_order(TAGGED_MENTOR, old, seed=7, now=NOW) == tip_order(
        MENTOR, untagged, seed=7, now=NOW
    )


def test_relationship_practices_already_sent_this_turn_are_not_repeated() -> None:
    # An established mentor starts a second pairing: relationship practices still to
    # come in this turn come first; the one already sent is not sent again.
    received = {"mentor-1": Received(0, NOW - 2 * DAY), "mentor-7": Received(0, NOW - DAY)}
    history = TipHistory(received=received, pairings=(*OLD_PAIR, Pairing("mentor", NOW)))
    _, order = tip_order(TAGGED_MENTOR, history, seed=7, now=NOW)
    assert order[0] == "mentor-4" and "mentor-1" not in order and len(order) == 8


def test_relationship_practices_of_the_new_pairings_role_only() -> None:
    # Someone both mentor (for long) and, since yesterday, mentee: only the mentee
    # relationship practice is brought forward.
    history = TipHistory(pairings=(*OLD_PAIR, Pairing("mentee", NOW - DAY)))
    _, order = tip_order(TAGGED, history, seed=7, now=NOW)
    assert order[0] == "mentee-8"
    assert order.index("mentor-1") > 0 and order.index("mentor-4") > 0


# ------------------------------------------------------- a low rating: the fitting ones next

FITTING = {"mentee-2", "mentee-6"}
AFTER_LOW = [replace(o, after_low_rating=o.id in FITTING) for o in MENTEE]
MENTEE_PAIR = (Pairing("mentee", NOW - 60 * DAY),)


def test_a_low_rating_brings_the_fitting_practices_to_the_next_tips() -> None:
    _, history = send(AFTER_LOW, TipHistory(pairings=MENTEE_PAIR), 1)
    rated = replace(history, ratings=(Rating("mentee", 2, NOW + 0.5 * DAY),))
    sent, _ = send(AFTER_LOW, rated, 9, start=NOW + DAY)
    fitting_left = FITTING - set(history.received)
    assert set(sent[: len(fitting_left)]) == fitting_left


def test_a_brought_forward_practice_comes_forward_once() -> None:
    rated = TipHistory(pairings=MENTEE_PAIR, ratings=(Rating("mentee", 1, NOW - DAY),))
    sent, _ = send(AFTER_LOW, rated, 2)
    assert set(sent) == FITTING
    # The turn completes within the week of the rating: the next turn is the usual
    # shuffle, as the fitting practices were sent since the rating.
    received = {o.id: Received(0, NOW - 2 * DAY) for o in MENTEE}
    received |= {tip: Received(0, NOW) for tip in FITTING}
    after = replace(rated, received=received)
    plain = replace(after, ratings=())
    assert tip_order(AFTER_LOW, after, seed=7, now=NOW + DAY) == tip_order(
        AFTER_LOW, plain, seed=7, now=NOW + DAY
    )


def test_a_low_rating_never_breaks_the_no_repeat_rule() -> None:
    # Both fitting practices were already sent in this turn: they wait for the next
    # turn, and lead it if that starts within the week.
    received = {tip: Received(0, NOW - 3 * DAY) for tip in FITTING}
    received |= {f"mentee-{i}": Received(0, NOW - 2 * DAY) for i in (0, 1, 3, 4, 5)}
    rated = TipHistory(
        received=received, pairings=MENTEE_PAIR, ratings=(Rating("mentee", 1, NOW - DAY),)
    )
    sent, _ = send(AFTER_LOW, rated, 5)
    assert sorted(sent[:3]) == ["mentee-7", "mentee-8", "mentee-9"]
    assert set(sent[3:5]) == FITTING


def test_ratings_that_are_not_low_or_too_old_or_another_role_change_nothing() -> None:
    plain = tip_order(AFTER_LOW, TipHistory(pairings=MENTEE_PAIR), seed=7, now=NOW)
    for rating in (
        Rating("mentee", 3, NOW - DAY),
        Rating("mentee", 1, NOW - LOW_RATING_LASTS - DAY),
        Rating("mentor", 1, NOW - DAY),
        Rating("mentee", 1, NOW + DAY),  # not given yet
    ):
        history = TipHistory(pairings=MENTEE_PAIR, ratings=(rating,))
        assert tip_order(AFTER_LOW, history, seed=7, now=NOW) == plain, rating


def test_dislike_beats_a_low_rating_and_a_low_rating_beats_a_new_pairing() -> None:
    options = [
        replace(o, after_low_rating=o.id in FITTING, relationship=o.id == "mentee-9")
        for o in MENTEE
    ]
    history = TipHistory(
        pairings=(Pairing("mentee", NOW - DAY),), ratings=(Rating("mentee", 2, NOW - DAY),)
    )
    history = disliking(history, "mentee-2")
    _, order = tip_order(options, history, seed=7, now=NOW)
    assert order[0] == "mentee-6" and order[1] == "mentee-9" and order[-1] == "mentee-2"


def test_a_pause_ends_at_the_start_of_the_day_it_names_in_the_persons_zone() -> None:
    from bot.domain.tips import next_tip_due, pause_ends

    monday_morning = datetime(2026, 3, 9, 10, 0, tzinfo=UTC)  # 11:00 in Berlin
    ends = pause_ends(now=monday_morning, days=7, tz="Europe/Berlin")
    assert ends == datetime(2026, 3, 15, 23, 0, tzinfo=UTC)  # Monday 16 March 00:00 CET
    # So that Monday's 09:00 tip is due after the pause.
    due, day = next_tip_due(
        tz="Europe/Berlin", minute_of_day=9 * 60, working_days=frozenset(range(5)), after=ends
    )
    assert str(day) == "2026-03-16" and due == datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
    # Across a clock change the day still starts at local midnight.
    assert pause_ends(now=datetime(2026, 3, 25, 12, tzinfo=UTC), days=7, tz="Europe/Berlin") == (
        datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # 1 April 00:00 CEST
    )
