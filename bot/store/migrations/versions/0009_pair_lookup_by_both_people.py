"""pair lookup by both people: the pairs indexes carry the partner too

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-20 10:00:00.000000

``/mentor start`` asks, before its ack, for the pairs of the inviter and the invitee
(``repo.between``). Indexed on (team, mentor) alone, that read walked every pair the
mentor ever had: a coordinator or a long-serving mentor with thousands of past pairs
made each invitation slower than the last. With the partner in the index it is one
seek whichever of the two is the mentor; the (team, person) prefix still serves
"this person's pairs".
"""

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_pairs_team_mentor", table_name="pairs")
    op.drop_index("ix_pairs_team_mentee", table_name="pairs")
    op.create_index(
        "ix_pairs_team_mentor_mentee", "pairs", ["team_id", "mentor_id", "mentee_id"]
    )
    op.create_index(
        "ix_pairs_team_mentee_mentor", "pairs", ["team_id", "mentee_id", "mentor_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_pairs_team_mentee_mentor", table_name="pairs")
    op.drop_index("ix_pairs_team_mentor_mentee", table_name="pairs")
    op.create_index("ix_pairs_team_mentee", "pairs", ["team_id", "mentee_id"])
    op.create_index("ix_pairs_team_mentor", "pairs", ["team_id", "mentor_id"])
