"""Work after the ack starts only once the ack is sent; the test driver can hold it."""

from __future__ import annotations

import asyncio

from bot.background import Background


def test_work_spawned_while_answering_waits_for_the_answer() -> None:
    async def scenario() -> None:
        background = Background()
        started: list[str] = []

        async def work(name: str) -> None:
            started.append(name)

        with background.after_response() as sent:
            background.spawn(work("after the ack"))
            for _ in range(5):
                await asyncio.sleep(0)
            assert started == [], "nothing may start before the answer is written"
            sent()
            await asyncio.sleep(0)
            background.spawn(work("outside a request"))  # still inside the block: held too
        assert await background.drain(1)
        assert sorted(started) == ["after the ack", "outside a request"]

        background.spawn(work("no request"))
        assert await background.drain(1)
        assert started[-1] == "no request"

    asyncio.run(scenario())


def test_a_failed_request_still_releases_its_work() -> None:
    async def scenario() -> None:
        background = Background()
        ran = asyncio.Event()

        async def work() -> None:
            ran.set()

        try:
            with background.after_response():
                background.spawn(work())
                raise RuntimeError("the handler failed")
        except RuntimeError:
            pass
        await asyncio.wait_for(ran.wait(), 1)

    asyncio.run(scenario())


def test_paused_work_waits_and_first_goes_first() -> None:
    async def scenario() -> None:
        background = Background(concurrency=1)
        order: list[str] = []

        async def work(name: str) -> None:
            order.append(name)

        background.pause()
        assert await background.settle(1)
        background.spawn(work("queued"))
        background.spawn(work("views.open"), first=True)
        for _ in range(5):
            await asyncio.sleep(0)
        assert order == []
        background.resume()
        assert await background.drain(1)
        assert order == ["views.open", "queued"]

    asyncio.run(scenario())
