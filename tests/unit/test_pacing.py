"""Pacing Slack calls: token buckets in virtual time, 429s waited out, stops obeyed."""

from __future__ import annotations

import threading

import pytest

from bot.scheduling.pacing import Gate, Interrupted, Pacer


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_workspace_gets_its_burst_then_its_rate() -> None:
    clock = FakeClock()
    pacer = Pacer(posts_per_minute=600, clock=clock)
    waits = [pacer.reserve("T1", "chat.postMessage", f"U{i}") for i in range(600)]
    # A minute's worth less a 2 % margin goes at once; then one every 0.1 s.
    assert waits[:588] == [0.0] * 588
    assert waits[588] == pytest.approx(0.1)
    assert waits[599] == pytest.approx(1.2)
    # Another workspace has its own bucket.
    assert pacer.reserve("T2", "chat.postMessage", "U0") == 0.0
    # Time refills it: ten seconds later a hundred more go at once.
    clock.now += 10 + 1.2
    assert all(pacer.reserve("T1", "chat.postMessage", f"V{i}") == 0.0 for i in range(100))


def test_one_channel_gets_one_message_a_second() -> None:
    clock = FakeClock()
    pacer = Pacer(posts_per_minute=600, clock=clock)
    waits = [pacer.reserve("T1", "chat.postMessage", "U1") for _ in range(3)]
    assert waits == [0.0, pytest.approx(1.0), pytest.approx(2.0)]
    assert pacer.reserve("T1", "chat.postMessage", "U2") == 0.0


def test_other_methods_keep_their_tier() -> None:
    clock = FakeClock()
    pacer = Pacer(clock=clock)
    waits = [pacer.reserve("T1", "chat.delete") for _ in range(50)]
    assert waits[:49] == [0.0] * 49 and waits[49] == pytest.approx(1.2)
    assert pacer.reserve("T1", "auth.test") == 0.0  # not one the scheduler paces


def test_a_429_holds_the_workspace_for_retry_after() -> None:
    clock = FakeClock()
    pacer = Pacer(posts_per_minute=600, clock=clock)
    assert pacer.reserve("T1", "chat.postMessage", "U1") == 0.0
    pacer.hold("T1", "chat.postMessage", 3.0)
    assert pacer.reserve("T1", "chat.postMessage", "U2") == pytest.approx(3.0)
    assert pacer.reserve("T1", "chat.postMessage", "U3") == pytest.approx(3.0)
    assert pacer.reserve("T2", "chat.postMessage", "U1") == 0.0
    clock.now += 3.0
    assert pacer.reserve("T1", "chat.postMessage", "U4") == 0.0, "the burst is left"


def test_the_gate_waits_out_a_429_and_gives_up_after_its_allowance() -> None:
    stopping = threading.Event()
    gate = Gate(None, stopping, max_wait=1.5)
    assert gate.after_429("T1", "chat.postMessage", 0.01, waited=0.0) == 1.0  # at least 1 s
    assert gate.after_429("T1", "chat.postMessage", 1.0, waited=1.0) is None


def test_the_gate_lets_a_stop_cut_a_wait_short() -> None:
    stopping = threading.Event()
    clock = FakeClock()
    pacer = Pacer(posts_per_minute=1, clock=clock)
    gate = Gate(pacer, stopping)
    gate.before("T1", "chat.postMessage", "U1")  # the one call a minute allows
    threading.Timer(0.05, stopping.set).start()
    with pytest.raises(Interrupted):
        gate.before("T1", "chat.postMessage", "U2")  # would wait a minute
    with pytest.raises(Interrupted):
        gate.after_429("T1", "chat.postMessage", 30.0, waited=0.0)


def test_a_stop_never_interrupts_a_row_that_has_made_a_call() -> None:
    stopping = threading.Event()
    clock = FakeClock()
    pacer = Pacer(posts_per_minute=600, clock=clock)
    gate = Gate(pacer, stopping)
    gate.begin_row()
    gate.before("T1", "chat.postMessage", "U1")
    gate.call_made()  # e.g. the invitation's users.info went through
    stopping.set()
    gate.before("T1", "chat.postMessage", "U2")  # no wait needed: goes on
    # A 429 now reschedules the row instead of handing it back half done.
    assert gate.after_429("T1", "chat.postMessage", 1.0, waited=0.0) is None
    gate.begin_row()  # the next row has made no call: the stop applies
    with pytest.raises(Interrupted):
        gate.after_429("T1", "chat.postMessage", 1.0, waited=0.0)
