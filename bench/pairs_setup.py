"""300 pairs set up through Slack, 8 people at a time: the app vs a throwaway Bolt app.

Each pair is one person's whole path: ``/mentor start @partner`` → the invitation DM
arrives → the partner presses Accept → the group DM is opened and the kickoff posted in
it. ``--parallel`` (8) such paths run at once (threads, each with its own keep-alive
connection, through ``slackemu.SlackDriver``: signed requests as Slack sends them),
until ``--pairs`` (300) are done; the time is from the first command to the last
kickoff. Each path waits on the emulator's record of the calls (``wait_for``), as a
person would wait for the message to appear.

The servers, each a real process against the same emulated Slack (in this process):

- the app: ``python -m bot serve`` on a fresh SQLite database, as deployed (its web
  server, and its sender loop woken by each request);
- the baseline: ``bench/bare_pairs.py``, a single-file Bolt app making the same Slack
  calls in the same order with no database (everything in memory).

Slack's rate limits are off in the emulator and the app's pacing with them
(``MENTOR_SLACK_POSTS_PER_MINUTE=0``): with them, the 600 ``users.info`` calls alone
(Tier 4, 100 a minute) would take five minutes for either server, and the figure would
measure Slack's limits rather than the servers (``bench/ack_latency.py``'s end-to-end
phases measure the app under the limits).

Run: ``python bench/pairs_setup.py`` (``--runs 2`` alternates app and baseline twice).
Target: the app ≤ 7 s. Always exits 0: it is a measurement.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.servers import (  # noqa: E402 - after ROOT is on sys.path
    SIGNING_SECRET,
    Server,
    bench_env,
    serve_command,
)

TARGET_SECONDS = 7.0


STEPS = ("start acked", "invitation arrived", "Accept acked", "kickoff arrived")


def set_up_pairs(
    emulator: object, url: str, *, pairs: int, parallel: int, prefix: str
) -> tuple[float, dict[str, list[float]]]:
    """Runs ``pairs`` paths, ``parallel`` at a time; returns the seconds they took, and
    each step's durations (seconds after the step before it)."""
    driver = emulator.driver(url, SIGNING_SECRET, timeout=60)  # type: ignore[attr-defined]
    todo = list(range(pairs))
    lock = threading.Lock()
    failures: list[str] = []
    steps: dict[str, list[float]] = {step: [] for step in STEPS}

    def path(n: int) -> None:
        mentor, mentee = f"U{prefix}M{n:05d}", f"U{prefix}E{n:05d}"
        after = emulator.mark()  # type: ignore[attr-defined]
        times = [time.perf_counter()]
        answer = driver.slash(mentor, f"start <@{mentee}|mentee{n}>")
        times.append(time.perf_counter())
        if answer.status != 200:
            raise RuntimeError(f"/mentor start answered {answer.status}")
        invitation = emulator.wait_for(  # type: ignore[attr-defined]
            "chat.postMessage",
            lambda c: c.response.get("ok") and c.args.get("channel") == mentee,
            timeout=60,
            after=after,
        )
        times.append(time.perf_counter())
        message = emulator.message(invitation.response["ts"])  # type: ignore[attr-defined]
        after = emulator.mark()  # type: ignore[attr-defined]
        answer = driver.click(mentee, message, "invite_accept")
        times.append(time.perf_counter())
        if answer.status != 200:
            raise RuntimeError(f"Accept answered {answer.status}")
        members = {mentor, mentee}
        opened = emulator.wait_for(  # type: ignore[attr-defined]
            "conversations.open",
            lambda c: c.response.get("ok") and set(str(c.args["users"]).split(",")) == members,
            timeout=60,
            after=after,
        )
        group = opened.response["channel"]["id"]
        emulator.wait_for(  # type: ignore[attr-defined]
            "chat.postMessage",
            lambda c: c.response.get("ok") and c.args.get("channel") == group,
            timeout=60,
            after=after,
        )
        times.append(time.perf_counter())
        with lock:
            for step, before, at in zip(STEPS, times[:-1], times[1:], strict=True):
                steps[step].append(at - before)

    def person() -> None:
        while True:
            with lock:
                if not todo or failures:
                    return
                n = todo.pop(0)
            try:
                path(n)
            except Exception as error:  # noqa: BLE001 - reported, and the run stops
                with lock:
                    failures.append(f"pair {n}: {type(error).__name__}: {str(error)[:300]}")

    threads = [threading.Thread(target=person, daemon=True) for _ in range(parallel)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.perf_counter() - started
    driver.close()
    if failures:
        raise RuntimeError("; ".join(failures[:3]))
    return took, steps


def cpu_seconds(pid: int) -> float:
    """The process's CPU time so far (user + system, all threads), from ``/proc``; -1
    where there is none. (Asked once the server answers, so start-up is not counted.)"""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return -1.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=300)
    parser.add_argument("--parallel", type=int, default=8, help="people at a time")
    parser.add_argument("--runs", type=int, default=1, help="app and baseline, this many times")
    args = parser.parse_args(argv)

    from slackemu import SlackEmulator

    try:
        one, five, _ = os.getloadavg()
        print(f"cores: {os.cpu_count()}; load average {one:.2f} (1 min), {five:.2f} (5 min)")
    except OSError:
        pass
    apps: list[float] = []
    bares: list[float] = []
    with tempfile.TemporaryDirectory(prefix="pairs-setup-") as workdir:
        for run in range(args.runs):
            for name in ("app", "bare-bolt"):
                emulator = SlackEmulator(rate_limits=None).start()
                prefix = f"{run}{'A' if name == 'app' else 'B'}"
                for n in range(args.pairs):
                    emulator.add_user(f"U{prefix}M{n:05d}", name=f"mentor{n}", tz="Europe/Berlin")
                    emulator.add_user(f"U{prefix}E{n:05d}", name=f"mentee{n}", tz="America/Lima")
                env = bench_env(emulator.base_url)
                if name == "app":
                    env.update(
                        DATABASE_URL=f"sqlite:///{workdir}/pairs-{run}.db",
                        MENTOR_SLACK_POSTS_PER_MINUTE="0",
                    )
                    command = serve_command()
                else:
                    command = [sys.executable, str(ROOT / "bench" / "bare_pairs.py")]
                server = Server(name, command, env, Path(workdir) / f"{name}-{run}.log")
                try:
                    busy_before = cpu_seconds(server.process.pid)
                    seconds, steps = set_up_pairs(
                        emulator,
                        server.url,
                        pairs=args.pairs,
                        parallel=args.parallel,
                        prefix=prefix,
                    )
                    # The rest of each path (invitation closed, inviter told) follows;
                    # counted here so both servers are seen doing all of it.
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        updates = [c for c in emulator.calls_to("chat.update") if c.response["ok"]]
                        posts = [
                            c for c in emulator.calls_to("chat.postMessage") if c.response["ok"]
                        ]
                        if len(updates) >= args.pairs and len(posts) >= 3 * args.pairs:
                            break
                        time.sleep(0.2)
                    busy_after = cpu_seconds(server.process.pid)
                    busy = busy_after - busy_before if min(busy_before, busy_after) >= 0 else -1
                    calls: dict[str, int] = {}
                    for call in emulator.calls:
                        if call.response.get("ok"):
                            calls[call.method] = calls.get(call.method, 0) + 1
                finally:
                    server.stop()
                    emulator.stop()
                (apps if name == "app" else bares).append(seconds)
                print(
                    f"run {run + 1} {name:<9}: {args.pairs} pairs in {seconds:.2f} s "
                    f"({args.pairs / seconds:.0f} pairs/s); Slack saw "
                    + ", ".join(f"{m} {n}" for m, n in sorted(calls.items())),
                    flush=True,
                )
                if busy >= 0:
                    print(
                        f"    server CPU {busy:.2f} s, "
                        f"{busy / args.pairs * 1000:.1f} ms per pair",
                        flush=True,
                    )
                print(
                    "    median per path: "
                    + ", ".join(
                        f"{step} {statistics.median(values) * 1000:.0f} ms"
                        for step, values in steps.items()
                    ),
                    flush=True,
                )
    app, bare = statistics.median(apps), statistics.median(bares)
    print()
    print(
        f"{args.pairs} pairs, {args.parallel} people at a time (median of {args.runs}): "
        f"app {app:.2f} s, bare Bolt {bare:.2f} s, ratio {app / bare:.2f}x"
    )
    print(f"  target app <= {TARGET_SECONDS:g} s: {'MET' if app <= TARGET_SECONDS else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
