"""evaluations: each office's rules for classifying its meetings (weights, lines, scale; NULL keeps
the defaults of classification.py)

Revision ID: 5411dbec3675
Revises: 38d01015cae0
Create Date: 2026-11-30 04:59:32.483237

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "5411dbec3675"
down_revision = "38d01015cae0"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("evaluations_office_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("classification", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("evaluations_office_settings", schema=None) as batch_op:
        batch_op.drop_column("classification")
