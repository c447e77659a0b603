"""scheduling documents: the preview keeps its structure (paragraphs with list numbers, tables) as
JSON blocks instead of lines of plain text

Revision ID: a2c4c421be5f
Revises: scheduling_0001_closed_at
Create Date: 2026-11-30 04:01:24.222467

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "a2c4c421be5f"
down_revision = "scheduling_0001_closed_at"
branch_labels = None
depends_on = None

document = sa.table(
    "scheduling_document",
    sa.column("id", sa.Integer),
    sa.column("preview_text", sa.Text),
    sa.column("preview", sa.JSON),
)


def upgrade():
    with op.batch_alter_table("scheduling_document") as batch_op:
        batch_op.add_column(sa.Column("preview", sa.JSON(), nullable=False, server_default="[]"))
    connection = op.get_bind()
    # Previews stored before this revision were lines of text: each line is a paragraph.
    for ident, text in connection.execute(sa.select(document.c.id, document.c.preview_text)).all():
        lines = [line for line in (text or "").split("\n") if line.strip()]
        connection.execute(document.update().where(document.c.id == ident).values(preview=lines))
    with op.batch_alter_table("scheduling_document") as batch_op:
        batch_op.drop_column("preview_text")


def downgrade():
    with op.batch_alter_table("scheduling_document") as batch_op:
        batch_op.add_column(sa.Column("preview_text", sa.Text(), nullable=False, server_default=""))
    connection = op.get_bind()
    for ident, blocks in connection.execute(sa.select(document.c.id, document.c.preview)).all():
        connection.execute(
            document.update().where(document.c.id == ident).values(preview_text="\n".join(_lines(blocks or [])))
        )
    with op.batch_alter_table("scheduling_document") as batch_op:
        batch_op.drop_column("preview")


def _lines(blocks):
    """A paragraph is a line; a table row is a line of its cells."""
    for block in blocks:
        if isinstance(block, str):
            yield block
        else:
            yield from (" | ".join(" ".join(cell) for cell in row) for row in block["rows"])
