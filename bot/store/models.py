"""The database schema. Every row carries the Slack workspace (``team_id``) it belongs to.

Times are stored as timezone-aware UTC; SQLite keeps them as naive text, so the
``UTCDateTime`` type restores the zone on the way out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime stored; pass an aware UTC datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class Installation(Base):
    """A workspace that installed the app through OAuth (multi-workspace mode)."""

    __tablename__ = "installations"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    enterprise_id: Mapped[str | None] = mapped_column(String(32))
    bot_token: Mapped[str] = mapped_column(String(255))
    bot_user_id: Mapped[str] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    installed_at: Mapped[datetime]


class Person(Base):
    """What the bot knows about one Slack user: time zone and tip preferences."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    tz: Mapped[str] = mapped_column(String(64), default="UTC")
    tz_checked_at: Mapped[datetime | None]
    tips_enabled: Mapped[bool] = mapped_column(default=True)
    tip_minute: Mapped[int | None]  # minutes after local midnight; None = program default
    tips_sent: Mapped[int] = mapped_column(Integer, default=0)
    tip_seed: Mapped[int] = mapped_column(Integer, default=0)
    blocked_at: Mapped[datetime | None]  # Slack refused DMs to this person; paused
    blocked_reason: Mapped[str | None] = mapped_column(String(64))
    # `/mentor pause 2w`: no tips and no matching until then.
    paused_until: Mapped[datetime | None]
    # Due time of the newest planned tip; the pass plans the next one once this
    # has passed. NULL means the person gets no tips (no active pair, or off).
    tips_planned_until: Mapped[datetime | None] = mapped_column(index=True)


class Pair(Base):
    __tablename__ = "pairs"
    __table_args__ = (
        Index("ix_pairs_team_mentor", "team_id", "mentor_id"),
        Index("ix_pairs_team_mentee", "team_id", "mentee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    mentor_id: Mapped[str] = mapped_column(String(32))
    mentee_id: Mapped[str] = mapped_column(String(32))
    inviter_id: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # invited | active | declined | ended
    channel_id: Mapped[str | None] = mapped_column(String(32))
    invite_channel_id: Mapped[str | None] = mapped_column(String(32))
    invite_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(32))

    meetings: Mapped[list[Meeting]] = relationship(
        back_populates="pair", order_by="Meeting.starts_at", cascade="all, delete-orphan"
    )

    @property
    def members(self) -> tuple[str, str]:
        return (self.mentor_id, self.mentee_id)

    def role_of(self, user_id: str) -> str:
        return "mentor" if user_id == self.mentor_id else "mentee"

    def partner_of(self, user_id: str) -> str:
        return self.mentee_id if user_id == self.mentor_id else self.mentor_id


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (Index("ix_meetings_team_starts", "team_id", "starts_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    minutes: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | cancelled
    number: Mapped[int]  # 1 for the pair's first meeting, counting only meetings ever scheduled
    created_at: Mapped[datetime]

    pair: Mapped[Pair] = relationship(back_populates="meetings")


class PrepAnswer(Base):
    __tablename__ = "prep_answers"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    focus: Mapped[str] = mapped_column(Text)
    questions: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime]


class Feedback(Base):
    """One person's answer to a meeting poll (or the closing poll, with no meeting)."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("pair_id", "meeting_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    happened: Mapped[str | None] = mapped_column(String(16))  # yes | rescheduled | no
    usefulness: Mapped[int | None]
    helped: Mapped[str | None] = mapped_column(Text)
    change: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class TipVote(Base):
    __tablename__ = "tip_votes"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "outbox_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    tip_id: Mapped[str] = mapped_column(String(64))
    outbox_id: Mapped[int]
    vote: Mapped[int]  # +1 or -1
    voted_at: Mapped[datetime]


class ScheduledMessage(Base):
    """A durable outbox row: one message that must reach Slack exactly when due, once.

    ``key`` is unique, so planning the same message twice creates nothing twice.
    """

    __tablename__ = "scheduled_messages"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_scheduled_due", "status", "due_at"),
        Index("ix_scheduled_pair", "pair_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    recipient: Mapped[str] = mapped_column(String(32))  # a user ID (DM) or a channel ID
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # pending | sending | sent | failed | cancelled | paused
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    channel_id: Mapped[str | None] = mapped_column(String(32))
    message_ts: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]


class ProcessedEvent(Base):
    """Event IDs already handled, so a redelivered event has no second effect."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("team_id", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(index=True)


class PoolMember(Base):
    """Someone who signed up to be matched: role, topics, goals, capacity, working hours."""

    __tablename__ = "pool_members"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    roles: Mapped[str] = mapped_column(String(16))  # mentor | mentee | both
    topics: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"ids": [...]}
    goals: Mapped[str] = mapped_column(Text, default="")
    capacity: Mapped[int] = mapped_column(Integer, default=1)
    work_start: Mapped[int] = mapped_column(Integer, default=540)  # minutes after local midnight
    work_end: Mapped[int] = mapped_column(Integer, default=1020)
    paused_until: Mapped[datetime | None]
    joined_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MatchExclusion(Base):
    """A coordinator's rule: these two are never to be matched."""

    __tablename__ = "match_exclusions"
    __table_args__ = (UniqueConstraint("team_id", "user_a", "user_b"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_a: Mapped[str] = mapped_column(String(32))
    user_b: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class MatchProposal(Base):
    """A computed matching awaiting a coordinator's approval."""

    __tablename__ = "match_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), index=True)
    created_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | approved | discarded
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
