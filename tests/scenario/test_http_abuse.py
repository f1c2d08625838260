"""The HTTP face under abuse: idle, trickling and flooding sockets never starve /healthz."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from bot.config import load_settings
from bot.local import LocalApp
from bot.store.db import Database
from bot.store.migrate import upgrade
from slackemu import SlackEmulator


@pytest.fixture
def served(tmp_path: Any, content: Any) -> Iterator[tuple[LocalApp, int]]:
    url = f"sqlite:///{tmp_path}/abuse.db"
    with SlackEmulator() as slack:
        settings = load_settings(
            {
                "SLACK_BOT_TOKEN": "xoxb-abuse",
                "SLACK_SIGNING_SECRET": "abuse-secret",
                "SLACK_API_URL": slack.base_url,
                "DATABASE_URL": url,
                "MENTOR_SCHEDULER": "off",
                "MENTOR_HTTP_MAX_CONNECTIONS": "400",
                "MENTOR_HTTP_IDLE_SECONDS": "2",
                "MENTOR_HTTP_BODY_SECONDS": "1",
            },
            dotenv=False,
        )
        db = Database(url)
        upgrade(db.engine)
        with LocalApp(settings, content=content, db=db) as app:
            yield app, app.port
        db.dispose()


def _healthz(port: int) -> tuple[int, float]:
    started = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request("GET", "/healthz")
        status = conn.getresponse().status
    finally:
        conn.close()
    return status, time.monotonic() - started


def _open(port: int, n: int) -> list[socket.socket]:
    return [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(n)]


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def test_three_hundred_idle_connections_leave_healthz_answering(served: Any) -> None:
    _app, port = served
    idle = _open(port, 300)
    try:
        # Half of them start a request and stop mid-header, as a slow attacker would.
        for sock in idle[::2]:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        status, took = _healthz(port)
        assert status == 200
        assert took < 1.0, f"/healthz took {took:.2f}s behind 300 idle sockets"
    finally:
        for sock in idle:
            sock.close()


def test_idle_and_trickling_sockets_are_closed_after_the_idle_timeout(served: Any) -> None:
    _app, port = served
    idle, trickle = _open(port, 2)
    try:
        started = time.monotonic()
        trickle.sendall(b"POST /slack/events HTTP/1.1\r\n")
        for _ in range(3):  # a header line every half second never completes the request
            time.sleep(0.5)  # the attacker's pace, in real time: it is what is being tested
            try:
                trickle.sendall(b"X-Slow: 1\r\n")
            except OSError:
                break
        assert _closed_by_server(idle, within=4.0)
        assert _closed_by_server(trickle, within=4.0)
        assert time.monotonic() - started < 6.0
    finally:
        idle.close()
        trickle.close()


def test_a_body_that_trickles_is_answered_408(served: Any) -> None:
    _app, port = served
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:
        sock.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"command=%2Fmentor"
        )
        sock.settimeout(5)
        answer = sock.recv(4096)
    finally:
        sock.close()
    assert answer.startswith(b"HTTP/1.1 408")


def test_connections_past_the_cap_get_503_and_healthz_recovers(served: Any) -> None:
    _app, port = served
    flood = _open(port, 400)
    try:
        # The kernel completes handshakes before the server accepts them, so one more
        # connection may reach the server before the last of the flood does (on a busy
        # machine, seconds later): then it takes a free place, and says nothing. Try
        # again until the server, holding the whole flood, turns one away.
        deadline = time.monotonic() + 10
        while True:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
                extra.settimeout(0.5)
                try:
                    answer = extra.recv(4096)
                except TimeoutError:
                    answer = b""
            if answer:
                assert answer.startswith(b"HTTP/1.1 503"), answer[:40]
                break
            assert time.monotonic() < deadline, "no 503 past the cap"
    finally:
        for sock in flood:
            sock.close()
    deadline = time.monotonic() + 5
    while True:
        try:
            status, _ = _healthz(port)
            if status == 200:
                break
        except (ConnectionError, http.client.HTTPException):
            pass
        assert time.monotonic() < deadline, "/healthz did not recover after the flood"
        time.sleep(0.05)  # waiting for the server to see the flood's sockets closed
