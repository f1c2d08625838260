"""frozen weekly insights: coordinators' figures as snapshots of closed weeks

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00.000000

* ``insight_weeks``: one row per workspace and closed week (Monday–Sunday UTC),
  written the first time a figure of that week is shown; its figures never change.
* ``insight_people``: each person's part in a frozen week, as yes/no per question,
  so that a coordinator's own answers can be left out of what they see.
"""

import sqlalchemy as sa
from alembic import op

import bot.store.models  # noqa: F401 - UTCDateTime in column types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_weeks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("frozen_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("tips_sent", sa.Integer(), nullable=False),
        sa.Column("new_pairs", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "week_start"),
    )
    op.create_table(
        "insight_people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("week_start", sa.Date(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("answered", sa.Boolean(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=True),
        sa.Column("useful", sa.Boolean(), nullable=True),
        sa.Column("prepared", sa.Boolean(), nullable=True),
        sa.Column("liked_tips", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id", "week_start", "user_id"),
    )


def downgrade() -> None:
    op.drop_table("insight_people")
    op.drop_table("insight_weeks")
