"""Acknowledgement latency of ``/mentor help`` and ``/mentor start @x``: the app vs bare Bolt.

Three servers, each in its own process (spawned, so none shares a GIL with the
load generator): the emulated Slack (``slackemu``), the real app (built by
``bot.app.create_app`` and run by ``bot.local.LocalApp``, the same aiohttp stack
as ``serve``) and a bare Bolt ``AsyncApp`` on a plain aiohttp server that only
acks ``/mentor``. The load generator, in this process, keeps ``--concurrency``
signed slash-command posts in flight for ``--seconds`` per scenario and server,
and measures send → response (the ack).

Then, end to end (``steady``, ``burst``): the real ``mentor-bot serve`` (a subprocess)
against an emulated Slack with its rate limits on, pacing itself to them; measured from
sending ``/mentor start @x`` to the invitation DM arriving at the emulator, at a steady
``--rate`` (20/s) and after a ``--burst`` (2,000), beside the floor those limits allow.

Run: ``python bench/ack_latency.py`` (a few minutes); ``--scenarios help,start --seconds 3``
for a smoke run of the acks.
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

from bench.servers import (  # noqa: E402 - after ROOT is on sys.path
    BOT_TOKEN,
    SIGNING_SECRET,
    Server,
    bench_env,
    serve_command,
)

CALLER = "UBENCHCALLER"
TEAM_ID = "T0BENCH"  # replaced by the emulator's team id at run time
EVENTS_PATH = "/slack/events"

TARGET_P99_MS = 50.0
TARGET_RPS = 800.0
TARGET_VS_BARE = 1.5
TARGET_E2E_P99_MS = 300.0
TARGET_E2E_FLOOR = 1.2


# --------------------------------------------------------------------------- servers
# Each runs in a spawned child: it sends ("ready", info) on its pipe, then answers
# commands ("stats", "drain", "stop") until told to stop.


def _quiet_logging() -> None:
    import logging

    logging.basicConfig(level=logging.WARNING, format="[%(processName)s] %(levelname)s %(message)s")


def run_emulator(conn: Connection, users: int, response_urls: int, limits: bool = False) -> None:
    _quiet_logging()
    from slackemu import SlackEmulator

    # Acks: measured without Slack's limits, which would only queue the invitations
    # behind 429s. End to end (``limits``): Slack's limits on, as the emulator has them.
    emulator = SlackEmulator() if limits else SlackEmulator(rate_limits=None)
    emulator.start()
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
        elif command == "posts":
            # When each invitee's first DM arrived (wall clock), and the 429s so far.
            arrived: dict[str, float] = {}
            limited: dict[str, int] = {}
            for call in emulator.calls:
                if call.status == 429:
                    limited[call.method] = limited.get(call.method, 0) + 1
                elif call.method == "chat.postMessage" and call.response.get("ok"):
                    channel = str(call.args.get("channel", ""))
                    if channel.startswith("U") and channel not in arrived:
                        arrived[channel] = call.at
            conn.send({"arrived": arrived, "limited": limited})
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
        return self.start_invitee()[1]

    def start_invitee(self) -> tuple[str, bytes]:
        if self.next_user >= self.users:
            self.wrapped = True
        invitee = f"U{self.next_user % self.users:08d}"
        self.next_user += 1
        return invitee, self.form(f"start <@{invitee}|user>")


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


# -------------------------------------------------------------------------- end to end
# The real `mentor-bot serve` (a subprocess: its web server, its sender loop woken by each
# request, pacing itself to Slack's limits as MENTOR_SLACK_POSTS_PER_MINUTE's default
# says) against an emulated Slack with its limits on. Measured: from sending the slash
# command to the invitation DM arriving at the emulator (its record of the successful
# chat.postMessage to the invitee).


def start_serve(api_url: str, workdir: str, name: str, *, pacing: bool = True) -> Server:
    """``python -m bot serve`` on a fresh SQLite database (migrated on start)."""
    extra = {"DATABASE_URL": f"sqlite:///{workdir}/{name}.db"}
    if not pacing:
        extra["MENTOR_SLACK_POSTS_PER_MINUTE"] = "0"
    return Server(name, serve_command(), bench_env(api_url, **extra), Path(workdir) / f"{name}.log")


async def post_commands(
    url: str, bodies: Any, *, count: int, rate: float | None, concurrency: int
) -> tuple[dict[str, float], int]:
    """``count`` `/mentor start` commands: at ``rate`` a second on a fixed timetable
    (open loop: a slow ack does not delay the next command), or (``rate`` None) as fast
    as ``concurrency`` in flight allow. Returns invitee -> wall time sent, and errors."""
    import aiohttp

    from slackemu.signing import signed_headers

    sent: dict[str, float] = {}
    errors = 0
    target = url + EVENTS_PATH
    connector = aiohttp.TCPConnector(limit=max(concurrency, 64))
    async with aiohttp.ClientSession(
        connector=connector, timeout=aiohttp.ClientTimeout(total=30)
    ) as session:

        async def one() -> None:
            nonlocal errors
            invitee, body = bodies.start_invitee()
            headers = signed_headers(SIGNING_SECRET, body)
            sent[invitee] = time.time()
            try:
                async with session.post(target, data=body, headers=headers) as response:
                    await response.read()
                    if response.status != 200:
                        errors += 1
            except Exception:  # noqa: BLE001 - counted
                errors += 1

        if rate is not None:
            loop = asyncio.get_running_loop()
            began = loop.time()
            tasks = []
            for i in range(count):
                await asyncio.sleep(max(0.0, began + i / rate - loop.time()))
                tasks.append(asyncio.create_task(one()))
            await asyncio.gather(*tasks)
        else:
            left = count

            async def worker() -> None:
                nonlocal left
                while left > 0:
                    left -= 1
                    await one()

            await asyncio.gather(*(worker() for _ in range(concurrency)))
    return sent, errors


class _FloorBucket:
    """The emulator's token bucket (slackemu.server._Bucket): full at the start, a
    minute's worth, refilled at per_minute/60 a second."""

    def __init__(self, per_minute: float, start: float) -> None:
        self.rate = per_minute / 60.0
        self.tokens = float(per_minute)
        self.capacity = float(per_minute)
        self.stamp = start

    def take(self, at: float) -> float:
        """The earliest instant >= ``at`` a call gets through; takes its token."""
        at = max(at, self.stamp)
        self.tokens = min(self.capacity, self.tokens + (at - self.stamp) * self.rate)
        self.stamp = at
        if self.tokens < 1.0:
            at += (1.0 - self.tokens) / self.rate
            self.tokens, self.stamp = 1.0, at
        self.tokens -= 1.0
        return at


def floor_arrivals(sent: dict[str, float], limits: bool = True) -> dict[str, float]:
    """When each invitation could arrive at the earliest, given the commands' send times
    and the emulator's limits: one ``chat.postMessage`` each (600 a minute per
    workspace; 1 a second per channel, but every invitation goes to its own DM). Slack
    needs nothing before it: the app asks ``users.info`` about the invitee first only
    while that method (Tier 4, 100 a minute) has a slot free, and otherwise lets Slack
    refuse a DM to a bot or a deactivated account itself. Nothing else is counted: no
    time for the app, the database or the network."""
    from slackemu.server import WORKSPACE_POSTS_PER_MINUTE

    order = sorted(sent.items(), key=lambda item: item[1])
    if not order:
        return {}
    if not limits:
        return dict(order)
    posts = _FloorBucket(WORKSPACE_POSTS_PER_MINUTE, order[0][1])
    return {who: posts.take(at) for who, at in order}


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, int(round(q * len(ordered) + 0.5)) - 1))
    return ordered[rank]


@dataclass
class EndToEnd:
    phase: str
    sent: dict[str, float]
    errors: int
    arrived: dict[str, float]
    limited: dict[str, int]
    floor: dict[str, float]
    wall: float

    def latencies(self, arrivals: dict[str, float]) -> list[float]:
        return [arrivals[u] - at for u, at in self.sent.items() if u in arrivals]

    @property
    def drain(self) -> float:
        return max(self.arrived.values(), default=float("nan")) - min(self.sent.values())

    @property
    def floor_drain(self) -> float:
        return max(self.floor.values()) - min(self.sent.values())


def end_to_end(
    ctx: Any,
    phase: str,
    workdir: str,
    args: argparse.Namespace,
    *,
    count: int,
    rate: float | None,
) -> EndToEnd:
    """One phase on a fresh emulator (limits on) and a fresh serve."""
    emulator = spawn(ctx, "emulator", run_emulator, count + 10, count + 10, args.limits == "on")
    app = None
    try:
        # A fresh database for every phase run (a phase asked for twice invites the same
        # people again, who would find their invitation waiting).
        name = f"{phase}-{len(list(Path(workdir).glob(phase + '-*.db')))}"
        app = start_serve(emulator.info["base_url"], workdir, name, pacing=args.limits == "on")
        bodies = Bodies(emulator.info["team_id"], emulator.info["urls"], count + 10)
        began = time.perf_counter()
        sent, errors = asyncio.run(
            post_commands(app.url, bodies, count=count, rate=rate, concurrency=args.concurrency)
        )
        floor = floor_arrivals(sent, args.limits == "on")
        # Wait for every invitation, or for well past the floor.
        deadline = max(floor.values()) + max(60.0, 0.5 * (max(floor.values()) - time.time()))
        while True:
            seen = emulator.ask("posts")
            if len(seen["arrived"]) >= len(sent) or time.time() > deadline:
                break
            time.sleep(1.0)
        wall = time.perf_counter() - began
        arrived = {u: at for u, at in seen["arrived"].items() if u in sent}
        return EndToEnd(phase, sent, errors, arrived, seen["limited"], floor, wall)
    finally:
        if app is not None:
            app.stop()
        emulator.stop()


def report_end_to_end(runs: list[EndToEnd], args: argparse.Namespace) -> None:
    if not runs:
        return
    print()
    if args.limits == "on":
        print(
            "end to end, `/mentor start` -> invitation DM at the emulated Slack (limits on: "
            "users.info 100/min, chat.postMessage 600/min per workspace and 1/s per channel); "
            "the real `serve`, pacing itself:"
        )
    else:
        print(
            "end to end, `/mentor start` -> invitation DM at the emulated Slack, its limits "
            "OFF and the real `serve` not pacing itself (--limits off: what the app adds):"
        )
    for run in runs:
        got = run.latencies(run.arrived)
        floor = run.latencies(run.floor)
        missing = len(run.sent) - len(run.arrived)
        limited = ", ".join(f"{m} {n}" for m, n in sorted(run.limited.items())) or "none"
        print(
            f"  {run.phase}: {len(run.sent)} commands, {run.errors} errors, "
            f"{len(run.arrived)} invitations arrived ({missing} missing), 429s: {limited}"
        )
        print(
            f"    latency p50 {percentile(got, 0.5) * 1000:,.0f} ms, "
            f"p99 {percentile(got, 0.99) * 1000:,.0f} ms; "
            f"the limits' floor p50 {percentile(floor, 0.5) * 1000:,.0f} ms, "
            f"p99 {percentile(floor, 0.99) * 1000:,.0f} ms"
        )
        ratio = run.drain / run.floor_drain if run.floor_drain > 0 else float("nan")
        print(
            f"    drained in {run.drain:.1f} s from the first command; floor "
            f"{run.floor_drain:.1f} s; ratio {ratio:.2f}x"
        )
        if run.phase == "steady":
            p99 = percentile(got, 0.99) * 1000
            ok = p99 < TARGET_E2E_P99_MS and not missing
            print(f"    [{mark(ok):>6}] p99 {p99:,.0f} ms < {TARGET_E2E_P99_MS:g} ms")
        else:
            ok = ratio <= TARGET_E2E_FLOOR and not missing
            print(f"    [{mark(ok):>6}] drained within {TARGET_E2E_FLOOR:g}x of the floor")


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


class _NoAckScenarios(Exception):
    """Only end-to-end phases were asked for."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario and server")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight")
    parser.add_argument("--warmup", type=float, default=1.0, help="unmeasured seconds first")
    parser.add_argument(
        "--users", type=int, default=50_000, help="invitees registered in the emulator"
    )
    parser.add_argument(
        "--scenarios",
        default="help,start,steady,burst",
        help="comma-separated: help, start (acks); steady, burst (end to end)",
    )
    parser.add_argument("--rate", type=float, default=20.0, help="steady: commands a second")
    parser.add_argument("--steady-seconds", type=float, default=10.0, help="steady: how long")
    parser.add_argument("--burst", type=int, default=2000, help="burst: how many commands")
    parser.add_argument(
        "--limits",
        choices=("on", "off"),
        default="on",
        help="steady/burst: Slack's limits in the emulator, and the app's pacing (default on)",
    )
    args = parser.parse_args(argv)
    scenarios = [s.strip() for s in args.scenarios.split(",") if s.strip()]
    phases = [s for s in scenarios if s in ("steady", "burst")]
    scenarios = [s for s in scenarios if s in ("help", "start")]

    print(machine_context())
    print("processes: load generator (this one), emulated Slack, app, bare Bolt (spawned)")
    ctx = mp.get_context("spawn")
    children: list[Child] = []
    results: list[Result] = []
    e2e: list[EndToEnd] = []
    with tempfile.TemporaryDirectory(prefix="ack-bench-") as workdir:
        try:
            if not scenarios:
                raise _NoAckScenarios
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
        except _NoAckScenarios:
            pass
        finally:
            for child in reversed(children):
                child.stop()
        for phase in phases:
            count = int(args.rate * args.steady_seconds) if phase == "steady" else args.burst
            rate = args.rate if phase == "steady" else None
            run = end_to_end(ctx, phase, workdir, args, count=count, rate=rate)
            e2e.append(run)
            print(f"  {phase}: {len(run.arrived)}/{len(run.sent)} arrived in {run.wall:.1f} s")
    if results:
        report(results, args)
        print_emulator_stats(emulator_stats)
    report_end_to_end(e2e, args)
    print(f"after the run: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
