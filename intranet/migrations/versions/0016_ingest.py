"""meetings: server-observed entry, counted connection time and the ingest's token bucket

Revision ID: 0016_ingest
Revises: 0013_user_sessions
Create Date: 2026-11-30 00:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016_ingest"
down_revision = "0013_user_sessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("meetings_participant", schema=None) as batch_op:
        batch_op.add_column(sa.Column("entered_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("counted_until", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("ingest_allowance", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("ingest_checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("meetings_participant", schema=None) as batch_op:
        batch_op.drop_column("ingest_checked_at")
        batch_op.drop_column("ingest_allowance")
        batch_op.drop_column("counted_until")
        batch_op.drop_column("entered_at")
