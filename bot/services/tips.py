"""Starting and stopping a person's daily tips: the one place that does either.

A person gets tips while they are in an active pair and have tips on; the
scheduler pass plans the next one once ``tips_planned_until`` has passed (NULL:
no tips). Stopping deletes the tips already planned, in the caller's
transaction, so a stopped person is never sent one, and a tip planned again for
the same day (tips off, then on before it was due) is not taken for a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from bot.store import outbox, repo

TIP_KINDS = ("tip",)


def start_tips(session: Session, *, team_id: str, user_ids: Sequence[str], now: datetime) -> None:
    """A pair became active (or tips were turned on): tips start with the next tip time
    for each of them who has tips on and none planned (``repo.start_tips``)."""
    repo.start_tips(session, team_id=team_id, user_ids=user_ids, now=now)


def stop_tips(
    session: Session, *, team_id: str, user_id: str, resume_at: datetime | None = None
) -> int:
    """No more tips for this person: planned ones are cancelled. With ``resume_at``
    (a pause), tips that were on come back then. Returns the tips dropped."""
    dropped = outbox.drop_pending(session, team_id=team_id, recipient=user_id, kinds=TIP_KINDS)
    person = repo.get_person(session, team_id=team_id, user_id=user_id)
    if person is not None:
        was_on = person.tips_planned_until is not None
        person.tips_planned_until = resume_at if (resume_at is not None and was_on) else None
    return dropped


def stop_tips_unless_paired(session: Session, *, team_id: str, user_id: str) -> int:
    """After a pair ended: tips stop for a member left without an active pair."""
    if repo.pairs_of(session, team_id=team_id, user_id=user_id, statuses=("active",)):
        return 0
    return stop_tips(session, team_id=team_id, user_id=user_id)


def set_tips(
    session: Session,
    *,
    team_id: str,
    user_id: str,
    enabled: bool,
    minute: int | None,
    now: datetime,
) -> None:
    """``tips off`` / ``tips on`` / ``tips at HH:MM`` and App Home's tips button."""
    person = repo.ensure_person(session, team_id=team_id, user_id=user_id)
    stop_tips(session, team_id=team_id, user_id=user_id)
    person.tips_enabled = enabled
    if minute is not None:
        person.tip_minute = minute
    if enabled and repo.pairs_of(session, team_id=team_id, user_id=user_id, statuses=("active",)):
        start_tips(session, team_id=team_id, user_ids=[user_id], now=now)
