"""scheduling documents: one row per (session, kind, version); preview marked when cut

Revision ID: 0011_upload_versions
Revises: 0016_ingest
Create Date: 2026-11-30 01:00:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0011_upload_versions"
down_revision = "0016_ingest"
branch_labels = None
depends_on = None

document = sa.table(
    "scheduling_document",
    sa.column("id", sa.Integer()),
    sa.column("session_id", sa.Integer()),
    sa.column("kind", sa.String()),
    sa.column("version", sa.Integer()),
)


def upgrade():
    # Concurrent uploads could share a version number: number each (session, kind) again, in upload
    # order, so that the constraint below holds. A series without duplicates keeps its numbers.
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(document.c.id, document.c.session_id, document.c.kind, document.c.version).order_by(
            document.c.session_id, document.c.kind, document.c.version, document.c.id
        )
    ).all()
    numbers = {}
    for ident, session_id, kind, version in rows:
        number = numbers[(session_id, kind)] = numbers.get((session_id, kind), 0) + 1
        if number != version:
            bind.execute(document.update().where(document.c.id == ident).values(version=number))
    with op.batch_alter_table("scheduling_document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preview_cut", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.create_unique_constraint(
            batch_op.f("uq_scheduling_document_session_id"), ["session_id", "kind", "version"]
        )


def downgrade():
    with op.batch_alter_table("scheduling_document", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_scheduling_document_session_id"), type_="unique")
        batch_op.drop_column("preview_cut")
