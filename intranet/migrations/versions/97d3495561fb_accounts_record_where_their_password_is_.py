"""core: every account records where its password is checked (local, or a directory through an
authentication plugin); existing accounts are local

Revision ID: 97d3495561fb
Revises: 6c621d944d73
Create Date: 2026-11-30 06:34:38.477385

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "97d3495561fb"
down_revision = "6c621d944d73"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "auth_source",
                sa.Enum("local", "directory", name="authsource", native_enum=False, length=16),
                server_default="local",
                nullable=False,
            )
        )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("auth_source")
