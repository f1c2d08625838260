"""CPU per request through Bolt's dispatch, in one process: the app vs bare Bolt.

``ack_latency.py`` measures the whole HTTP round trip, and its req/s moves ±20 % with
the machine's hour. This measures what the ack costs the server's CPU, which moves
less: signed ``/mentor help`` and ``/mentor start @x`` requests dispatched straight
into the app's ``AsyncApp`` (``bot.app.create_app``, SQLite, scheduler off, so no
sender runs) and into a bare Bolt ``AsyncApp`` whose ``/mentor`` listener only acks,
``--concurrency`` at a time, in alternating rounds; the process's CPU time per request
(every thread: the event loop and the database thread), the best of the rounds.
Left out for both: aiohttp's HTTP server. Every ``start`` invites someone new.

    python bench/dispatch_cpu.py                  # 6 rounds of 3,000 per server and scenario
    python bench/dispatch_cpu.py --rounds 3 --requests 1000
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGET_VS_BARE = 1.5
SECRET = "bench-signing-secret"
TEAM_ID = "T0BENCH"


def form(text: str, caller: str = "UCALLER") -> str:
    return urlencode(
        {
            "token": "unused",
            "team_id": TEAM_ID,
            "channel_id": "D0BENCH",
            "user_id": caller,
            "command": "/mentor",
            "text": text,
            "response_url": "https://hooks.slack.com/commands/T0BENCH/1/x",
            "trigger_id": "1.2.3",
        }
    )


async def cpu_per_request(
    dispatch: Callable[[str], Any],
    bodies: Callable[[], str],
    expect: Callable[[str], bool],
    requests: int,
    concurrency: int,
) -> float:
    """Microseconds of process CPU per request, ``concurrency`` in flight at a time."""
    started = time.process_time()
    done = 0
    while done < requests:
        batch = min(concurrency, requests - done)
        responses = await asyncio.gather(*(dispatch(bodies()) for _ in range(batch)))
        if any(response.status != 200 for response in responses):
            raise SystemExit(f"a request was answered {[r.status for r in responses]}")
        if not expect(responses[0].body):  # a refusal is answered 200 too, and is cheaper
            raise SystemExit(f"not the answer expected: {responses[0].body[:200]!r}")
        done += batch
    return (time.process_time() - started) / requests * 1e6


async def main_async(args: argparse.Namespace) -> int:
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import func, select

    from bot.app import create_app
    from bot.config import load_settings
    from bot.store.db import Database
    from bot.store.migrate import upgrade
    from bot.store.models import Pair
    from bot.web import SlackRequest, check_token_early
    from slackemu import SlackEmulator
    from slackemu.signing import signed_headers

    slack = SlackEmulator(rate_limits=None)
    slack.start()
    workdir = tempfile.mkdtemp(prefix="dispatch-cpu-")
    url = f"sqlite:///{workdir}/bench.db"
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": "xoxb-bench",
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": url,
            "MENTOR_SCHEDULER": "off",
        }
    )
    db = Database(url)
    upgrade(db.engine)
    app, _deps = create_app(settings, db=db)
    await check_token_early(app)
    bare = AsyncApp(
        client=AsyncWebClient(token="xoxb-bench", base_url=slack.base_url),
        signing_secret=SECRET,
        process_before_response=True,
    )

    @bare.command("/mentor")
    async def mentor(ack: Any) -> None:
        await ack()

    await bare.async_dispatch(  # its auth.test, once, as the app's check_token_early
        AsyncBoltRequest(body=form("help"), headers=signed_headers(SECRET, form("help")))
    )

    invitee = iter(range(10**9))

    def help_body() -> str:
        return form("help")

    def start_body() -> str:
        return form(f"start <@U{next(invitee):08d}>")

    async def through_app(body: str) -> Any:
        request = SlackRequest(body=body, headers=signed_headers(SECRET, body))
        return await app.async_dispatch(request)

    async def through_bare(body: str) -> Any:
        return await bare.async_dispatch(
            AsyncBoltRequest(body=body, headers=signed_headers(SECRET, body))
        )

    print(
        f"{args.rounds} rounds of {args.requests} requests, {args.concurrency} in flight; "
        "process CPU per request, best round"
    )
    answers = {
        # The app's help card, and start's empty ack (its answer follows on the
        # response_url); bare Bolt acks everything empty.
        ("help", "app"): lambda body: "Mentor Bot help" in body,
        ("start", "app"): lambda body: body == "",
    }
    worst = 0.0
    for scenario, bodies in (("help", help_body), ("start", start_body)):
        best = {"app": float("inf"), "bare": float("inf")}
        for _ in range(args.rounds):
            for name, dispatch in (("app", through_app), ("bare", through_bare)):
                expect = answers.get((scenario, name), lambda body: body == "")
                cost = await cpu_per_request(
                    dispatch, bodies, expect, args.requests, args.concurrency
                )
                best[name] = min(best[name], cost)
        ratio = best["app"] / best["bare"]
        worst = max(worst, ratio)
        met = "MET" if ratio <= TARGET_VS_BARE else "MISSED"
        print(
            f"  {scenario:<6} app {best['app']:7.1f} us  bare Bolt {best['bare']:6.1f} us  "
            f"app/bare {ratio:4.2f}x  [{met:>6}] <= {TARGET_VS_BARE:g}x"
        )
    with db.session() as session:  # every start made its pair: none was refused
        pairs = session.scalar(select(func.count()).select_from(Pair))
    started = args.rounds * args.requests  # through the app
    db.dispose()
    slack.stop()
    shutil.rmtree(workdir, ignore_errors=True)
    if pairs != started:
        raise SystemExit(f"{pairs} pairs made for {started} starts through the app")
    return 0 if worst <= TARGET_VS_BARE else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--requests", type=int, default=3000, help="per round")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
