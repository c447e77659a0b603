"""core: the user's notice stamp, changed with each change of their notifications, so that every process
may keep the bell's unread count until it changes (intranet.notifications.unread_count)

Revision ID: 6c621d944d73
Revises: b912f3cb72af
Create Date: 2026-11-30 06:49:42.409065

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "6c621d944d73"
down_revision = "b912f3cb72af"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notice_stamp", sa.String(length=16), nullable=False, server_default=""))
    # A random stamp for each existing user, as new users get at creation.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE user_account SET notice_stamp = substr(md5(random()::text || id::text), 1, 16)")
    else:
        op.execute("UPDATE user_account SET notice_stamp = lower(hex(randomblob(8)))")


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("notice_stamp")
