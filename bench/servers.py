"""What the benches share to run a server as a process: a free port, the environment a
bench server gets, and a server started, waited for on ``/healthz`` and stopped."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SIGNING_SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def bench_env(api_url: str, **extra: str) -> dict[str, str]:
    """This process's environment without the developer's own Slack, Mentor Bot and
    database settings, with the bench's token, signing secret and emulated Slack."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "MENTOR_", "DATABASE_URL"))
    }
    env.update(
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=api_url,
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


def wait_up(url: str, process: subprocess.Popen, timeout: float = 60) -> float:
    """Seconds until ``url`` answers; RuntimeError if the process exits or time runs out."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"{url}: process exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                response.read()
                return time.monotonic() - started
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


class Server:
    """``command`` on a free ``PORT``, its output in ``log``, up once /healthz answers."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], log: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log = open(log, "w")  # noqa: SIM115 - closed in stop
        self.process = subprocess.Popen(
            command,
            env={**env, "PORT": str(self.port)},
            cwd=ROOT,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_up(f"{self.url}/healthz", self.process)
        except RuntimeError as error:
            self.stop()
            raise RuntimeError(f"{name}: {error}; see {log}") from None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.log.close()


def serve_command() -> list[str]:
    return [sys.executable, "-m", "bot", "serve"]
