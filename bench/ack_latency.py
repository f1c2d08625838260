"""Acknowledgement latency of ``/mentor help`` and ``/mentor start @x``: the app vs bare Bolt.

Three servers, each in its own process (spawned, so none shares a GIL with the
load generator): the emulated Slack (``slackemu``), the real app (built by
``bot.app.create_app`` and run by ``bot.local.LocalApp``, the same aiohttp stack
as ``serve``) and a bare Bolt ``AsyncApp`` on a plain aiohttp server that only
acks ``/mentor``. The load generator, in this process, keeps ``--concurrency``
signed slash-command posts in flight for ``--seconds`` per scenario and server,
and measures send → response (the ack).

Run: ``python bench/ack_latency.py`` (``--seconds 3`` for a smoke run).
Always exits 0: it is a measurement; targets met or missed are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"
CALLER = "UBENCHCALLER"
TEAM_ID = "T0BENCH"  # replaced by the emulator's team id at run time
EVENTS_PATH = "/slack/events"

TARGET_P99_MS = 50.0
TARGET_RPS = 800.0
TARGET_VS_BARE = 1.5


# --------------------------------------------------------------------------- servers
# Each runs in a spawned child: it sends ("ready", info) on its pipe, then answers
# commands ("stats", "drain", "stop") until told to stop.


def _quiet_logging() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="[%(processName)s] %(levelname)s %(message)s")


def run_emulator(conn: Connection, users: int, response_urls: int) -> None:
    _quiet_logging()
    from slackemu import SlackEmulator

    # Acks are measured, not the pace of follow-ups: Slack's limits would only
    # queue the invitations behind 429s (bench/fanout.py measures that pace).
    emulator = SlackEmulator(rate_limits=None).start()
    emulator.add_user(CALLER, name="bench", real_name="Bench Caller", tz="Europe/Berlin")
    for n in range(users):
        emulator.add_user(f"U{n:08d}", name=f"user{n}", tz="UTC")
    channel = emulator.dm_channel(CALLER)
    urls = [emulator.new_response_url(channel=channel, user=CALLER) for _ in range(response_urls)]
    conn.send(("ready", {"base_url": emulator.base_url, "team_id": emulator.team_id, "urls": urls}))
    while True:
        command = conn.recv()
        if command == "stats":
            counts: dict[str, int] = {}
            for call in emulator.calls:
                ok = 200 <= call.status < 300 and call.response.get("ok", False)
                key = f"{call.method} {'ok' if ok else call.response.get('error', call.status)}"
                counts[key] = counts.get(key, 0) + 1
            emulator.reset_calls()
            conn.send(counts)
        elif command == "stop":
            emulator.stop()
            conn.send("stopped")
            return


def run_app(conn: Connection, api_url: str, workdir: str) -> None:
    _quiet_logging()
    from bot.config import load_settings
    from bot.local import LocalApp
    from bot.store.db import Database
    from bot.store.migrate import upgrade

    database_url = f"sqlite:///{workdir}/mentor-bot-bench.db"
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": api_url,
            "DATABASE_URL": database_url,
            "MENTOR_SCHEDULER": "off",
            # The emulator runs without rate limits here, so the sender need not pace
            # itself either: "drain" delivers the burst's invitations at full speed.
            "MENTOR_SLACK_POSTS_PER_MINUTE": "0",
        }
    )
    db = Database(database_url)
    upgrade(db.engine)
    app = LocalApp(settings, db=db).start()
    conn.send(("ready", {"url": app.url}))
    while True:
        command = conn.recv()
        if command == "drain":
            started = time.perf_counter()
            pending = app.deps.background.pending
            try:
                app.drain(timeout=120)
                drained = True
            except TimeoutError:
                drained = False
            conn.send(
                {
                    "pending": pending,
                    "seconds": time.perf_counter() - started,
                    "drained": drained,
                }
            )
        elif command == "stop":
            app.stop()
            db.dispose()
            conn.send("stopped")
            return


def run_bare_bolt(conn: Connection, api_url: str) -> None:
    _quiet_logging()
    import threading

    from aiohttp import web
    from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient

    loop = asyncio.new_event_loop()
    started: list[str] = []
    ready = threading.Event()
    stop = asyncio.Event()

    async def serve() -> None:
        # The same Bolt options as bot.app.create_app, so the difference is the app's own work.
        bolt = AsyncApp(
            client=AsyncWebClient(token=BOT_TOKEN, base_url=api_url),
            signing_secret=SIGNING_SECRET,
            process_before_response=True,
        )

        @bolt.command("/mentor")
        async def mentor(ack: Any) -> None:
            await ack()

        async def slack_events(request: web.Request) -> web.Response:
            return await to_aiohttp_response(
                await bolt.async_dispatch(await to_bolt_request(request))
            )

        web_app = web.Application(client_max_size=1024 * 1024)
        web_app.router.add_post(EVENTS_PATH, slack_events)
        runner = web.AppRunner(web_app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024, reuse_address=True)
        await site.start()
        started.append(f"http://127.0.0.1:{runner.addresses[0][1]}")
        ready.set()
        await stop.wait()
        await runner.cleanup()

    thread = threading.Thread(target=lambda: loop.run_until_complete(serve()), daemon=True)
    thread.start()
    ready.wait(30)
    conn.send(("ready", {"url": started[0]}))
    while True:
        command = conn.recv()
        if command == "drain":
            conn.send({"pending": 0, "seconds": 0.0, "drained": True})
        elif command == "stop":
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            conn.send("stopped")
            return


@dataclass
class Child:
    name: str
    process: Any
    conn: Connection
    info: dict = field(default_factory=dict)

    def ask(self, command: str, timeout: float = 150) -> Any:
        self.conn.send(command)
        if not self.conn.poll(timeout):
            raise TimeoutError(f"{self.name} did not answer {command!r}")
        return self.conn.recv()

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self.ask("stop", timeout=20)
            except (TimeoutError, OSError, EOFError):
                pass
        self.process.join(10)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)


def spawn(ctx: Any, name: str, target: Any, *args: Any) -> Child:
    parent, child = ctx.Pipe()
    process = ctx.Process(target=target, args=(child, *args), name=name, daemon=True)
    process.start()
    deadline = time.monotonic() + 120
    while not parent.poll(0.2):
        if not process.is_alive() or time.monotonic() > deadline:
            process.terminate()
            process.join(5)
            raise RuntimeError(f"{name} did not start (exit code {process.exitcode}); see above")
    kind, info = parent.recv()
    assert kind == "ready"
    return Child(name, process, parent, info)


# ---------------------------------------------------------------------- load generator


@dataclass
class Result:
    scenario: str
    server: str
    requests: int
    errors: int
    seconds: float
    latencies: list[float]
    error_samples: list[str]
    background: dict | None = None

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        rank = max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))
        return ordered[rank] * 1000.0


class Bodies:
    """Slash-command form bodies as Slack sends them; every ``start`` invites someone new."""

    def __init__(self, team_id: str, response_urls: list[str], users: int) -> None:
        self.team_id = team_id
        self.response_urls = response_urls
        self.users = users
        self.next_url = 0
        self.next_user = 0
        self.wrapped = False

    def _take_url(self) -> str:
        url = self.response_urls[self.next_url % len(self.response_urls)]
        self.next_url += 1
        return url

    def form(self, text: str) -> bytes:
        return urlencode(
            {
                "token": "bench-verification-token",
                "team_id": self.team_id,
                "team_domain": "bench",
                "channel_id": "D0BENCH",
                "channel_name": "directmessage",
                "user_id": CALLER,
                "user_name": "bench",
                "command": "/mentor",
                "text": text,
                "api_app_id": "A0BENCH",
                "is_enterprise_install": "false",
                "response_url": self._take_url(),
                "trigger_id": f"{time.time_ns()}.bench",
            }
        ).encode()

    def help(self) -> bytes:
        return self.form("help")

    def start(self) -> bytes:
        if self.next_user >= self.users:
            self.wrapped = True
        invitee = f"U{self.next_user % self.users:08d}"
        self.next_user += 1
        return self.form(f"start <@{invitee}|user>")


async def load(
    url: str,
    make_body: Any,
    *,
    seconds: float,
    concurrency: int,
) -> tuple[int, int, float, list[float], list[str]]:
    import aiohttp

    from slackemu.signing import signed_headers

    latencies: list[float] = []
    errors = 0
    samples: list[str] = []
    target = url + EVENTS_PATH
    connector = aiohttp.TCPConnector(limit=concurrency, limit_per_host=concurrency)
    timeout = aiohttp.ClientTimeout(total=10)
    clock = time.perf_counter
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        began = clock()
        deadline = began + seconds
        last = began

        async def worker() -> None:
            nonlocal errors, last
            while clock() < deadline:
                body = make_body()
                headers = signed_headers(SIGNING_SECRET, body)
                sent = clock()
                try:
                    async with session.post(target, data=body, headers=headers) as response:
                        await response.read()
                        status = response.status
                except Exception as error:  # noqa: BLE001 - counted, not fatal
                    status = 0
                    detail = f"{type(error).__name__}: {error}"
                else:
                    detail = f"HTTP {status}"
                done = clock()
                last = max(last, done)
                if status == 200:
                    latencies.append(done - sent)
                else:
                    errors += 1
                    if len(samples) < 3:
                        samples.append(detail)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies), errors, last - began, latencies, samples


def measure(
    scenario: str, server: Child, make_body: Any, *, seconds: float, warmup: float, concurrency: int
) -> Result:
    url = server.info["url"]
    if warmup > 0:
        asyncio.run(load(url, make_body, seconds=warmup, concurrency=concurrency))
        server.ask("drain")
    requests, errors, elapsed, latencies, samples = asyncio.run(
        load(url, make_body, seconds=seconds, concurrency=concurrency)
    )
    background = server.ask("drain")
    return Result(scenario, server.name, requests, errors, elapsed, latencies, samples, background)


# ------------------------------------------------------------------------------ report


def machine_context() -> str:
    cores = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cores
    import aiohttp
    import slack_bolt

    return (
        f"machine: {platform.machine()} {platform.system()} {platform.release()}; "
        f"cores: {cores} (usable {usable}); "
        f"Python {platform.python_version()} ({platform.python_implementation()}); "
        f"slack_bolt {slack_bolt.version.__version__}; aiohttp {aiohttp.__version__}; "
        f"{load_average()}"
    )


def load_average() -> str:
    try:
        one, five, _ = os.getloadavg()
    except OSError:
        return "load average unknown"
    busy = "  (other work is running: figures will be noisy)" if one > 0.5 else ""
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min){busy}"


def mark(ok: bool) -> str:
    return "MET" if ok else "MISSED"


def report(results: list[Result], args: argparse.Namespace) -> None:
    print()
    print(f"{args.concurrency} in flight, {args.seconds:g} s per scenario and server, loopback")
    header = f"{'scenario':<8} {'server':<9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r.scenario:<8} {r.server:<9} {r.rps:>8.0f} {r.percentile(0.50):>8.2f} "
            f"{r.percentile(0.99):>8.2f} {r.errors:>7}"
        )
    print()
    print(
        f"targets for the app: p99 < {TARGET_P99_MS:g} ms, >= {TARGET_RPS:g} req/s, "
        f"within {TARGET_VS_BARE:g}x of bare Bolt (p99 and req/s)"
    )
    by_key = {(r.scenario, r.server): r for r in results}
    all_met = True
    for scenario in dict.fromkeys(r.scenario for r in results):
        app, bare = by_key.get((scenario, "app")), by_key.get((scenario, "bare-bolt"))
        if app is None or bare is None:
            continue
        p99_ratio = app.percentile(0.99) / bare.percentile(0.99)
        rps_ratio = app.rps / bare.rps if bare.rps else float("nan")
        checks = [
            (
                f"p99 {app.percentile(0.99):.2f} ms < {TARGET_P99_MS:g} ms",
                app.percentile(0.99) < TARGET_P99_MS,
            ),
            (f"{app.rps:.0f} req/s >= {TARGET_RPS:g}", app.rps >= TARGET_RPS),
            (f"p99 app/bare {p99_ratio:.2f}x <= {TARGET_VS_BARE:g}x", p99_ratio <= TARGET_VS_BARE),
            (
                f"req/s app/bare {rps_ratio:.2f} (bare/app {1 / rps_ratio:.2f}x <= "
                f"{TARGET_VS_BARE:g}x)",
                rps_ratio > 0 and 1 / rps_ratio <= TARGET_VS_BARE,
            ),
            (f"errors {app.errors} == 0", app.errors == 0),
        ]
        print(f"  {scenario}:")
        for text, ok in checks:
            all_met &= ok
            print(f"    [{mark(ok):>6}] {text}")
        bg = app.background or {}
        if bg.get("pending"):
            state = "finished" if bg.get("drained") else "NOT finished"
            print(
                f"    background work after the window: {bg['pending']} tasks still pending, "
                f"{state} {bg['seconds']:.1f} s later"
            )
        for r in (app, bare):
            for sample in r.error_samples:
                print(f"    error sample ({r.server}): {sample}")
    print()
    print(f"overall: all targets {'MET' if all_met else 'NOT met'}")


def print_emulator_stats(stats: dict[str, int]) -> None:
    if not stats:
        return
    print(
        "emulated Slack saw (start scenario, app, warm-up and drain included): "
        + ", ".join(f"{k}: {v}" for k, v in sorted(stats.items()))
    )


# -------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario and server")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument(
        "--users", type=int, default=50_000, help="invitees registered in the emulator"
    )
    parser.add_argument("--scenarios", default="help,start", help="comma-separated: help, start")
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]

    print(machine_context())
    print("processes: load generator (this one), emulated Slack, app, bare Bolt (spawned)")
    ctx = mp.get_context("spawn")
    children: list[Child] = []
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="ack-bench-") as workdir:
        try:
            started = time.perf_counter()
            emulator = spawn(ctx, "emulator", run_emulator, args.users, args.users)
            children.append(emulator)
            api_url = emulator.info["base_url"]
            app = spawn(ctx, "app", run_app, api_url, workdir)
            children.append(app)
            bare = spawn(ctx, "bare-bolt", run_bare_bolt, api_url)
            children.append(bare)
            print(f"servers up in {time.perf_counter() - started:.1f} s")

            bodies = Bodies(emulator.info["team_id"], emulator.info["urls"], args.users)
            emulator_stats: dict[str, int] = {}
            for scenario in scenarios:
                make_body = bodies.help if scenario == "help" else bodies.start
                for server in (app, bare):
                    emulator.ask("stats")  # reset the emulator's call log
                    result = measure(
                        scenario,
                        server,
                        make_body,
                        seconds=args.seconds,
                        warmup=args.warmup,
                        concurrency=args.concurrency,
                    )
                    results.append(result)
                    stats = emulator.ask("stats")
                    if scenario == "start" and server is app:
                        emulator_stats = stats
                    print(
                        f"  {scenario:<6} {server.name:<9} {result.rps:7.0f} req/s  "
                        f"p99 {result.percentile(0.99):6.2f} ms",
                        flush=True,
                    )
            if bodies.wrapped:
                print(
                    f"note: more than {args.users} start requests; invitees were reused, so "
                    "later invitations got the 'already invited' answer (raise --users)"
                )
        finally:
            for child in reversed(children):
                child.stop()
    report(results, args)
    print_emulator_stats(emulator_stats)
    print(f"after the run: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
