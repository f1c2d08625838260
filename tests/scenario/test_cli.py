"""The command line as an operator uses it: real processes, one-line errors, exit codes."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store.db import Database
from bot.store.migrate import upgrade
from bot.store.models import Person
from slackemu import SlackEmulator
from tests.conftest import MENTEE, MENTOR

BASE_ENV = {
    "PATH": os.environ.get("PATH", ""),
    "HOME": os.environ.get("HOME", "/tmp"),
    "SLACK_BOT_TOKEN": "xoxb-cli-test",
    "SLACK_SIGNING_SECRET": "cli-secret",
}


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**BASE_ENV, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN is required"),
        ({"SLACK_BOT_TOKEN": "xoxp-user-token"}, "SLACK_BOT_TOKEN must be a bot token"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET is required"),
        ({"PORT": "eighty"}, "PORT must be a TCP port"),
        ({"MENTOR_SCHEDULER": "sometimes"}, "MENTOR_SCHEDULER must be 'on' or 'off'"),
        ({"MENTOR_ADMINS": "carol"}, "MENTOR_ADMINS must be comma-separated"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL must be a SQLAlchemy URL"),
        ({"SLACK_API_URL": "slack.com"}, "SLACK_API_URL must be an http(s) URL"),
        ({"MENTOR_CONTENT_DIR": "/nonexistent"}, "MENTOR_CONTENT_DIR must be a folder"),
        ({"MENTOR_LOG_FORMAT": "xml"}, "MENTOR_LOG_FORMAT must be 'plain' or 'json'"),
        ({"MENTOR_METRICS_PORT": "http"}, "MENTOR_METRICS_PORT must be a TCP port"),
    ],
)
def test_bad_configuration_is_one_clear_line(tmp_path: Path, env: dict, expected: str) -> None:
    result = run(["serve"], env, tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_clear_line(tmp_path: Path) -> None:
    result = run(
        ["db", "upgrade"], {"DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"}, tmp_path
    )
    assert result.returncode == 1
    assert "DATABASE_URL: cannot open the database" in result.stderr
    assert "Traceback" not in result.stderr


def test_content_check_reports_file_line_and_serve_refuses(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(Path(__file__).parents[2] / "content", content)
    ok = run(["content", "check", str(content)], {}, tmp_path)
    assert ok.returncode == 0 and "ok" in ok.stdout
    settings = content / "settings.yml"
    lines = settings.read_text().splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("prep_lead_hours"))
    lines[index] = "prep_lead_hours: lots"
    settings.write_text("\n".join(lines) + "\n")
    bad = run(["content", "check", str(content)], {}, tmp_path)
    assert bad.returncode != 0
    assert f"settings.yml:{index + 1}:" in bad.stdout
    refused = run(["serve"], {"MENTOR_CONTENT_DIR": str(content)}, tmp_path)
    assert refused.returncode != 0
    assert f"settings.yml:{index + 1}:" in refused.stderr and "Traceback" not in refused.stderr
    # A file or a missing folder given for the folder: one line, not one per file.
    for wrong in (settings, tmp_path / "no-such-folder"):
        mistaken = run(["content", "check", str(wrong)], {}, tmp_path)
        assert mistaken.returncode == 2 and mistaken.stdout == ""
        assert mistaken.stderr.strip().splitlines() == [
            f"mentor-bot: content check: {wrong} is not a folder; give the folder that holds "
            "practices.yml, messages.yml and settings.yml"
        ]


def test_what_an_operator_gets_wrong_is_one_line(tmp_path: Path) -> None:
    """A schema from a newer release, a URL with a port that is no number, a port that
    is taken: one line naming the setting, exit 1, never a traceback."""
    database = f"sqlite:///{tmp_path}/newer.db"
    assert run(["db", "upgrade"], {"DATABASE_URL": database}, tmp_path).returncode == 0
    with Database(database).engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '0042'")
    newer = run(["db", "upgrade"], {"DATABASE_URL": database}, tmp_path)
    assert newer.returncode == 1 and "Traceback" not in newer.stderr
    assert "the database's schema is not one this release knows" in newer.stderr
    garbled = run(["db", "upgrade"], {"DATABASE_URL": "postgresql://u:pw@db:abc/x"}, tmp_path)
    assert garbled.returncode == 1 and "Traceback" not in garbled.stderr
    assert "DATABASE_URL: cannot open the database" in garbled.stderr
    import socket

    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {
            "DATABASE_URL": f"sqlite:///{tmp_path}/port.db",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",
            "MENTOR_SCHEDULER": "off",
        }
        served = run(["serve"], {**env, "PORT": str(port)}, tmp_path)
        worked = run(["worker"], {**env, "MENTOR_METRICS_PORT": str(port)}, tmp_path)
    assert served.returncode == 1 and "Traceback" not in served.stderr
    assert f"mentor-bot: PORT {port}: cannot listen there" in served.stderr
    assert worked.returncode == 1 and "Traceback" not in worked.stderr
    assert f"mentor-bot: MENTOR_METRICS_PORT {port}: cannot listen there" in worked.stderr
    # A .env in another encoding; a content file of lists inside lists, 500 deep.
    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / ".env").write_bytes(b"MENTOR_ADMINS=U\xe9\xff\n")
    latin = run(["content", "check"], {}, odd)
    assert latin.returncode == 2 and "Traceback" not in latin.stderr
    assert ".env is not UTF-8 text" in latin.stderr
    # A .env line python-dotenv cannot read is said once, not once per reading of it.
    (odd / ".env").write_text("MENTOR_SCHEDULER=off\nthis is not a setting\n")
    upgraded = run(["db", "upgrade"], {"DATABASE_URL": f"sqlite:///{odd}/x.db"}, odd)
    assert upgraded.returncode == 0, upgraded.stderr
    assert upgraded.stderr.count("could not parse statement starting at line 2") == 1
    content = tmp_path / "deep"
    shutil.copytree(Path(__file__).parents[2] / "content", content)
    (content / "topics.yml").write_text("topics: " + "[" * 500 + "]" * 500 + "\n")
    deep = run(["content", "check", str(content)], {}, tmp_path)
    assert deep.returncode == 1 and "Traceback" not in deep.stderr
    assert "topics.yml:1: nested too deeply" in deep.stdout
    # Where a file should go: a folder that is not there, a file where a folder goes.
    chart = run(["report", "--team", "T1", "--chart", str(tmp_path / "no" / "c.png")], {}, tmp_path)
    assert chart.returncode == 2 and "give a file name in a folder that exists" in chart.stderr
    (tmp_path / "a-file").write_text("x")
    demo = run(["demo", "--out", str(tmp_path / "a-file")], {}, tmp_path)
    assert demo.returncode == 2 and "is a file; give a folder" in demo.stderr
    nowhere = run(["demo", "--content", str(tmp_path / "nowhere")], {}, tmp_path)
    assert nowhere.returncode == 2 and nowhere.stderr.count("\n") == 1, nowhere.stderr
    assert "--content" in nowhere.stderr and "is not a folder" in nowhere.stderr
    postgres2 = run(["outbox", "list"], {"DATABASE_URL": "postgresql+psycopg2://u@h/x"}, tmp_path)
    assert postgres2.returncode == 1 and "postgresql+psycopg://" in postgres2.stderr


def test_db_upgrade_and_tick(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path}/cli.db",
        "SLACK_BOT_TOKEN": "",
        "SLACK_SIGNING_SECRET": "",
    }
    upgraded = run(["db", "upgrade"], env, tmp_path)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "revision" in upgraded.stdout
    with SlackEmulator() as slack:
        tick_env = {
            **env,
            "SLACK_BOT_TOKEN": "xoxb-t",
            "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": slack.base_url,
        }
        first = run(["tick", "--now", "2026-03-02T09:00:00Z"], tick_env, tmp_path)
        assert first.returncode == 0, first.stderr
        assert "tick:" in first.stdout
        bad = run(["tick", "--now", "next tuesday"], tick_env, tmp_path)
        assert bad.returncode == 2 and "ISO-8601" in bad.stderr
        for edge in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00"):
            out_of_range = run(["tick", "--now", edge], tick_env, tmp_path)
            assert out_of_range.returncode == 2 and "out of range" in out_of_range.stderr
            assert "Traceback" not in out_of_range.stderr
        # A mistyped year ahead would plan tips for then and hold back the real ones:
        # it runs, as SPEC's tick does, and says so.
        future = (datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
        ahead = run(["tick", "--now", future], tick_env, tmp_path)
        assert ahead.returncode == 0 and "tick:" in ahead.stdout
        assert "warning: tick --now is 399 days ahead" in ahead.stderr


def test_every_command_has_help(tmp_path: Path) -> None:
    for args in (
        ["--help"],
        ["serve", "--help"],
        ["worker", "--help"],
        ["tick", "--help"],
        ["content", "check", "--help"],
        ["db", "upgrade", "--help"],
        ["outbox", "--help"],
        ["outbox", "list", "--help"],
        ["outbox", "retry", "--help"],
        ["outbox", "cancel", "--help"],
    ):
        result = run(args, {}, tmp_path)
        assert result.returncode == 0 and "usage:" in result.stdout, args


def test_serve_answers_health_and_slack_then_stops_on_sigterm(tmp_path: Path) -> None:
    with SlackEmulator() as slack:
        slack.add_user(MENTOR, name="alice", tz="America/Los_Angeles")
        slack.add_user(MENTEE, name="bob", tz="Asia/Kolkata")
        port = _free_port()
        env = {
            **BASE_ENV,
            "SLACK_SIGNING_SECRET": "serve-secret",
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/serve.db",
            "PORT": str(port),
        }
        process = _start(["serve"], env, tmp_path)
        try:
            health = _wait_for_health(port)
            assert health == {"ok": True, "database": "ok"}
            driver = slack.driver(f"http://127.0.0.1:{port}", "serve-secret")
            assert driver.slash(MENTOR, "help").status == 200
            mark = slack.mark()
            driver.slash(MENTOR, f"start <@{MENTEE}|bob>")
            slack.wait_for("chat.postMessage", after=mark, timeout=10)
            assert driver.post("command=%2Fmentor", bad_signature=True).status == 401
            metrics_url = f"http://127.0.0.1:{port}/metrics"
            with urllib.request.urlopen(metrics_url, timeout=5) as response:
                metrics = response.read().decode()
            assert 'mentor_slack_requests_total{kind="slash_command",status="200"} 2.0' in metrics
            assert 'mentor_slack_requests_total{kind="slash_command",status="401"} 1.0' in metrics
        finally:
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=15)
        assert process.returncode == 0, output
        assert time.monotonic() - started < 10
        assert "Traceback" not in output


def _start(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    """``mentor-bot <args>`` as its own process, its output (stderr too) on one pipe."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_health(port: int) -> dict:
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                return json.loads(response.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # waiting for a process to bind its port, not moving app time


def test_serve_in_socket_mode(tmp_path: Path) -> None:
    with SlackEmulator() as slack:
        slack.add_user(MENTOR, name="alice", tz="America/Los_Angeles")
        slack.add_user(MENTEE, name="bob", tz="Asia/Kolkata")
        env = {
            **BASE_ENV,
            "SLACK_APP_TOKEN": "xapp-1-test",
            "SLACK_SIGNING_SECRET": "",
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/socket.db",
            "MENTOR_SCHEDULER": "off",
        }
        process = _start(["serve"], env, tmp_path)
        try:
            driver = slack.driver("http://127.0.0.1:9", "unused")
            ack = _retry_until_connected(lambda: driver.socket_slash(MENTOR, "help"))
            assert "/mentor start @person" in json.dumps(ack["payload"])
            # A word Bolt's HTTP body parser trips on ("payload") reaches the command here too.
            ack = driver.socket_slash(MENTOR, "payload")
            assert "/mentor payload" in json.dumps(ack["payload"])
            mark = slack.mark()
            driver.socket_slash(MENTOR, f"start <@{MENTEE}|bob>")
            invitation = slack.wait_for("chat.postMessage", after=mark, timeout=10)
            assert invitation.args["channel"] == MENTEE
            # Slack asks Socket Mode apps to reconnect from time to time; the app must.
            for reason in ("refresh_requested", "link_disabled"):
                slack.socket_disconnect(reason)
                ack = driver.socket_slash(MENTOR, "help")
                assert "/mentor start @person" in json.dumps(ack["payload"])
            assert slack.socket_connections() == 1
        finally:
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=15)
        assert process.returncode == 0, output
        assert time.monotonic() - started < 10
        assert "Traceback" not in output


def test_sigterm_stops_serve_and_worker_within_10_s_while_slack_hangs(tmp_path: Path) -> None:
    """SPEC: exit cleanly within 10 s of SIGTERM. Slack unreachable (Socket Mode retries
    its connection for ever) or hanging on a call of the planning pass (each users.info
    waits out its 30 s timeout): neither may hold the process past that."""
    with SlackEmulator() as slack:
        # Someone whose time zone was never read: each planning pass asks Slack.
        database = f"sqlite:///{tmp_path}/hang.db"
        db = Database(database)
        upgrade(db.engine)
        with db.session() as s:
            s.add(
                Person(
                    team_id=slack.team_id,
                    user_id=MENTOR,
                    tips_planned_until=datetime.now(UTC) + timedelta(days=1),
                )
            )
        db.dispose()
        slack.slow("users.info", 120)
        base = {**BASE_ENV, "SLACK_API_URL": slack.base_url, "DATABASE_URL": database}
        for name in ("worker", "serve"):
            env = {**base, "SLACK_SIGNING_SECRET": "x", "PORT": str(_free_port())}
            arrived = slack.arrived["users.info"]
            process = _start([name], env, tmp_path)
            deadline = time.monotonic() + 30
            while slack.arrived["users.info"] == arrived:  # the pass is in its call
                assert time.monotonic() < deadline and process.poll() is None, name
                time.sleep(0.05)  # waiting on another process, not moving app time
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
            assert time.monotonic() - started < 10, (name, output)
            assert process.returncode == 0, (name, output)
            assert "Traceback" not in output, name
        # auth.test hanging at start-up: the port opens all the same, within seconds.
        slack.slow("auth.test", 120)
        port = _free_port()
        env = {**base, "SLACK_SIGNING_SECRET": "x", "PORT": str(port), "MENTOR_SCHEDULER": "off"}
        process = _start(["serve"], env, tmp_path)
        try:
            opened = time.monotonic()
            assert _wait_for_health(port) == {"ok": True, "database": "ok"}
            assert time.monotonic() - opened < 15
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        assert process.returncode == 0, output
        assert "auth.test at start-up failed: TimeoutError" in output
        # SIGTERM while start-up waits for that auth.test: heard, a clean exit (it
        # used to kill the process outright, with no line and exit -15).
        arrived = slack.arrived["auth.test"]
        process = _start(["serve"], {**env, "PORT": str(_free_port())}, tmp_path)
        deadline = time.monotonic() + 30
        while slack.arrived["auth.test"] == arrived:
            assert time.monotonic() < deadline and process.poll() is None
            time.sleep(0.05)  # waiting on another process, not moving app time
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
        assert time.monotonic() - started < 10, output
        assert (process.returncode, "Traceback" in output) == (0, False), output
        assert "shutting down before serving" in output
    # Socket Mode with nobody answering at all: it keeps trying, and stops when told.
    # Its first try reaches a socket that hangs up at once (so the process is past its
    # imports, its signal handlers in place, on a slow machine too); then nothing
    # listens there.
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(60)
    env = {
        **BASE_ENV,
        "SLACK_APP_TOKEN": "xapp-1-test",
        "SLACK_SIGNING_SECRET": "",
        "SLACK_API_URL": f"http://127.0.0.1:{listener.getsockname()[1]}/api/",
        "DATABASE_URL": f"sqlite:///{tmp_path}/unreachable.db",
        "MENTOR_SCHEDULER": "off",
    }
    process = _start(["serve"], env, tmp_path)
    with listener:
        connection, _ = listener.accept()
        connection.close()
    try:
        process.wait(timeout=3)  # it must not give up on its own
    except subprocess.TimeoutExpired:
        pass
    assert process.poll() is None
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert time.monotonic() - started < 10, output
    assert process.returncode == 0, output
    assert "never connected" in output


def _retry_until_connected(send):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 30
    while True:
        try:
            return send()
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def test_worker_serves_metrics_on_its_own_port(tmp_path: Path) -> None:
    with SlackEmulator() as slack:
        port = _free_port()
        env = {
            **BASE_ENV,
            "SLACK_API_URL": slack.base_url,
            "DATABASE_URL": f"sqlite:///{tmp_path}/worker.db",
            "MENTOR_METRICS_PORT": str(port),
            "MENTOR_LOG_FORMAT": "json",
        }
        process = _start(["worker"], env, tmp_path)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    url = f"http://127.0.0.1:{port}/metrics"
                    with urllib.request.urlopen(url, timeout=2) as response:
                        text = response.read().decode()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)  # waiting for the worker to bind its port
            assert "mentor_database_up 1.0" in text
            assert "# TYPE mentor_outbox_sends_total counter" in text
        finally:
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=15)
        assert process.returncode == 0, output
        lines = output.strip().splitlines()
        assert lines and all(json.loads(line)["level"] for line in lines), output


def test_commands_that_read_rows_never_create_nor_migrate_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`outbox list` on a mistyped SQLite path made an empty file and printed
    "(no rows)"; pointed at PostgreSQL's shared database it built the whole schema
    there; and a newer release's command line migrated production ahead of it."""
    import sqlite3

    from bot.__main__ import main

    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    missing = tmp_path / "typo.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    for argv in (["outbox", "list"], ["report", "--team", "T1"], ["match", "--team", "T1"]):
        assert main(argv) == 1, argv
        assert "there is no database at" in capsys.readouterr().err
    assert not missing.exists()

    empty = tmp_path / "other.db"
    sqlite3.connect(empty).close()  # some other program's (empty) database
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{empty}")
    assert main(["outbox", "list"]) == 1
    assert "holds no Mentor Bot tables" in capsys.readouterr().err
    with sqlite3.connect(empty) as connection:
        assert connection.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)

    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    with sqlite3.connect(empty) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0001'")
    assert main(["outbox", "list"]) == 1
    assert "older than this release (revision 0001)" in capsys.readouterr().err
    with sqlite3.connect(empty) as connection:  # not migrated behind the operator's back
        assert connection.execute("SELECT version_num FROM alembic_version").fetchone() == (
            "0001",
        )


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path) -> None:
    """`mentor-bot demo | head -1`: a traceback of BrokenPipeError, or "--out …: Broken
    pipe" blaming the output folder, and exit 1 or 120."""
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "demo", "--days", "1", "--out", str(tmp_path / "d")],
        env={**BASE_ENV, "PYTHONUNBUFFERED": "1"},
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.readline()
    process.stdout.close()  # as `head -1` does
    errors = process.stderr.read()
    process.stderr.close()
    assert process.wait(timeout=120) == 141, errors  # as SIGPIPE would end it, quietly
    assert "Traceback" not in errors and "Broken pipe" not in errors, errors


def test_tick_runs_without_a_signing_secret(tmp_path: Path) -> None:
    result = run(
        ["tick"],
        {
            "SLACK_SIGNING_SECRET": "",
            "DATABASE_URL": f"sqlite:///{tmp_path}/tick.db",
            "SLACK_API_URL": "http://127.0.0.1:9/api/",  # nothing due: Slack is not asked
        },
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "tick: planned 0" in result.stdout + result.stderr
