"""The queries of ``forget-me``: rows that name one person, found, deleted or rewritten.

What is deleted and what is kept under a tombstone is decided by
``bot.services.privacy`` (its ``STEPS``); this module only carries it out, one
statement per step, scoped by ``team_id``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Text, cast, delete, func, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from bot.store.models import MatchProposal, Pair, ScheduledMessage

DELETE: Literal["delete"] = "delete"
ANONYMISE: Literal["anonymise"] = "anonymise"


@dataclass(frozen=True)
class Step:
    """One table's rows about a person: those whose ``columns`` (any of them) hold the
    person's ID are deleted, or have that column set to the tombstone. ``name`` is the
    counter the affected rows are added to."""

    name: str
    model: type
    columns: tuple[str, ...]
    action: Literal["delete", "anonymise"]


def apply(
    session: Session, steps: Iterable[Step], *, team_id: str, user_id: str, tombstone: str
) -> dict[str, int]:
    """Run ``steps`` in order; how many rows each counter touched."""
    counts: dict[str, int] = {}
    for step in steps:
        model = step.model
        touched = 0
        if step.action == DELETE:
            touched = session.execute(
                delete(model)
                .where(
                    model.team_id == team_id,
                    or_(*(getattr(model, column) == user_id for column in step.columns)),
                )
                .execution_options(synchronize_session="fetch")
            ).rowcount
        else:
            for column in step.columns:
                touched += session.execute(
                    update(model)
                    .where(model.team_id == team_id, getattr(model, column) == user_id)
                    .values({column: tombstone})
                    .execution_options(synchronize_session="fetch")
                ).rowcount
        counts[step.name] = counts.get(step.name, 0) + touched
    return counts


def scrub_mentions(
    session: Session,
    columns: Iterable[InstrumentedAttribute[Any]],
    *,
    team_id: str,
    user_id: str,
    tombstone: str,
) -> int:
    """Free text of others that quotes the ID (e.g. ``<@U123>``) loses just the ID."""
    scrubbed = 0
    for column in columns:
        table = column.class_
        scrubbed += session.execute(
            update(table)
            .where(table.team_id == team_id, column.contains(user_id, autoescape=True))
            .values({column.key: func.replace(column, user_id, tombstone)})
            .execution_options(synchronize_session="fetch")
        ).rowcount
    return scrubbed


def json_contains(column: InstrumentedAttribute[Any], user_id: str) -> Any:
    """A coarse SQL pre-filter: the JSON's text mentions the ID (checked exactly in Python)."""
    return cast(column, Text).contains(user_id, autoescape=True)


def pairs_naming(session: Session, *, team_id: str, user_id: str) -> list[Pair]:
    """Every pair that names them (member, inviter or who ended it), locked."""
    return list(
        session.scalars(
            select(Pair)
            .where(
                Pair.team_id == team_id,
                or_(
                    Pair.mentor_id == user_id,
                    Pair.mentee_id == user_id,
                    Pair.inviter_id == user_id,
                    Pair.ended_by == user_id,
                ),
            )
            .order_by(Pair.id)
            .with_for_update()
        )
    )


def proposals_naming(session: Session, *, team_id: str, user_id: str) -> list[MatchProposal]:
    """Match proposals they made or whose data may mention them (checked by the caller)."""
    return list(
        session.scalars(
            select(MatchProposal).where(
                MatchProposal.team_id == team_id,
                or_(
                    MatchProposal.created_by == user_id,
                    json_contains(MatchProposal.data, user_id),
                ),
            )
        )
    )


def messages_about(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    channels: Sequence[str],
    pair_ids: Sequence[int],
) -> list[ScheduledMessage]:
    """Outbox rows to them, to one of ``channels`` (their pairs' group DMs), of one of
    ``pair_ids``, or whose payload, key or last error mentions them. Locked on
    PostgreSQL until forget-me commits: a pass's claim (``FOR UPDATE SKIP LOCKED``) then
    passes them by, and a worker settling one it is sending waits and finds it emptied
    (``outbox.forget_in_flight``); read as pending and claimed meanwhile, a row was
    sent with nothing left to delete it."""
    return list(
        session.scalars(
            select(ScheduledMessage)
            .with_for_update()
            .where(
                ScheduledMessage.team_id == team_id,
                or_(
                    ScheduledMessage.recipient == user_id,
                    ScheduledMessage.recipient.in_(sorted(channels)),
                    ScheduledMessage.pair_id.in_(sorted(pair_ids)),
                    json_contains(ScheduledMessage.payload, user_id),
                    ScheduledMessage.key.contains(user_id, autoescape=True),
                    ScheduledMessage.last_error.contains(user_id, autoescape=True),
                ),
            )
        ).all()
    )


def remove(session: Session, row: Any) -> None:
    """Delete one row the caller found above (a proposal, an outbox row, a ledger entry)."""
    session.delete(row)
