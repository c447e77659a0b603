"""evaluations: votes' final counts (evaluations_vote, totals only), and a document's vote_id so that a
meeting keeps one tally report per secret ballot (0 for the minutes and the resolution)

Revision ID: 6c9e08224331
Revises: 5411dbec3675
Create Date: 2026-11-30 06:33:59.632627

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "6c9e08224331"
down_revision = "5411dbec3675"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "evaluations_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("vote_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("secret", sa.Boolean(), nullable=False),
        sa.Column("base", sa.Integer(), nullable=False),
        sa.Column("base_label", sa.String(length=200), nullable=False),
        sa.Column("eligible_present", sa.Integer(), nullable=False),
        sa.Column("voted", sa.Integer(), nullable=False),
        sa.Column("voted_on_paper", sa.Integer(), nullable=False),
        sa.Column("in_favour", sa.Integer(), nullable=False),
        sa.Column("against", sa.Integer(), nullable=False),
        sa.Column("other", sa.Integer(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("counting_committee", sa.JSON(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"], ["office.id"], name=op.f("fk_evaluations_vote_office_id_office"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["scheduling_session.id"],
            name=op.f("fk_evaluations_vote_session_id_scheduling_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations_vote")),
        sa.UniqueConstraint("session_id", "vote_id", name=op.f("uq_evaluations_vote_session_id")),
    )
    with op.batch_alter_table("evaluations_vote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_vote_office_id"), ["office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_vote_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("evaluations_document", schema=None) as batch_op:
        batch_op.add_column(sa.Column("vote_id", sa.Integer(), server_default="0", nullable=False))
        batch_op.drop_constraint(batch_op.f("uq_evaluations_document_session_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_evaluations_document_session_id"), ["session_id", "kind", "vote_id", "version"]
        )


def downgrade():
    # Tally reports cannot live under the old one-document-per-kind constraint: they go with the votes.
    op.execute("DELETE FROM evaluations_document WHERE kind = 'tally'")
    with op.batch_alter_table("evaluations_document", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_evaluations_document_session_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_evaluations_document_session_id"), ["session_id", "kind", "version"]
        )
        batch_op.drop_column("vote_id")

    with op.batch_alter_table("evaluations_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_vote_session_id"))
        batch_op.drop_index(batch_op.f("ix_evaluations_vote_office_id"))

    op.drop_table("evaluations_vote")
