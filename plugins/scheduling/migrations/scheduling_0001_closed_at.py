"""scheduling: when a meeting was actually closed (the minutes state it; the plan's start + duration is
not when it ended). Meetings closed before this revision keep no time: the minutes leave it blank.

Revision ID: scheduling_0001_closed_at
Revises:
Create Date: 2026-11-30 04:14:03

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "scheduling_0001_closed_at"
down_revision = None
branch_labels = ("scheduling",)
depends_on = "0015_anon"


def upgrade():
    with op.batch_alter_table("scheduling_session", schema=None) as batch_op:
        batch_op.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("scheduling_session", schema=None) as batch_op:
        batch_op.drop_column("closed_at")
