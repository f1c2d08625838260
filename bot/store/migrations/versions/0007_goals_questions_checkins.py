"""coaching that adapts: goals and agreement, parked questions, match check-ins

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 10:00:00.000000

* ``pair_goals``: up to three goals per pair (what, why, by when, open/done, the
  latest progress tap); ``goal_progress``: each tap, per feedback poll.
* ``pair_agreements``: how often a pair meets, how they reach each other between
  meetings, what stays confidential, and where the goal card is (for chat.update).
* ``parked_questions``: questions parked for the next meeting (``/mentor ask``).
* ``match_checkins``: each member's private answer to the 30-day match check-in.
* ``meetings.calendar_sequence``: the .ics SEQUENCE, raised on every move or
  cancellation (0 for the meetings already set).
"""

import sqlalchemy as sa
from alembic import op

import bot.store.models  # noqa: F401 - UTCDateTime in column types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UTC_DATETIME = bot.store.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column(
        "meetings",
        sa.Column("calendar_sequence", sa.Integer(), server_default="0", nullable=False),
    )
    op.create_table(
        "pair_goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("what", sa.String(length=150), nullable=False),
        sa.Column("why", sa.Text(), nullable=False),
        sa.Column("by_when", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("progress", sa.String(length=16), nullable=True),
        sa.Column("progress_at", UTC_DATETIME, nullable=True),
        sa.Column("done_at", UTC_DATETIME, nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pair_id", "position"),
    )
    op.create_index("ix_pair_goals_team", "pair_goals", ["team_id", "pair_id"])
    op.create_table(
        "goal_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=True),
        sa.Column("progress", sa.String(length=16), nullable=False),
        sa.Column("noted_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["goal_id"], ["pair_goals.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["meeting_id"], ["meetings.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_goal_progress_goal", "goal_progress", ["goal_id", "meeting_id"])
    op.create_table(
        "pair_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("cadence", sa.String(length=16), nullable=True),
        sa.Column("contact", sa.Text(), nullable=False),
        sa.Column("confidential", sa.Text(), nullable=False),
        sa.Column("card_channel", sa.String(length=32), nullable=True),
        sa.Column("card_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pair_id"),
    )
    op.create_index("ix_pair_agreements_team", "pair_agreements", ["team_id"])
    op.create_table(
        "parked_questions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("asked_by", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_parked_questions_pair", "parked_questions", ["team_id", "pair_id"])
    op.create_table(
        "match_checkins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("not_working", sa.Boolean(), nullable=False),
        sa.Column("exit_choice", sa.String(length=16), nullable=True),
        sa.Column("answered_at", UTC_DATETIME, nullable=False),
        sa.ForeignKeyConstraint(["pair_id"], ["pairs.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pair_id", "user_id"),
    )
    op.create_index("ix_match_checkins_team", "match_checkins", ["team_id"])


def downgrade() -> None:
    op.drop_index("ix_match_checkins_team", table_name="match_checkins")
    op.drop_table("match_checkins")
    op.drop_index("ix_parked_questions_pair", table_name="parked_questions")
    op.drop_table("parked_questions")
    op.drop_index("ix_pair_agreements_team", table_name="pair_agreements")
    op.drop_table("pair_agreements")
    op.drop_index("ix_goal_progress_goal", table_name="goal_progress")
    op.drop_table("goal_progress")
    op.drop_index("ix_pair_goals_team", table_name="pair_goals")
    op.drop_table("pair_goals")
    with op.batch_alter_table("meetings") as batch:
        batch.drop_column("calendar_sequence")
