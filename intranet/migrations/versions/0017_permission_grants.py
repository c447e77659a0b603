"""permission grants per office: a row only where an office changed a plugin's declared default

Revision ID: 0017_permission_grants
Revises: 0015_anon
Create Date: 2026-11-30 03:53:20.766679

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0017_permission_grants"
down_revision = "0015_anon"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "permission_grant",
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("permission", sa.String(length=64), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "secretary",
                "deputy",
                "committee",
                "member",
                "guest",
                name="role",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_permission_grant_office_id_office"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_permission_grant_updated_by_id_user_account"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("office_id", "permission", "role", name=op.f("pk_permission_grant")),
    )


def downgrade():
    op.drop_table("permission_grant")
