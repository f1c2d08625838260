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
    python bench/dispatch_cpu.py --breakdown      # where start's CPU goes, and the budget

``--breakdown`` adds rows that take ``start`` apart, alternating with the rest: the
listener acking without its unit of work, then with a unit that does nothing (the hop
to the database thread and an empty group commit), and the three statements of the
invitation on raw ``sqlite3`` in groups of ``--concurrency`` with one commit a group
and no web stack at all (the least any write of them costs). To stay within the target,
``start`` may cost ``TARGET_VS_BARE`` × bare Bolt; the budget printed is that less the
listener's own path, i.e. what is left for the durable write.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
ACK_ONLY = "start, acked without its unit of work"
EMPTY_UNIT = "start, a unit of work that does nothing"
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


def raw_sqlite_invites(workdir: str, groups: int, size: int) -> float:
    """Microseconds of CPU per invitation written on raw ``sqlite3``: the app's own
    schema (its migrations) and the very SQL the invite runs (the look for a pair
    between the two, the new pair, its outbox row), parameters ready-made, ``size``
    requests a transaction, WAL and synchronous NORMAL as the app's engine. The least
    SQLite itself takes for the write, with no Python around it."""
    import json
    import sqlite3

    from sqlalchemy import create_engine

    from bot.store import outbox, repo
    from bot.store.migrate import upgrade

    path = tempfile.mktemp(prefix="raw-", suffix=".db", dir=workdir)
    engine = create_engine(f"sqlite:///{path}")
    upgrade(engine)
    look, new_pair, new_row = (
        statement._for(engine.dialect).sql
        for statement in (repo._BETWEEN, repo._INSERT_PAIR, outbox._SQLITE_PLAN)
    )
    engine.dispose()
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    now = "2026-03-02 17:00:00.000000"
    invitees = [f"U{n:08d}" for n in range(groups * size)]
    started = time.process_time()
    for group in range(groups):
        connection.execute("BEGIN")
        for who in invitees[group * size : (group + 1) * size]:
            connection.execute(look, (TEAM_ID, "UCALLER", who, TEAM_ID, who, "UCALLER")).fetchall()
            (pair_id,) = connection.execute(
                new_pair,
                (TEAM_ID, "UCALLER", who, "UCALLER", "invited", None, None, None, now)
                + (None, None, None),
            ).fetchone()
            payload = {"pair_id": pair_id, "inviter_id": "UCALLER", "invitee_id": who}
            connection.execute(
                new_row,
                (TEAM_ID, f"invitation:{pair_id}", "invitation", who, now, "pending", pair_id)
                + (None, json.dumps(payload), 0, now),
            )
        connection.execute("COMMIT")
    cost = (time.process_time() - started) / (groups * size) * 1e6
    connection.close()
    return cost


async def main_async(args: argparse.Namespace) -> int:
    from slack_bolt.async_app import AsyncApp
    from slack_bolt.request.async_request import AsyncBoltRequest
    from slack_sdk.web.async_client import AsyncWebClient
    from sqlalchemy import func, select

    import bot.listeners.commands as commands_listener
    from bot.app import create_app
    from bot.config import load_settings
    from bot.services import pairing
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
    real_invite, real_commit_then_ack = pairing.invite, commands_listener.commit_then_ack

    async def ack_only(_deps: Any, ack: Any, *_args: Any, **_kwargs: Any) -> None:
        await ack()

    def nothing(_session: Any, **_kwargs: Any) -> int:
        return 0

    @contextlib.contextmanager
    def unit_of_start(name: str) -> Any:
        """For a whole round (requests in flight read the listener's names as they
        run): start's unit of work as ``name`` has it."""
        if name == ACK_ONLY:
            commands_listener.commit_then_ack = ack_only
        elif name == EMPTY_UNIT:
            pairing.invite = nothing
        try:
            yield
        finally:
            pairing.invite, commands_listener.commit_then_ack = real_invite, real_commit_then_ack

    parts = ((ACK_ONLY, through_app), (EMPTY_UNIT, through_app))
    worst = 0.0
    bare_start = 0.0
    parts_cost: dict[str, float] = {}
    for scenario, bodies in (("help", help_body), ("start", start_body)):
        servers: tuple[tuple[str, Any], ...] = (("app", through_app), ("bare", through_bare))
        if scenario == "start" and args.breakdown:
            servers += parts
        best = {name: float("inf") for name, _dispatch in servers}
        for _ in range(args.rounds):
            for name, dispatch in servers:
                expect = answers.get((scenario, name), lambda body: body == "")
                with unit_of_start(name):
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
        if scenario == "start":
            bare_start = best["bare"]
            parts_cost = {name: best[name] for name, _dispatch in parts if name in best}
    if parts_cost:
        listener, empty = (parts_cost[name] for name, _dispatch in parts)
        raw = min(
            raw_sqlite_invites(workdir, args.requests // args.concurrency, args.concurrency)
            for _ in range(args.rounds)
        )
        budget = TARGET_VS_BARE * bare_start - listener
        print("  where start's CPU goes (app, us per request):")
        print(f"    the listener's path, acking without a unit of work   {listener:7.1f}")
        print(f"    + the hop to the database thread, an empty commit   {empty - listener:7.1f}")
        print(f"    + the invitation's statements and their commit      {best['app'] - empty:7.1f}")
        print(f"    the same statements on raw sqlite3, no web stack    {raw:7.1f}")
        print(
            f"  budget for the durable write within {TARGET_VS_BARE:g}x bare Bolt: "
            f"{budget:.1f} us (raw sqlite3 alone: {raw / budget:.1f}x that)"
        )
    with db.session() as session:  # every start made its pair: none was refused
        pairs = session.scalar(select(func.count()).select_from(Pair))
    started = args.rounds * args.requests  # through the app (the empty units make none)
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
    parser.add_argument(
        "--breakdown", action="store_true", help="also take start's CPU apart (see above)"
    )
    return asyncio.run(main_async(parser.parse_args(argv)))


if __name__ == "__main__":
    sys.exit(main())
