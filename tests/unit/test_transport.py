"""The sender's Slack calls over kept-alive connections (bot/scheduling/transport.py).

A plain HTTP/1.1 server that plays Slack's Web API and records which client
connection each request came on: the sender must reuse one connection for calls in
a row, and slack_sdk must still see Slack's answers (ok, an error, a 429 with
Retry-After, a refused connection) exactly as it did through ``urlopen``.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.scheduling.sender import DeliveryError, SlackSender


class FakeSlack(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.peers: list[tuple[str, int]] = []
        self.answers: list[tuple[int, dict, dict[str, str]]] = []
        self.delay = 0.0  # seconds before answering

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/"

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (the timeout test) breaks the pipe: expected


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as Slack's API answers

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        server: FakeSlack = self.server  # type: ignore[assignment]
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        server.peers.append(self.client_address)
        if server.delay:
            threading.Event().wait(server.delay)  # Slack slower than the client waits
        status, body, headers = (
            server.answers.pop(0)
            if server.answers
            else (200, {"ok": True, "channel": "D1", "ts": "1.0"}, {})
        )
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    server = FakeSlack()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _sender(url: str) -> SlackSender:
    return SlackSender(api_url=url, token_for_team=lambda _team: "xoxb-test", retries=0)


def test_calls_in_a_row_share_one_connection(slack: FakeSlack) -> None:
    sender = _sender(slack.url)
    for n in range(5):
        posted = sender.post("T1", f"U{n}", text="hi", blocks=[])
        assert (posted.channel, posted.ts) == ("D1", "1.0")
    assert len(slack.peers) == 5
    assert len(set(slack.peers)) == 1, slack.peers


def test_slack_errors_reach_the_sender_as_before(slack: FakeSlack) -> None:
    sender = _sender(slack.url)
    slack.answers.append((200, {"ok": False, "error": "cannot_dm_bot"}, {}))
    with pytest.raises(DeliveryError) as refused:
        sender.post("T1", "UBOT", text="hi", blocks=[])
    assert (refused.value.outcome, refused.value.error) == ("person", "cannot_dm_bot")

    slack.answers.append((429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "7"}))
    with pytest.raises(DeliveryError) as limited:
        sender.post("T1", "U1", text="hi", blocks=[])
    assert (limited.value.outcome, limited.value.retry_after) == ("retry", 7.0)

    slack.answers.append((503, {"ok": False, "error": "service_unavailable"}, {}))
    with pytest.raises(DeliveryError) as down:
        sender.post("T1", "U1", text="hi", blocks=[])
    assert (down.value.outcome, down.value.error) == ("retry", "http_503")
    # After the errors, the same connection still serves.
    sender.post("T1", "U1", text="hi", blocks=[])
    assert len(set(slack.peers)) == 1


def test_a_refused_connection_is_a_retry() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    sender = _sender(f"http://127.0.0.1:{port}/api/")
    with pytest.raises(DeliveryError) as failed:
        sender.post("T1", "U1", text="hi", blocks=[])
    assert failed.value.outcome == "retry"
    assert failed.value.error.startswith("connection:")


def test_response_urls_go_over_the_pool_too(slack: FakeSlack) -> None:
    sender = _sender(slack.url)
    url = slack.url + "respond"
    slack.answers.append((200, {"ok": True}, {}))
    sender.respond(url, {"text": "done"})
    slack.answers.append((404, {"ok": False, "error": "expired_url"}, {}))
    with pytest.raises(DeliveryError) as expired:
        sender.respond(url, {"text": "late"})
    assert expired.value.outcome == "permanent"
    assert "expired_url" in expired.value.error
    assert len(set(slack.peers)) == 1


def test_an_answer_that_does_not_come_in_time_is_not_asked_again(slack: FakeSlack) -> None:
    # Slack may be acting on a request it has not answered: sending it again could post
    # the message twice. urlopen raised a bare timeout, which slack_sdk does not retry;
    # so must the pool, even with a connection-error retry handler in place.
    sender = SlackSender(api_url=slack.url, token_for_team=lambda _team: "xoxb-test")
    sender.client("T1").timeout = 1
    slack.delay = 2.0
    with pytest.raises(DeliveryError) as late:
        sender.post("T1", "U1", text="hi", blocks=[])
    assert late.value.outcome == "retry"
    assert late.value.error.startswith("connection:")
    assert len(slack.peers) == 1
