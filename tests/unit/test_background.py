"""Work after the ack: it yields to a burst of Slack requests and catches up after it."""

from __future__ import annotations

import asyncio

from bot.background import Background


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_runs_one_piece_at_a_time_then_catches_up() -> None:
    async def scenario() -> None:
        clock = FakeClock()
        background = Background(concurrency=8, while_busy=1, clock=clock)
        running: list[int] = []
        release = [asyncio.Event() for _ in range(4)]

        async def piece(index: int) -> None:
            running.append(index)
            await release[index].wait()

        background.request_started()  # Slack is sending requests right now
        for index in range(4):
            background.spawn(piece(index))
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert running == [0], "only one piece runs during a burst"

        clock.now += 1.0  # the burst is over
        release[0].set()
        for _ in range(5):
            await asyncio.sleep(0)
        assert running == [0, 1, 2, 3], "the rest start together once it is quiet"
        for event in release:
            event.set()
        assert await background.drain(timeout=1)

    asyncio.run(scenario())


def test_failures_reach_the_reporter_and_never_stop_the_rest() -> None:
    async def scenario() -> None:
        background = Background()
        reported: list[str] = []
        done: list[str] = []

        async def fails() -> None:
            raise ValueError("boom")

        async def works() -> None:
            done.append("ok")

        async def report(error: BaseException) -> None:
            reported.append(str(error))

        background.spawn(fails(), on_error=report)
        background.spawn(works())
        assert await background.drain(timeout=1)
        assert reported == ["boom"] and done == ["ok"]
        assert background.pending == 0

    asyncio.run(scenario())
