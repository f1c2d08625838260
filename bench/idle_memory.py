"""Resident memory of an idle ``mentor-bot serve``, beside a bare Bolt app on the same stack.

Both run as real processes against the emulated Slack (``slackemu``, in this process):

- the app: ``python -m bot serve`` with the environment of the README's quick start
  (``SLACK_BOT_TOKEN``, ``SLACK_SIGNING_SECRET``, ``SLACK_API_URL``, SQLite
  ``DATABASE_URL`` in a temp dir, ``PORT``), scheduler on, on a database that
  ``mentor-bot db upgrade`` has migrated first (the Procfile's release phase);
- the baseline: a bare Bolt ``AsyncApp`` on ``aiohttp.web`` that acks ``/mentor``, with the
  same client and verification options (the smallest Slack app on the same libraries).

Each is started, its ``GET /healthz`` (or ``/slack/events``) polled until it answers, then
left alone for ``--settle`` seconds (8), and ``VmRSS`` is read from ``/proc/<pid>/status``.
With ``--modules`` the app also lists the heavy packages loaded at that moment.

Run: ``python bench/idle_memory.py`` (``--runs 3`` repeats and prints each figure).
Target: the app < 90 MB. Always exits 0: it is a measurement.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.servers import bench_env, free_port, wait_up  # noqa: E402 - after ROOT on path

TARGET_MB = 90.0

BARE_BOLT = r"""
import asyncio, os
from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

async def main():
    bolt = AsyncApp(
        client=AsyncWebClient(
            token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
        ),
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=True,
    )

    @bolt.command("/mentor")
    async def mentor(ack):
        await ack()

    async def events(request):
        return await to_aiohttp_response(await bolt.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request):
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/slack/events", events)
    app.router.add_get("/healthz", healthz)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", int(os.environ["PORT"])).start()
    await asyncio.Event().wait()

asyncio.run(main())
"""

# Packages worth naming when they are loaded at idle (what the app could leave for later).
HEAVY = (
    "alembic",
    "pydantic",
    "prometheus_client",
    "cryptography",
    "numpy",
    "scipy",
    "apscheduler",
    "yaml",
    "jinja2",
    "mako",
    "psycopg",
    "slack_sdk.oauth",
    "slack_bolt.oauth",
    "sqlalchemy.dialects.postgresql",
    "email",
    "http.server",
)

# Runs the real entry point, and writes the loaded modules after the settle time.
APP_WITH_MODULES = r"""
import sys, threading
def dump():
    with open(sys.argv[1], "w") as out:
        out.write("\n".join(sorted(sys.modules)))
threading.Timer(float(sys.argv[2]), dump).start()
from bot.__main__ import main
sys.exit(main(["serve"]))
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def migrate(env: dict[str, str]) -> None:
    """The Procfile's release phase: ``mentor-bot db upgrade`` before ``serve`` starts."""
    subprocess.run(
        [sys.executable, "-m", "bot", "db", "upgrade"],
        env=env,
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def measure(
    command: list[str], env: dict[str, str], port: int, settle: float
) -> tuple[float, float]:
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        up = wait_up(f"http://127.0.0.1:{port}/healthz", process)
        time.sleep(settle)
        return up, rss_mb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settle", type=float, default=8.0, help="seconds idle before reading")
    parser.add_argument("--runs", type=int, default=1, help="measure each this many times")
    parser.add_argument("--modules", action="store_true", help="list heavy modules loaded")
    args = parser.parse_args(argv)

    from slackemu import SlackEmulator

    emulator = SlackEmulator().start()
    apps: list[float] = []
    bares: list[float] = []
    try:
        with tempfile.TemporaryDirectory(prefix="idle-memory-") as workdir:
            base = bench_env(emulator.base_url)
            for run in range(args.runs):
                port = free_port()
                env = {
                    **base,
                    "PORT": str(port),
                    "DATABASE_URL": f"sqlite:///{workdir}/idle-{run}.db",
                }
                migrate(env)
                up, mb = measure([sys.executable, "-m", "bot", "serve"], env, port, args.settle)
                apps.append(mb)
                port = free_port()
                bup, bmb = measure(
                    [sys.executable, "-c", BARE_BOLT],
                    {**base, "PORT": str(port)},
                    port,
                    args.settle,
                )
                bares.append(bmb)
                print(
                    f"run {run + 1}: serve {mb:.1f} MB (up in {up:.1f} s), "
                    f"bare Bolt {bmb:.1f} MB (up in {bup:.1f} s), ratio {mb / bmb:.2f}x",
                    flush=True,
                )
            if args.modules:
                port = free_port()
                listing = Path(workdir) / "modules.txt"
                env = {
                    **base,
                    "PORT": str(port),
                    "DATABASE_URL": f"sqlite:///{workdir}/idle-modules.db",
                }
                migrate(env)
                measure(
                    [sys.executable, "-c", APP_WITH_MODULES, str(listing), str(args.settle)],
                    env,
                    port,
                    args.settle + 1,
                )
                loaded = set(listing.read_text().split())
                heavy = [h for h in HEAVY if h in loaded]
                print(
                    f"modules loaded at idle: {len(loaded)}; heavy ones: {', '.join(heavy) or '-'}"
                )
    finally:
        emulator.stop()
    app, bare = statistics.median(apps), statistics.median(bares)
    print()
    print(f"idle resident memory, {args.settle:g} s after start (VmRSS, median of {args.runs}):")
    print(f"  mentor-bot serve: {app:.1f} MB   bare Bolt: {bare:.1f} MB   ratio {app / bare:.2f}x")
    print(f"  target serve < {TARGET_MB:g} MB: {'MET' if app < TARGET_MB else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
