"""frozen outcome facts: each pair's outcome figures' inputs, fixed once shown

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-16 10:00:00.000000

* ``outcome_facts``: one row per pair and horizon (30, 90, 180 days after
  kickoff) with the numbers the outcome figures take from that pair, written the
  first time its kickoff month's figures at that horizon are shown, so later edits
  never move a figure coordinators have seen.
"""

import sqlalchemy as sa
from alembic import op

import bot.store.models  # noqa: F401 - UTCDateTime in column types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outcome_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("horizon", sa.Integer(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("frozen_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pair_id", "horizon"),
    )


def downgrade() -> None:
    op.drop_table("outcome_facts")
