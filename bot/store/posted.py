"""The ledger of the bot's messages and files that ``forget-me`` must delete, where
the outbox row of the message cannot say it.

Slack gives an app no way to list its own messages in a DM without history
scopes, so what ``forget-me`` must delete later is written down when it is sent.
Every message now leaves through the outbox, and an outbox row keeps its own
``channel_id`` and ``message_ts``; the ledger holds what a row cannot, the file of
the my-data export, and that export's message (so that the next export lists
it among the messages kept), each also under everyone the export names
(``names_them``: their forget-me deletes it too). Entries of the other kinds were
written by earlier versions, for messages posted outside the outbox, and are
still read and deleted.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.store.models import PostedMessage

# Kinds, for reading the ledger (and the my-data export) only.
MY_DATA = "my_data"
MY_DATA_FILE = "my_data_file"
PREP_SHARED = "prep_shared"
GROUP_DM = "group_dm"
NAMES_THEM = "names_them"  # a notice in someone else's DM that names the person
DM = "dm"  # a message in the person's own DM with the bot
CALENDAR_FILE = "calendar_file"  # a meeting's .ics, shared in the pair's group DM


def keep(
    session: Session,
    *,
    team_id: str,
    kind: str,
    channel_id: str,
    ts: str | None = None,
    file_id: str | None = None,
    user_id: str | None = None,
    now: datetime,
) -> None:
    session.add(
        PostedMessage(
            team_id=team_id,
            user_id=user_id,
            kind=kind,
            channel_id=channel_id,
            ts=ts,
            file_id=file_id,
            posted_at=now,
        )
    )


def about(
    session: Session, *, team_id: str, user_id: str, channels: set[str]
) -> list[PostedMessage]:
    """Entries about ``user_id``, or posted in one of ``channels`` (their DM, their pairs'
    group DMs)."""
    conditions: list[Any] = [PostedMessage.user_id == user_id]
    if channels:
        conditions.append(PostedMessage.channel_id.in_(sorted(channels)))
    return list(
        session.scalars(
            select(PostedMessage)
            .where(PostedMessage.team_id == team_id, or_(*conditions))
            .order_by(PostedMessage.id)
        )
    )
