"""tips received: each person's daily tips, per practice, as actually sent

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 10:00:00.000000

* ``tips_received``: one row per person and practice they were sent as a daily tip
  (the turn of their rotation it was last sent in, how often, when, and whether
  their latest vote on it was 👎). The next tip is chosen from it when it is sent.

Filled from the tips already sent (the outbox keeps them), all counted in the
current turn of each person's rotation, so nobody starts their list over; a 👎
is each person's latest vote on that practice.
"""

import sqlalchemy as sa
from alembic import op

import bot.store.models  # noqa: F401 - UTCDateTime in column types

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tips_received",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("practice_id", sa.String(length=64), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("times", sa.Integer(), nullable=False),
        sa.Column("last_sent_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("disliked", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "user_id", "practice_id"),
    )
    _fill_from_sent_tips()


def _fill_from_sent_tips() -> None:
    received = sa.table(
        "tips_received",
        sa.column("team_id", sa.String),
        sa.column("user_id", sa.String),
        sa.column("practice_id", sa.String),
        sa.column("cycle", sa.Integer),
        sa.column("times", sa.Integer),
        sa.column("last_sent_at", sa.DateTime),
        sa.column("disliked", sa.Boolean),
    )
    outbox = sa.table(
        "scheduled_messages",
        sa.column("team_id", sa.String),
        sa.column("recipient", sa.String),
        sa.column("kind", sa.String),
        sa.column("status", sa.String),
        sa.column("payload", sa.JSON),
        sa.column("sent_at", sa.DateTime),
    )
    votes = sa.table(
        "tip_votes",
        sa.column("id", sa.Integer),
        sa.column("team_id", sa.String),
        sa.column("user_id", sa.String),
        sa.column("tip_id", sa.String),
        sa.column("vote", sa.Integer),
        sa.column("voted_at", sa.DateTime),
    )
    # A subquery, so that GROUP BY names a column rather than repeating the JSON path.
    sent = (
        sa.select(
            outbox.c.team_id,
            outbox.c.recipient.label("user_id"),
            outbox.c.payload["tip_id"].as_string().label("practice_id"),
            outbox.c.sent_at,
        )
        .where(
            outbox.c.kind == "tip", outbox.c.status == "sent", outbox.c.sent_at.is_not(None)
        )
        .subquery()
    )
    op.get_bind().execute(
        received.insert().from_select(
            ["team_id", "user_id", "practice_id", "cycle", "times", "last_sent_at", "disliked"],
            sa.select(
                sent.c.team_id,
                sent.c.user_id,
                sent.c.practice_id,
                sa.literal(0),
                sa.func.count(),
                sa.func.max(sent.c.sent_at),
                sa.false(),
            )
            .where(sent.c.practice_id.is_not(None))
            .group_by(sent.c.team_id, sent.c.user_id, sent.c.practice_id),
        )
    )
    latest_vote = (
        sa.select(votes.c.vote)
        .where(
            votes.c.team_id == received.c.team_id,
            votes.c.user_id == received.c.user_id,
            votes.c.tip_id == received.c.practice_id,
        )
        .order_by(votes.c.voted_at.desc(), votes.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    op.get_bind().execute(received.update().where(latest_vote == -1).values(disliked=sa.true()))


def downgrade() -> None:
    op.drop_table("tips_received")
