"""core: the office's document layout (place, number suffix, recipients), moved from the evaluations
plugin's settings so that every plugin's documents share it

Revision ID: f1bd24511c84
Revises: 0017_permission_grants
Create Date: 2026-11-30 03:52:47.988685

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "f1bd24511c84"
down_revision = "0017_permission_grants"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_place", sa.String(length=100), nullable=False, server_default=""))
        batch_op.add_column(
            sa.Column("document_number_suffix", sa.String(length=20), nullable=False, server_default="CB")
        )
        batch_op.add_column(sa.Column("document_recipients", sa.Text(), nullable=False, server_default=""))
    # What the secretary had set in the evaluations plugin; its suffix "NQ/CB" becomes the issuer's "CB"
    # (the kind, "NQ", now comes with each document). The plugin's branch drops the old columns.
    op.execute("""
        UPDATE office SET
          document_place = (SELECT s.place_name FROM evaluations_office_settings s WHERE s.office_id = office.id),
          document_number_suffix = (SELECT CASE WHEN s.resolution_suffix LIKE 'NQ/%' THEN substr(s.resolution_suffix, 4)
                                                ELSE s.resolution_suffix END
                                    FROM evaluations_office_settings s WHERE s.office_id = office.id)
        WHERE EXISTS (SELECT 1 FROM evaluations_office_settings s WHERE s.office_id = office.id
                      AND s.resolution_suffix <> '')
    """)


def downgrade():
    with op.batch_alter_table("office", schema=None) as batch_op:
        batch_op.drop_column("document_recipients")
        batch_op.drop_column("document_number_suffix")
        batch_op.drop_column("document_place")
