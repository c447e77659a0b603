"""evaluations: the place and number suffix of documents moved to the core's office (its revision
f1bd24511c84 copied them there first)

Revision ID: 38d01015cae0
Revises:
Create Date: 2026-11-30 03:53:05.819041

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "38d01015cae0"
down_revision = None
branch_labels = ("evaluations",)
depends_on = "f1bd24511c84"


def upgrade():
    with op.batch_alter_table("evaluations_office_settings", schema=None) as batch_op:
        batch_op.drop_column("resolution_suffix")
        batch_op.drop_column("place_name")


def downgrade():
    with op.batch_alter_table("evaluations_office_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("place_name", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("resolution_suffix", sa.String(length=20), nullable=False, server_default="NQ/CB")
        )
    op.execute("""
        UPDATE evaluations_office_settings SET
          place_name = (SELECT o.document_place FROM office o WHERE o.id = evaluations_office_settings.office_id),
          resolution_suffix = 'NQ/' || (SELECT o.document_number_suffix FROM office o
                                        WHERE o.id = evaluations_office_settings.office_id)
    """)
