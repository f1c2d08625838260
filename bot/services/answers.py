"""What a person sees change where they acted, written as outbox rows like any message:
their App Home refreshed after a change, and a Cancel button's question taken away.

No Slack here, and ``now`` is a parameter: the sender publishes the Home (built from
the database as it is then) and makes the ``response_url`` call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from bot import outgoing
from bot.services.coaching import resume_if_paused
from bot.store import outbox

T = TypeVar("T")

NOTHING_CHANGED = "Okay, I left everything as it was."


@dataclass(frozen=True)
class Home:
    """Whose Home to refresh; ``listed``: in ``MENTOR_ADMINS`` (Slack tells the rest)."""

    team_id: str
    user_id: str
    listed: bool = False


def refresh_home(session: Session, home: Home, *, now: datetime) -> None:
    """Plan the person's Home to be published again (one waiting refresh per person)."""
    outbox.plan(
        session,
        [
            outgoing.home_refresh(
                team_id=home.team_id, user_id=home.user_id, listed=home.listed, now=now
            )
        ],
        now=now,
    )


def home_opened(session: Session, home: Home, *, now: datetime) -> None:
    """They opened their Home: anything held back because Slack refused them earlier
    resumes (they are talking to us), and the Home is published as it is now."""
    resume_if_paused(session, team_id=home.team_id, user_id=home.user_id, now=now)
    refresh_home(session, home, now=now)


def and_refresh_home(
    session: Session,
    work: Callable[..., T],
    /,
    *,
    home: Home | None,
    now: datetime,
    **kwargs: Any,
) -> T:
    """``work`` (a use case) and, in the same transaction, a refresh of the Home of the
    person who acted there (``home``; None: they acted elsewhere), so it shows what
    they just changed."""
    result = work(session, now=now, **kwargs)
    if home is not None:
        refresh_home(session, home, now=now)
    return result


def never_mind(
    session: Session, *, team_id: str, user_id: str, response_url: str | None, now: datetime
) -> None:
    """A Cancel button: its ephemeral question goes away (``delete_original`` on its
    response_url); pressed where there is no response_url, they are told nothing changed."""
    if response_url:
        row = outgoing.respond(
            team_id=team_id,
            user_id=user_id,
            response_url=response_url,
            now=now,
            delete_original=True,
        )
    else:
        row = outgoing.notice(team_id=team_id, user_id=user_id, text=NOTHING_CHANGED, now=now)
    outbox.plan(session, [row], now=now)
