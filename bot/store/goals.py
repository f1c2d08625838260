"""A pair's goals, progress taps and agreement; the goal card's place; coordinators' counts.

Every query is scoped by ``team_id`` and a pair. The words stored here are the pair's
own: nothing in this module hands them to anyone but the pair (``goal_counts`` is all
coordinators get).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.domain.goals import (
    DONE,
    OPEN,
    Agreement,
    GoalState,
    Plan,
    check_progress,
    status_after,
)
from bot.store import repo
from bot.store.models import GoalProgress, Meeting, Pair, PairAgreement, PairGoal


def goals_of(session: Session, *, team_id: str, pair_id: int) -> list[PairGoal]:
    return list(
        session.scalars(
            select(PairGoal)
            .where(PairGoal.team_id == team_id, PairGoal.pair_id == pair_id)
            .order_by(PairGoal.position)
        )
    )


def goals_of_pairs(
    session: Session, *, team_id: str, pair_ids: Sequence[int]
) -> dict[int, list[PairGoal]]:
    """Goals of several pairs in one query (App Home lists every pair of a person)."""
    found: dict[int, list[PairGoal]] = {pair_id: [] for pair_id in pair_ids}
    if not pair_ids:
        return found
    for goal in session.scalars(
        select(PairGoal)
        .where(PairGoal.team_id == team_id, PairGoal.pair_id.in_(sorted(set(pair_ids))))
        .order_by(PairGoal.pair_id, PairGoal.position)
    ):
        found[goal.pair_id].append(goal)
    return found


def get_goal(session: Session, *, team_id: str, goal_id: int) -> PairGoal | None:
    return session.scalars(
        select(PairGoal).where(PairGoal.team_id == team_id, PairGoal.id == goal_id)
    ).first()


def agreement_of(
    session: Session, *, team_id: str, pair_id: int, lock: bool = False
) -> PairAgreement | None:
    query = select(PairAgreement).where(
        PairAgreement.team_id == team_id, PairAgreement.pair_id == pair_id
    )
    return session.scalars(query.with_for_update() if lock else query).first()


def _agreement_row(
    session: Session, *, team_id: str, pair_id: int, now: datetime, lock: bool = False
) -> PairAgreement:
    row = agreement_of(session, team_id=team_id, pair_id=pair_id, lock=lock)
    if row is None:
        row = PairAgreement(
            team_id=team_id,
            pair_id=pair_id,
            contact="",
            confidential="",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    return row


def save_plan(
    session: Session, *, team_id: str, pair_id: int, plan: Plan, now: datetime
) -> tuple[list[PairGoal], PairAgreement]:
    """Write what the "Set our goals" form holds (already checked by
    ``bot.domain.goals.check_plan``). A goal kept in its place keeps its status and
    progress; an emptied place deletes its goal with its taps. The pair row is locked
    first, so both members saving at once write one after the other."""
    repo.lock_pair(session, team_id=team_id, pair_id=pair_id)
    existing = {g.position: g for g in goals_of(session, team_id=team_id, pair_id=pair_id)}
    wanted = {goal.position: goal for goal in plan.goals}
    for position, row in existing.items():
        if position not in wanted:
            session.delete(row)
    for position, goal in wanted.items():
        row = existing.get(position)
        if row is None:
            row = PairGoal(
                team_id=team_id,
                pair_id=pair_id,
                position=position,
                status=OPEN,
                created_at=now,
            )
            session.add(row)
        if (row.what, row.why, row.by_when) != (goal.what, goal.why, goal.by_when):
            row.what, row.why, row.by_when = goal.what, goal.why, goal.by_when
            row.updated_at = now
    agreement = _agreement_row(session, team_id=team_id, pair_id=pair_id, now=now)
    agreed = plan.agreement
    if (agreement.cadence, agreement.contact, agreement.confidential) != (
        agreed.cadence,
        agreed.contact,
        agreed.confidential,
    ):
        agreement.cadence = agreed.cadence
        agreement.contact, agreement.confidential = agreed.contact, agreed.confidential
        agreement.updated_at = now
    session.flush()
    return goals_of(session, team_id=team_id, pair_id=pair_id), agreement


def record_progress(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    goal_id: int,
    meeting_id: int | None,
    progress: str,
    now: datetime,
) -> PairGoal | None:
    """One tap on a goal from the poll of ``meeting_id``; a second tap on the same poll
    replaces the first. None when the goal is gone (edited away meanwhile), or when the
    goal or the meeting is not that pair's (a forged button). Who may tap (the mentee
    of that pair) is the caller's check."""
    progress = check_progress(progress)
    goal = session.scalars(
        select(PairGoal)
        .where(PairGoal.team_id == team_id, PairGoal.id == goal_id, PairGoal.pair_id == pair_id)
        .with_for_update()
    ).first()
    if goal is None:
        return None
    if (
        meeting_id is not None
        and session.scalar(
            select(Meeting.pair_id).where(Meeting.team_id == team_id, Meeting.id == meeting_id)
        )
        != pair_id
    ):
        return None
    tap = None
    if meeting_id is not None:
        tap = session.scalars(
            select(GoalProgress).where(
                GoalProgress.goal_id == goal_id, GoalProgress.meeting_id == meeting_id
            )
        ).first()
    if tap is None:
        tap = GoalProgress(team_id=team_id, goal_id=goal_id, meeting_id=meeting_id)
        session.add(tap)
    tap.progress, tap.noted_at = progress, now
    goal.progress, goal.progress_at = progress, now
    status = status_after(progress, goal.status)
    if status != goal.status:
        goal.status = status
        goal.done_at = now if status == DONE else None
    session.flush()
    return goal


def progress_on(
    session: Session, *, team_id: str, goal_ids: Sequence[int], meeting_id: int
) -> dict[int, str]:
    """The taps already given on one poll, by goal: the poll shows them marked."""
    if not goal_ids:
        return {}
    return dict(
        session.execute(
            select(GoalProgress.goal_id, GoalProgress.progress).where(
                GoalProgress.team_id == team_id,
                GoalProgress.goal_id.in_(sorted(set(goal_ids))),
                GoalProgress.meeting_id == meeting_id,
            )
        ).all()
    )


def set_status(
    session: Session, *, team_id: str, goal_id: int, status: str, now: datetime
) -> PairGoal | None:
    """Mark a goal done or open again (from the goal card)."""
    if status not in (OPEN, DONE):
        raise ValueError(f"status must be open or done, not {status!r}")
    goal = get_goal(session, team_id=team_id, goal_id=goal_id)
    if goal is None:
        return None
    if goal.status != status:
        goal.status = status
        goal.done_at = now if status == DONE else None
        goal.updated_at = now
    return goal


def set_card(
    session: Session,
    *,
    team_id: str,
    pair_id: int,
    channel_id: str,
    ts: str,
    now: datetime,
    replacing: tuple[str, str] | None = None,
) -> bool:
    """Where the pair's goal card was posted, so later changes ``chat.update`` it.
    False, changing nothing, when the pair already has a card other than ``replacing``
    (the one the poster found, or None): another delivery posted one meanwhile."""
    row = _agreement_row(session, team_id=team_id, pair_id=pair_id, now=now, lock=True)
    current = (row.card_channel, row.card_ts) if row.card_channel and row.card_ts else None
    if current is not None and current != replacing:
        return False
    row.card_channel, row.card_ts = channel_id, ts
    session.flush()
    return True


def card_of(session: Session, *, team_id: str, pair_id: int) -> tuple[str, str] | None:
    row = agreement_of(session, team_id=team_id, pair_id=pair_id)
    if row is None or not row.card_channel or not row.card_ts:
        return None
    return row.card_channel, row.card_ts


def agreement_value(row: PairAgreement | None) -> Agreement:
    """The stored agreement as the domain's plain value (empty when none)."""
    if row is None:
        return Agreement()
    return Agreement(row.cadence, row.contact or "", row.confidential or "")


@dataclass(frozen=True)
class GoalCounts:
    """Counts only, never a word: what coordinators may learn of goals. Raw: the
    privacy rule (K pairs) is applied by ``bot.services.outcomes``."""

    pairs_with_goals: int
    goals_set: int
    goals_done: int
    pairs_with_done_goal: int


def goal_counts(
    session: Session,
    *,
    team_id: str,
    statuses: Sequence[str] = ("active", "ended"),
    exclude_user: str | None = None,
) -> GoalCounts:
    """Goals of the workspace's pairs (active and ended by default); ``exclude_user``
    leaves out the pairs that person is in (a coordinator viewing their own program)."""
    query = (
        select(PairGoal.pair_id, PairGoal.status, func.count())
        .join(Pair, Pair.id == PairGoal.pair_id)
        .where(PairGoal.team_id == team_id, Pair.team_id == team_id, Pair.status.in_(statuses))
        .group_by(PairGoal.pair_id, PairGoal.status)
    )
    if exclude_user is not None:
        query = query.where(Pair.mentor_id != exclude_user, Pair.mentee_id != exclude_user)
    pairs: set[int] = set()
    done_pairs: set[int] = set()
    goals_set = goals_done = 0
    for pair_id, status, count in session.execute(query):
        pairs.add(pair_id)
        goals_set += count
        if status == DONE:
            goals_done += count
            done_pairs.add(pair_id)
    return GoalCounts(len(pairs), goals_set, goals_done, len(done_pairs))


def forget_words(session: Session, *, team_id: str, pair_ids: Sequence[int]) -> tuple[int, list]:
    """``forget-me`` of a member of these pairs: the pair's goal and agreement words go
    (either member may have typed them); dates, statuses and taps stay as anonymous
    program figures. Returns how many rows lost words, and the goal cards
    ``(channel, ts)`` to delete in Slack (their place is forgotten too)."""
    if not pair_ids:
        return 0, []
    ids = sorted(set(pair_ids))
    goals = session.execute(
        update(PairGoal)
        .where(PairGoal.team_id == team_id, PairGoal.pair_id.in_(ids))
        .values(what="", why="")
        .execution_options(synchronize_session="fetch")
    ).rowcount
    cards = [
        (channel, ts)
        for channel, ts in session.execute(
            select(PairAgreement.card_channel, PairAgreement.card_ts).where(
                PairAgreement.team_id == team_id,
                PairAgreement.pair_id.in_(ids),
                PairAgreement.card_ts.is_not(None),
            )
        )
    ]
    agreements = session.execute(
        update(PairAgreement)
        .where(PairAgreement.team_id == team_id, PairAgreement.pair_id.in_(ids))
        .values(contact="", confidential="", card_channel=None, card_ts=None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    return goals + agreements, cards


def plans_data(session: Session, *, team_id: str, pair_ids: Sequence[int]) -> list[dict]:
    """What ``my-data`` shows of the person's pairs: their goals (the pair's own words,
    which either member may have typed) and agreement."""
    ids = sorted(set(pair_ids))
    goals = goals_of_pairs(session, team_id=team_id, pair_ids=ids)
    agreements = (
        {
            row.pair_id: row
            for row in session.scalars(
                select(PairAgreement).where(
                    PairAgreement.team_id == team_id, PairAgreement.pair_id.in_(ids)
                )
            )
        }
        if ids
        else {}
    )
    result = []
    for pair_id in ids:
        agreement = agreements.get(pair_id)
        if not goals[pair_id] and agreement is None:
            continue
        result.append(
            {
                "pair_id": pair_id,
                "goals": [
                    {
                        "what": g.what,
                        "why": g.why,
                        "by_when": g.by_when.isoformat(),
                        "status": g.status,
                        "progress": g.progress,
                    }
                    for g in goals[pair_id]
                ],
                "agreement": None
                if agreement is None
                else {
                    "cadence": agreement.cadence,
                    "contact": agreement.contact,
                    "confidential": agreement.confidential,
                },
            }
        )
    return result


def as_state(row: PairGoal) -> GoalState:
    return GoalState(
        id=row.id,
        position=row.position,
        what=row.what,
        why=row.why or "",
        by_when=row.by_when,
        status=row.status,
        progress=row.progress,
    )


def states_of(session: Session, *, team_id: str, pair_id: int) -> list[GoalState]:
    """The pair's goals as the builders take them."""
    return [as_state(row) for row in goals_of(session, team_id=team_id, pair_id=pair_id)]
