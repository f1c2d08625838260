"""Planning daily tips for everyone whose next tip is due to be planned: the rules.

Who is due, their roles and the writes are ``bot.store.tip_planning``'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from bot.content import Content
from bot.domain.tips import LATE_GRACE, next_tip_due, spread_offset, tip_list_role
from bot.store import outbox, tip_planning
from bot.store.outbox import PlannedMessage

BATCH = tip_planning.BATCH


def plan_tips(
    session: Session, *, content: Content, now: datetime, limit: int = BATCH
) -> tuple[int, int]:
    """Plan the next tip of each person whose last planned tip is now due.

    Returns (people looked at, rows planned).
    """
    people = tip_planning.people_due(session, now=now, limit=limit)
    if not people:
        return 0, 0
    roles = tip_planning.active_roles(session, people)
    settings = content.settings
    default_minute = settings.tip_time.hour * 60 + settings.tip_time.minute
    planned: list[PlannedMessage] = []
    changes: list[dict[str, Any]] = []
    for person in people:
        person_roles = roles.get((person.team_id, person.user_id))
        if not person_roles or not person.tips_enabled or person.blocked_at is not None:
            changes.append(_change(person, planned_until=None, sent=person.tips_sent))
            continue
        due, local_day = next_tip_due(
            tz=person.tz,
            minute_of_day=person.tip_minute if person.tip_minute is not None else default_minute,
            working_days=settings.tip_days,
            after=max(person.tips_planned_until, now - LATE_GRACE),
        )
        if person.paused_until is not None and due < person.paused_until:
            # Paused: skip this day (nothing is planned, so nothing to drop later).
            changes.append(_change(person, planned_until=due, sent=person.tips_sent))
            continue
        if settings.tip_spread:
            due += spread_offset(person.tip_seed, settings.tip_spread)
        # No practice yet: it is chosen when the tip is sent (bot.scheduling.tipchoice),
        # from what the person has received by then.
        planned.append(
            PlannedMessage(
                team_id=person.team_id,
                key=f"tip:{person.team_id}:{person.user_id}:{local_day.isoformat()}",
                kind="tip",
                recipient=person.user_id,
                due_at=due,
                payload={
                    "role": tip_list_role(person_roles),
                    "local_day": local_day.isoformat(),
                    "seed": person.tip_seed,
                },
            )
        )
        changes.append(_change(person, planned_until=due, sent=person.tips_sent + 1))
    tip_planning.set_planned(session, changes)
    return len(people), outbox.plan(session, planned, now=now)


def _change(person: Row[Any], *, planned_until: datetime | None, sent: int) -> dict[str, Any]:
    return {"id": person.id, "tips_planned_until": planned_until, "tips_sent": sent}
