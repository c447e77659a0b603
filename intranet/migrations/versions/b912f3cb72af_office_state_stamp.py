"""core: the office's state stamp, changed with each plugin switch or permission grant, so that every
process may keep what it read of them until it changes (intranet.office_state)

Revision ID: b912f3cb72af
Revises: f1bd24511c84
Create Date: 2026-11-30 05:11:18.118484

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "b912f3cb72af"
down_revision = "f1bd24511c84"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.add_column(sa.Column("state_stamp", sa.String(length=16), nullable=False, server_default=""))
    # A random stamp for each existing office, as new offices get at creation.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE office SET state_stamp = substr(md5(random()::text || id::text), 1, 16)")
    else:
        op.execute("UPDATE office SET state_stamp = lower(hex(randomblob(8)))")


def downgrade():
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.drop_column("state_stamp")
