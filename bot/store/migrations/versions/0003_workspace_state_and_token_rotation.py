"""workspace state and token rotation

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 10:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

import bot.store.models  # noqa: F401 - UTCDateTime in column types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workspaces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=True),
        sa.Column("dead_token", sa.String(length=64), nullable=True),
        sa.Column("since", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("team_id"),
    )
    with op.batch_alter_table("installations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bot_refresh_token", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column(
                "bot_token_expires_at",
                bot.store.models.UTCDateTime(timezone=True),
                nullable=True,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("installations", schema=None) as batch_op:
        batch_op.drop_column("bot_token_expires_at")
        batch_op.drop_column("bot_refresh_token")
    op.drop_table("workspaces")
