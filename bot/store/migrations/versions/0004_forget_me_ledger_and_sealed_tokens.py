"""forget-me ledger, sealed tokens

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 10:00:00.000000

* ``posted_messages``: the bot's messages that carry someone's words or name
  them (channel + ts, or a file id), so ``forget-me`` can delete them in Slack.
* ``installations.bot_token`` / ``bot_refresh_token`` become TEXT: encrypted at
  rest (MENTOR_ENCRYPTION_KEY), a rotating token is longer than 255 characters.
"""

import sqlalchemy as sa
from alembic import op

import bot.store.models  # noqa: F401 - UTCDateTime in column types

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "posted_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("team_id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=False),
        sa.Column("ts", sa.String(length=32), nullable=True),
        sa.Column("file_id", sa.String(length=32), nullable=True),
        sa.Column("posted_at", bot.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_posted_team_user", "posted_messages", ["team_id", "user_id"])
    op.create_index("ix_posted_team_channel", "posted_messages", ["team_id", "channel_id"])
    with op.batch_alter_table("installations") as batch:
        batch.alter_column(
            "bot_token",
            existing_type=sa.String(length=255),
            type_=sa.Text(),
            existing_nullable=False,
        )
        batch.alter_column(
            "bot_refresh_token",
            existing_type=sa.String(length=255),
            type_=sa.Text(),
            existing_nullable=True,
        )


def downgrade() -> None:
    with op.batch_alter_table("installations") as batch:
        batch.alter_column(
            "bot_refresh_token",
            existing_type=sa.Text(),
            type_=sa.String(length=255),
            existing_nullable=True,
        )
        batch.alter_column(
            "bot_token",
            existing_type=sa.Text(),
            type_=sa.String(length=255),
            existing_nullable=False,
        )
    op.drop_index("ix_posted_team_channel", table_name="posted_messages")
    op.drop_index("ix_posted_team_user", table_name="posted_messages")
    op.drop_table("posted_messages")
