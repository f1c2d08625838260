"""The database schema. Every row carries the Slack workspace (``team_id``) it belongs to.

Times are stored as timezone-aware UTC; SQLite keeps them as naive text, so the
``UTCDateTime`` type restores the zone on the way out.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
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
    # Encrypted at rest when MENTOR_ENCRYPTION_KEY is set (bot.store.crypto): Text,
    # as a sealed rotating token outgrows 255 characters.
    bot_token: Mapped[str] = mapped_column(Text)
    bot_user_id: Mapped[str] = mapped_column(String(32))
    bot_id: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    installed_at: Mapped[datetime]
    # Token rotation on: the bot token expires, and this refreshes it (Bolt's and
    # slack_sdk's token rotators use both). NULL when the token never expires.
    bot_refresh_token: Mapped[str | None] = mapped_column(Text)
    bot_token_expires_at: Mapped[datetime | None]


class Workspace(Base):
    """One workspace's standing with Slack: may the app still send there?

    No row means active. ``paused``: Slack refused the workspace's bot token
    (``invalid_auth``, ``token_revoked``, ``account_inactive``, ``not_authed``) or
    there is no installation; ``uninstalled``: Slack said so (``app_uninstalled``,
    ``tokens_revoked``), and the workspace's data is deleted once
    ``MENTOR_UNINSTALL_RETENTION_DAYS`` have passed since ``since``. Either way its
    scheduled messages are held until a reinstall (or a new token) resumes it.
    """

    __tablename__ = "workspaces"

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(16))  # active | paused | uninstalled
    reason: Mapped[str | None] = mapped_column(String(64))
    # A fingerprint of the token Slack refused: a different token may be tried again.
    dead_token: Mapped[str | None] = mapped_column(String(64))
    since: Mapped[datetime]


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
        # With the partner: one seek for "the pairs of these two" (repo.between), and
        # the (team, person) prefix for "this person's pairs".
        Index("ix_pairs_team_mentor_mentee", "team_id", "mentor_id", "mentee_id"),
        Index("ix_pairs_team_mentee_mentor", "team_id", "mentee_id", "mentor_id"),
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
        return partner_in(self.mentor_id, self.mentee_id, user_id)


def partner_in(mentor_id: str, mentee_id: str, user_id: str) -> str:
    """The other member of the pair (mentor, mentee) than ``user_id``: for statements
    that read a pair's columns without loading the pair."""
    return mentee_id if user_id == mentor_id else mentor_id


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
    # The .ics SEQUENCE (RFC 5545 §3.8.7.4): raised on every move or cancellation, so a
    # calendar that imported the meeting replaces its copy (bot.domain.calendar).
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
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


class TipReceived(Base):
    """One practice a person has actually been sent as a daily tip: written in the same
    transaction that marks the tip sent, and read when their next tip is chosen.

    ``cycle`` is the turn of their rotation in which it was last sent (see
    ``bot.domain.tips``); ``disliked`` is their latest vote on it (👎).
    """

    __tablename__ = "tips_received"
    __table_args__ = (UniqueConstraint("team_id", "user_id", "practice_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str] = mapped_column(String(32))
    practice_id: Mapped[str] = mapped_column(String(64))
    cycle: Mapped[int] = mapped_column(Integer, default=0)
    times: Mapped[int] = mapped_column(Integer, default=0)
    last_sent_at: Mapped[datetime]
    disliked: Mapped[bool] = mapped_column(default=False)


class InsightWeek(Base):
    """One closed week (Monday–Sunday UTC) of a workspace's program figures, frozen
    the first time any figure of it is shown: later answers never change it."""

    __tablename__ = "insight_weeks"
    __table_args__ = (UniqueConstraint("team_id", "week_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    week_start: Mapped[date]  # a Monday
    frozen_at: Mapped[datetime]
    tips_sent: Mapped[int] = mapped_column(Integer, default=0)
    new_pairs: Mapped[int] = mapped_column(Integer, default=0)


class OutcomeFact(Base):
    """One pair's outcome facts at one horizon (30, 90 or 180 days after kickoff),
    frozen the first time its kickoff month's figures at that horizon are shown:
    a later edit (a note that rewrites an answer's time, a goal removed, progress
    reset) never moves a figure coordinators have seen. Numbers only, keyed by pair:
    no person, no word (``bot.services.outcomes``)."""

    __tablename__ = "outcome_facts"
    __table_args__ = (UniqueConstraint("pair_id", "horizon"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    horizon: Mapped[int] = mapped_column(Integer)
    facts: Mapped[dict[str, Any]]
    frozen_at: Mapped[datetime]


class InsightPerson(Base):
    """One person's part in one frozen week: a yes/no per question, never a rating or a
    word. Kept per person so that a coordinator's own part can be left out of what
    they see, and so that people are counted once however many answers they gave.
    NULL: not asked, or no answer, that week. ``forget-me`` anonymises ``user_id``."""

    __tablename__ = "insight_people"
    __table_args__ = (UniqueConstraint("team_id", "week_start", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    week_start: Mapped[date]
    user_id: Mapped[str] = mapped_column(String(32))
    answered: Mapped[bool] = mapped_column(default=False)  # any poll answer that week
    met: Mapped[bool | None]  # said a meeting happened (False: only "no"/"rescheduled")
    useful: Mapped[bool | None]  # their ratings that week averaged 4 or more
    prepared: Mapped[bool | None]  # a mentee prompted that week who sent their prep
    liked_tips: Mapped[bool | None]  # at least as many 👍 as 👎 that week


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
    # pending | sending | sent | failed | cancelled | paused (the person) | held (the workspace)
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


class PostedMessage(Base):
    """A message (or file) the bot posted outside the outbox that carries someone's words
    or data, or names them; kept so that ``forget-me`` can delete it from Slack.

    ``user_id`` is the person it is about (their DM, their words quoted to a partner);
    NULL for a pair's group DM, which is found through the pair's ``channel_id``.
    """

    __tablename__ = "posted_messages"
    __table_args__ = (
        Index("ix_posted_team_user", "team_id", "user_id"),
        Index("ix_posted_team_channel", "team_id", "channel_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    file_id: Mapped[str | None] = mapped_column(String(32))
    posted_at: Mapped[datetime]


class PairGoal(Base):
    """One of a pair's own goals (at most three, ``position`` 1–3): what, why, by when.

    The words are the pair's: shown escaped, never to coordinators (they see counts
    only). ``progress`` is the mentee's latest tap (``goal_progress`` keeps each one);
    a "done" tap, or marking it done, sets ``status``.
    """

    __tablename__ = "pair_goals"
    __table_args__ = (
        UniqueConstraint("pair_id", "position"),
        Index("ix_pair_goals_team", "team_id", "pair_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(String(150))
    why: Mapped[str] = mapped_column(Text, default="")
    by_when: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done
    progress: Mapped[str | None] = mapped_column(String(16))  # not_started | some | done
    progress_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GoalProgress(Base):
    """One progress tap on a goal (not started / some progress / done), from the poll
    of ``meeting_id``; tapping again on the same poll changes it."""

    __tablename__ = "goal_progress"
    __table_args__ = (Index("ix_goal_progress_goal", "goal_id", "meeting_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    goal_id: Mapped[int] = mapped_column(ForeignKey("pair_goals.id", ondelete="CASCADE"))
    meeting_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL")
    )
    progress: Mapped[str] = mapped_column(String(16))
    noted_at: Mapped[datetime]


class PairAgreement(Base):
    """What a pair agreed on: how often they meet, how they reach each other between
    meetings, what stays confidential; and where the goal card is (for chat.update)."""

    __tablename__ = "pair_agreements"
    __table_args__ = (UniqueConstraint("pair_id"), Index("ix_pair_agreements_team", "team_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    cadence: Mapped[str | None] = mapped_column(String(16))  # weekly | fortnightly | monthly
    contact: Mapped[str] = mapped_column(Text, default="")
    confidential: Mapped[str] = mapped_column(Text, default="")
    card_channel: Mapped[str | None] = mapped_column(String(32))
    card_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ParkedQuestion(Base):
    """A question either member parked for the next meeting (``/mentor ask``); the next
    prep prompt lists it, and it is deleted once a meeting after it has been held."""

    __tablename__ = "parked_questions"
    __table_args__ = (Index("ix_parked_questions_pair", "team_id", "pair_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    asked_by: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime]


class MatchCheckin(Base):
    """One member's private answer to the 30-day match check-in: a 1–5 score, or "this
    isn't working for me" and what they chose then. Never shown to the partner."""

    __tablename__ = "match_checkins"
    __table_args__ = (
        UniqueConstraint("pair_id", "user_id"),
        Index("ix_match_checkins_team", "team_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    team_id: Mapped[str] = mapped_column(String(32))
    pair_id: Mapped[int] = mapped_column(ForeignKey("pairs.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(String(32))
    score: Mapped[int | None]
    not_working: Mapped[bool] = mapped_column(default=False)
    exit_choice: Mapped[str | None] = mapped_column(String(16))  # rematch | end | stay
    answered_at: Mapped[datetime]
