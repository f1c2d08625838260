"""The outbox's planning counts, on both databases (they take different paths)."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.store.db import Database
from bot.store.outbox import PlannedMessage, plan

NOW = datetime(2026, 3, 2, 9, tzinfo=UTC)


def planned(prefix: str, count: int) -> list[PlannedMessage]:
    return [
        PlannedMessage(
            team_id="T1",
            key=f"{prefix}:{i}",
            kind="tip",
            recipient=f"U{i}",
            due_at=NOW,
            payload={"tip_id": "x", "role": "mentor"},
        )
        for i in range(count)
    ]


def test_plan_counts_only_new_keys(db: Database) -> None:
    with db.session() as session:
        assert plan(session, planned("a", 1200), now=NOW) == 1200
    with db.session() as session:
        assert plan(session, planned("a", 1200) + planned("b", 3), now=NOW) == 3
        assert plan(session, [], now=NOW) == 0
