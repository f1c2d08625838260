"""The queries of ``my-data``: every row about one person, in a stable order.

What the export shows of each row (and what it leaves out) is decided by
``bot.services.privacy.personal_data``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bot.store import repo
from bot.store.forget import json_contains
from bot.store.models import (
    Feedback,
    InsightPerson,
    MatchExclusion,
    MatchProposal,
    Pair,
    PostedMessage,
    PrepAnswer,
    ScheduledMessage,
    TipVote,
)


def pairs_of(session: Session, *, team_id: str, user_id: str) -> list[Pair]:
    """Every pair they are (or were) a member of, whatever its status, oldest first."""
    return repo.pairs_of(session, team_id=team_id, user_id=user_id, statuses=None)


def _theirs(session: Session, model: Any, *order: Any, team_id: str, user_id: str) -> list[Any]:
    return list(
        session.scalars(
            select(model)
            .where(model.team_id == team_id, model.user_id == user_id)
            .order_by(*order, model.id)
        )
    )


def prep_answers(session: Session, *, team_id: str, user_id: str) -> list[PrepAnswer]:
    return _theirs(session, PrepAnswer, PrepAnswer.answered_at, team_id=team_id, user_id=user_id)


def feedback(session: Session, *, team_id: str, user_id: str) -> list[Feedback]:
    return _theirs(session, Feedback, Feedback.updated_at, team_id=team_id, user_id=user_id)


def tip_votes(session: Session, *, team_id: str, user_id: str) -> list[TipVote]:
    return _theirs(session, TipVote, TipVote.voted_at, team_id=team_id, user_id=user_id)


def kept_messages(session: Session, *, team_id: str, user_id: str) -> list[PostedMessage]:
    return _theirs(
        session, PostedMessage, PostedMessage.posted_at, team_id=team_id, user_id=user_id
    )


def weekly_parts(session: Session, *, team_id: str, user_id: str) -> list[InsightPerson]:
    return list(
        session.scalars(
            select(InsightPerson)
            .where(InsightPerson.team_id == team_id, InsightPerson.user_id == user_id)
            .order_by(InsightPerson.week_start)
        )
    )


def tips_sent(session: Session, *, team_id: str, user_id: str) -> list[ScheduledMessage]:
    return list(
        session.scalars(
            select(ScheduledMessage)
            .where(
                ScheduledMessage.team_id == team_id,
                ScheduledMessage.recipient == user_id,
                ScheduledMessage.kind == "tip",
                ScheduledMessage.status == "sent",
            )
            .order_by(ScheduledMessage.sent_at, ScheduledMessage.id)
        )
    )


def message_counts(session: Session, *, team_id: str, user_id: str) -> dict[str, int]:
    """Their outbox rows by status."""
    return {
        status: int(count)
        for status, count in session.execute(
            select(ScheduledMessage.status, func.count())
            .where(ScheduledMessage.team_id == team_id, ScheduledMessage.recipient == user_id)
            .group_by(ScheduledMessage.status)
            .order_by(ScheduledMessage.status)
        )
    }


def exclusions_about(session: Session, *, team_id: str, user_id: str) -> list[MatchExclusion]:
    return list(
        session.scalars(
            select(MatchExclusion)
            .where(
                MatchExclusion.team_id == team_id,
                or_(MatchExclusion.user_a == user_id, MatchExclusion.user_b == user_id),
            )
            .order_by(MatchExclusion.created_at, MatchExclusion.id)
        )
    )


def exclusions_set_by(session: Session, *, team_id: str, user_id: str) -> list[MatchExclusion]:
    return list(
        session.scalars(
            select(MatchExclusion)
            .where(MatchExclusion.team_id == team_id, MatchExclusion.created_by == user_id)
            .order_by(MatchExclusion.created_at, MatchExclusion.id)
        )
    )


def proposals_mentioning(session: Session, *, team_id: str, user_id: str) -> list[MatchProposal]:
    """Proposals whose data may mention them (the caller checks each line)."""
    return list(
        session.scalars(
            select(MatchProposal)
            .where(MatchProposal.team_id == team_id, json_contains(MatchProposal.data, user_id))
            .order_by(MatchProposal.created_at, MatchProposal.id)
        )
    )
