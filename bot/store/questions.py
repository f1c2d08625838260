"""The question parking lot in the database, scoped by ``team_id`` and pair."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.domain.questions import Question, check_question, cleared_by
from bot.store import repo
from bot.store.models import ParkedQuestion


def open_questions(session: Session, *, team_id: str, pair_id: int) -> list[Question]:
    """The pair's open questions, oldest first."""
    return [
        Question(row.id, row.asked_by, row.text, row.asked_at)
        for row in session.scalars(
            select(ParkedQuestion)
            .where(ParkedQuestion.team_id == team_id, ParkedQuestion.pair_id == pair_id)
            .order_by(ParkedQuestion.asked_at, ParkedQuestion.id)
        )
    ]


def park(
    session: Session, *, team_id: str, pair_id: int, user_id: str, text: str, now: datetime
) -> Question:
    """Park ``text`` for the pair's next meeting. Checked here whatever the caller did:
    at most ``QUESTION_MAX`` characters, at most ``OPEN_MAX`` open. That ``user_id`` is a
    member of the pair is the caller's check (``require_member``). The pair row is locked
    so two asks at once cannot both pass the count."""
    repo.lock_pair(session, team_id=team_id, pair_id=pair_id)
    count = session.scalar(
        select(func.count())
        .select_from(ParkedQuestion)
        .where(ParkedQuestion.team_id == team_id, ParkedQuestion.pair_id == pair_id)
    )
    value = check_question(text, open_count=int(count or 0))
    row = ParkedQuestion(
        team_id=team_id, pair_id=pair_id, asked_by=user_id, text=value, asked_at=now
    )
    session.add(row)
    session.flush()
    return Question(row.id, row.asked_by, row.text, row.asked_at)


def clear_for_meeting(
    session: Session, *, team_id: str, pair_id: int, prep_sent_at: datetime
) -> int:
    """A meeting was held: the questions its prep prompt (first sent at ``prep_sent_at``)
    listed are done with, and go (``bot.domain.questions.cleared_by``). Returns how many."""
    done = cleared_by(
        open_questions(session, team_id=team_id, pair_id=pair_id), prep_sent_at=prep_sent_at
    )
    if not done:
        return 0
    return session.execute(
        delete(ParkedQuestion)
        .where(
            ParkedQuestion.team_id == team_id,
            ParkedQuestion.pair_id == pair_id,
            ParkedQuestion.id.in_([q.id for q in done]),
        )
        .execution_options(synchronize_session="fetch")
    ).rowcount


def questions_by(session: Session, *, team_id: str, user_id: str) -> list[dict]:
    """What ``my-data`` shows: the questions this person parked, with their words."""
    return [
        {"pair_id": row.pair_id, "question": row.text, "asked_at": row.asked_at.isoformat()}
        for row in session.scalars(
            select(ParkedQuestion)
            .where(ParkedQuestion.team_id == team_id, ParkedQuestion.asked_by == user_id)
            .order_by(ParkedQuestion.asked_at, ParkedQuestion.id)
        )
    ]


def forget(session: Session, *, team_id: str, user_id: str, tombstone: str) -> int:
    """``forget-me``: their questions go; the partner's stay, and any that quote their
    ID lose just the ID."""
    deleted = session.execute(
        delete(ParkedQuestion)
        .where(ParkedQuestion.team_id == team_id, ParkedQuestion.asked_by == user_id)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    session.execute(
        update(ParkedQuestion)
        .where(
            ParkedQuestion.team_id == team_id,
            ParkedQuestion.text.contains(user_id, autoescape=True),
        )
        .values(text=func.replace(ParkedQuestion.text, user_id, tombstone))
        .execution_options(synchronize_session="fetch")
    )
    return deleted
