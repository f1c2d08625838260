"""Work after the ack (modals, views, error answers): a few at a time, failures reported."""

from __future__ import annotations

import asyncio

from bot.background import Background


def test_at_most_its_concurrency_runs_at_once_the_rest_wait_in_order() -> None:
    async def scenario() -> None:
        background = Background(concurrency=2)
        running: list[int] = []
        release = [asyncio.Event() for _ in range(4)]

        async def piece(index: int) -> None:
            running.append(index)
            await release[index].wait()

        for index in range(4):
            background.spawn(piece(index))
        for _ in range(5):
            await asyncio.sleep(0)
        assert running == [0, 1], "two places: the others wait"
        release[0].set()
        for _ in range(5):
            await asyncio.sleep(0)
        assert running == [0, 1, 2], "a freed place goes to the next in line"
        for event in release:
            event.set()
        assert await background.drain(timeout=1)
        assert running == [0, 1, 2, 3]

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
