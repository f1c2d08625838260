"""Two people acting on one pair at the same moment, on PostgreSQL (SQLite has one
writer at a time: there is no race to lose there)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from bot.services import pairing
from bot.store.db import Database
from bot.store.models import Pair

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
TEAM = "T1"


def _waiting_for_a_lock(db: Database) -> bool:
    with db.engine.connect() as other:
        query = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return bool(other.execute(query).scalar())


def test_a_withdrawal_racing_an_accept_leaves_the_accepted_pair_alone(db: Database) -> None:
    """The inviter's `/mentor end @bob` reads the invitation while Bob's Accept holds the
    pair's lock; once Accept commits, the withdrawal sees the pair is active and takes
    nothing back (it used to overwrite it with "withdrawn", its kickoff lost)."""
    if db.dialect == "sqlite":
        pytest.skip("SQLite serialises writers: there is no race to lose")
    with db.session() as s:
        pair = Pair(
            team_id=TEAM,
            mentor_id="UALICE",
            mentee_id="UBOB",
            inviter_id="UALICE",
            status="invited",
            created_at=NOW,
        )
        s.add(pair)
        s.flush()
        pair_id = pair.id
    accepting, outcome = threading.Event(), {}

    def accept() -> None:
        with db.session() as s:
            pairing.answer_invitation(
                s, team_id=TEAM, pair_id=pair_id, user_id="UBOB", accept=True, now=NOW
            )
            accepting.set()
            deadline = datetime.now(UTC) + timedelta(seconds=20)
            while not _waiting_for_a_lock(db) and datetime.now(UTC) < deadline:
                pass  # hold the lock until the withdrawal waits on it

    def withdraw() -> None:
        with db.session() as s:
            outcome["withdrawn"] = pairing.withdraw_sent_invitation(
                s, team_id=TEAM, inviter_id="UALICE", invitee_id="UBOB", now=NOW
            )

    threads: list[Any] = [threading.Thread(target=accept)]
    threads[0].start()
    assert accepting.wait(20)
    threads.append(threading.Thread(target=withdraw))
    threads[1].start()
    for thread in threads:
        thread.join(30)
    assert outcome == {"withdrawn": None}
    with db.session() as s:
        assert s.get(Pair, pair_id).status == "active"


def test_two_match_rounds_made_at_once_leave_only_the_newest_open(db: Database) -> None:
    """Two coordinators run `/mentor match` at the same moment: each round used to
    replace the open ones it could see, not the other's uncommitted one, and both stayed
    open (approving both told the unmatched twice). They take turns now."""
    from sqlalchemy import select

    from bot.services import matching
    from bot.store.models import MatchProposal

    if db.dialect == "sqlite":
        pytest.skip("SQLite serialises writers: there is no race to lose")
    first_made, errors = threading.Event(), []

    def round_by(coordinator: str, hold: bool) -> None:
        try:
            with db.session() as s:
                matching.compute_proposal(
                    s, team_id=TEAM, by=coordinator, now=NOW, topic_labels={}
                )
                if hold:
                    first_made.set()
                    deadline = datetime.now(UTC) + timedelta(seconds=20)
                    while not _waiting_for_a_lock(db) and datetime.now(UTC) < deadline:
                        pass  # uncommitted until the second round waits for it
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    first = threading.Thread(target=round_by, args=("UCOORD1", True))
    first.start()
    assert first_made.wait(20)
    second = threading.Thread(target=round_by, args=("UCOORD2", False))
    second.start()
    for thread in (first, second):
        thread.join(30)
    assert errors == []
    with db.session() as s:
        rounds = s.execute(
            select(MatchProposal.created_by, MatchProposal.status).order_by(MatchProposal.id)
        ).all()
    assert [tuple(r) for r in rounds] == [("UCOORD1", "replaced"), ("UCOORD2", "open")]


def test_a_pass_claims_nothing_forget_me_has_read(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """forget-me read the outbox without a lock: a pass claiming a row it had read as
    pending, before it deleted it, sent it, and nothing was left to delete it in Slack.
    The rows it reads are locked until it commits; a claim passes them by."""
    from bot.services import privacy
    from bot.store import outbox, posted

    if db.dialect == "sqlite":
        pytest.skip("SQLite serialises writers: there is no race to lose")
    with db.session() as s:
        outbox.plan(
            s,
            [
                outbox.PlannedMessage(
                    team_id=TEAM,
                    key="tip:now",
                    kind="tip",
                    recipient="UBOB",
                    due_at=NOW,
                    payload={"tip_id": "t1"},
                )
            ],
            now=NOW,
        )
    claimed: list[Any] = []
    real_about = posted.about

    def about(*args: Any, **kwargs: Any) -> Any:
        # A worker's pass, its claim committed while forget-me's transaction runs.
        with db.session() as other:
            claimed.extend(outbox.claim_due(other, now=NOW, worker="w1"))
        return real_about(*args, **kwargs)

    monkeypatch.setattr(posted, "about", about)
    with db.session() as s:
        privacy.forget_person(s, team_id=TEAM, user_id="UBOB", now=NOW)
    assert claimed == []
    with db.session() as other:
        assert outbox.claim_due(other, now=NOW, worker="w1") == []  # it went with them
