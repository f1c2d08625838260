"""`mentor-bot outbox`: list, retry and cancel rows, on both databases; one-line errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

import bot.__main__ as cli
from bot.__main__ import main
from bot.store import outbox
from bot.store.db import Database
from bot.store.models import ScheduledMessage, Workspace

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)
SECRET = "my-private-prep-notes"


@pytest.fixture
def rows(db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, int]:
    monkeypatch.chdir(tmp_path)  # no .env of the developer's
    monkeypatch.setenv("DATABASE_URL", db.url)
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "MENTOR_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    planned = [
        ("tip-1", "T1", "tip", "UALICE0001", NOW - timedelta(minutes=5)),
        ("prep-1", "T1", "prep_mentee", "UBOBBY0002", NOW - timedelta(hours=1)),
        ("feedback-1", "T1", "feedback", "UBOBBY0002", NOW - timedelta(days=1)),
        ("invite-1", "T2", "match_invite", "UCAROL0003", NOW - timedelta(hours=2)),
        ("tip-sent", "T1", "tip", "UALICE0001", NOW - timedelta(days=2)),
        ("tip-sending", "T1", "tip", "UBOBBY0002", NOW - timedelta(minutes=1)),
        ("kickoff-1", "T1", "kickoff", "pair:1", NOW + timedelta(hours=1)),
        ("prep-resumed", "T1", "prep_mentee", "UDAVID0004", NOW + timedelta(days=7)),
    ]
    with db.session() as session:
        outbox.plan(
            session,
            [
                outbox.PlannedMessage(
                    team_id=team, key=key, kind=kind, recipient=to, due_at=due,
                    payload={"text": SECRET},
                )
                for key, team, kind, to, due in planned
            ],
            now=NOW,
        )
        for key, status, error in (
            ("feedback-1", "failed", "invalid_blocks"),
            ("invite-1", "held", "token_revoked"),
            ("tip-sent", "sent", None),
            ("tip-sending", "sending", None),
            ("kickoff-1", "pending", "missing_scope"),  # refused, tried again hourly
        ):
            session.execute(
                update(ScheduledMessage)
                .where(ScheduledMessage.key == key)
                .values(status=status, last_error=error, attempts=6)
            )
        session.execute(  # paused with its person, then resumed: never tried
            update(ScheduledMessage)
            .where(ScheduledMessage.key == "prep-resumed")
            .values(last_error="messages_tab_disabled")
        )
        ids = dict(session.execute(select(ScheduledMessage.key, ScheduledMessage.id)).all())
    return ids


def row(db: Database, message_id: int) -> ScheduledMessage:
    with db.session() as session:
        found = session.get(ScheduledMessage, message_id)
        assert found is not None
        return found


def test_list_shows_routing_and_status_never_contents(
    db: Database, rows: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox", "list"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "id", "team", "kind", "recipient", "due", "(UTC)", "status", "attempts", "last", "error"
    ]
    # Open rows only, oldest due first; sent history is not the outbox's business.
    assert [line.split()[0] for line in lines[1:]] == [
        str(rows[k])
        for k in (
            "feedback-1", "invite-1", "prep-1", "tip-1", "tip-sending", "kickoff-1", "prep-resumed"
        )
    ]
    failed = next(line for line in lines if line.startswith(str(rows["feedback-1"]) + " "))
    assert failed.split() == [
        str(rows["feedback-1"]), "T1", "feedback", "UBOBBY0002", "2026-03-01", "09:00",
        "failed", "6", "invalid_blocks",
    ]
    assert SECRET not in out

    assert main(["outbox", "list", "--status", "held"]) == 0
    assert [line.split()[0] for line in capsys.readouterr().out.splitlines()[1:]] == [
        str(rows["invite-1"])
    ]
    assert main(["outbox", "list", "--team", "T1", "--kind", "tip"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 3  # header, tip-1, tip-sending
    assert main(["outbox", "list", "--limit", "2"]) == 0
    limited = capsys.readouterr().out.splitlines()
    assert len(limited) == 4 and "more rows than --limit 2" in limited[-1]
    assert main(["outbox", "list", "--team", "T9"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "(no rows)"
    assert main(["outbox", "list", "--kind", "tipp"]) == 0  # a typo is not an empty outbox
    assert capsys.readouterr().out.splitlines()[-1] == (
        "(no open row is of kind 'tipp'; open rows are of kinds: feedback, kickoff, "
        "match_invite, prep_mentee, tip)"
    )


def test_retry_puts_failed_held_and_refused_rows_back_due_now(
    db: Database, rows: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)
    retried = ("feedback-1", "invite-1", "kickoff-1")
    assert main(["outbox", "retry", *(str(rows[key]) for key in retried)]) == 0
    assert "3 row(s) pending again" in capsys.readouterr().out
    for key in retried:
        again = row(db, rows[key])
        assert again.status == "pending" and again.attempts == 0
        assert before - timedelta(seconds=1) <= again.due_at <= datetime.now(UTC)


def test_cancel_pending_and_failed_rows(
    db: Database, rows: dict[str, int], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["outbox", "cancel", str(rows["tip-1"]), str(rows["feedback-1"])]) == 0
    assert "2 row(s) cancelled" in capsys.readouterr().out
    assert row(db, rows["tip-1"]).status == "cancelled"
    assert row(db, rows["feedback-1"]).status == "cancelled"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["retry", "{tip-sending}", "999999"], "no outbox row 999999; row {tip-sending} is sen"),
        (["retry", "{tip-sent}"], "row {tip-sent} is sent (only failed, held, paused or pend"),
        # A pending row Slack never refused would go before its time.
        (["retry", "{prep-1}"], "row {prep-1} is pending and not yet tried (it goes when due)"),
        (["retry", "{prep-resumed}"], "row {prep-resumed} is pending and not yet tried"),
        (["cancel", "{tip-sending}", "{tip-1}"], "row {tip-sending} is sending (only pending,"),
        (["cancel", "{tip-sent}"], "row {tip-sent} is sent"),
    ],
)
def test_unknown_ids_and_wrong_states_change_nothing(
    db: Database,
    rows: dict[str, int],
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    expected: str,
) -> None:
    args = [a.format(**rows) if a.startswith("{") else a for a in args]
    before = {key: row(db, i).status for key, i in rows.items()}
    assert main(["outbox", *args]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"mentor-bot: outbox {args[0]}: ")
    assert expected.format(**rows) in lines[0] and "nothing changed" in lines[0]
    assert {key: row(db, i).status for key, i in rows.items()} == before


def test_bad_ids_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["outbox", "retry", "12a"])
    assert exit_.value.code == 2
    assert "not an outbox row ID" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["outbox", "list", "--status", "bogus"])


def test_the_command_line_knows_the_outbox_states() -> None:
    # Spelled out in bot/__main__.py so building the parser imports no SQLAlchemy.
    assert cli.OPEN_STATUSES == outbox.OPEN_STATUSES
    assert cli.CANCELLABLE == outbox.CANCELLABLE


def test_a_cancelled_row_keeps_no_words(db: Database) -> None:
    """However a row carrying someone's words ends up cancelled (its pair ended, its
    person held too long, its workspace paused too long, an operator), it keeps only
    what KEPT_AFTER_DELIVERY names, like a sent one."""
    from bot.store import workspaces

    words = {"mentee_id": "UBOBBY0002", "focus": SECRET, "questions": SECRET}
    rows = {
        "by-pair": ("T1", "pending"),
        "by-person": ("T1", "paused"),
        "by-workspace": ("T2", "held"),
        "by-operator": ("T1", "failed"),
        "kept": ("T1", "failed"),  # a failed row keeps them for a retry
    }
    with db.session() as session:
        outbox.plan(
            session,
            [
                outbox.PlannedMessage(
                    team_id=team,
                    key=key,
                    kind="prep_shared",
                    recipient="UALICE0001" if key != "by-pair" else "UDAVE00004",
                    due_at=NOW - timedelta(days=2),
                    payload=words,
                )
                for key, (team, _status) in rows.items()
            ],
            now=NOW,
        )
        for key, (_team, status) in rows.items():
            session.execute(
                update(ScheduledMessage).where(ScheduledMessage.key == key).values(status=status)
            )
        session.add(Workspace(team_id="T2", status="paused", reason="x", since=NOW))
    with db.session() as session:
        outbox.cancel_pending(session, team_id="T1", recipient="UDAVE00004")
        outbox.resume_recipient(session, team_id="T1", recipient="UALICE0001", stale_before=NOW)
        workspaces.resume(session, team_id="T2", now=NOW)
        [by_operator] = session.scalars(
            select(ScheduledMessage.id).where(ScheduledMessage.key == "by-operator")
        ).all()
        outbox.cancel_rows(session, ids=[by_operator])
    with db.session() as session:
        found = {
            row.key: (row.status, row.payload)
            for row in session.scalars(select(ScheduledMessage))
        }
    for key in ("by-pair", "by-person", "by-workspace", "by-operator"):
        assert found[key] == ("cancelled", {"mentee_id": "UBOBBY0002"}), key
    assert found["kept"] == ("failed", words)
