"""anonymity across stores: held (sealed) ratings; member questions keep the queue's anonymity mode

Revision ID: 0015_anon
Revises: 0011_upload_versions
Create Date: 2026-11-30 00:40:00

"""

import random
import uuid

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_anon"
down_revision = "0011_upload_versions"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "evaluations_rating_pending",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("office_id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["office_id"],
            ["office.id"],
            name=op.f("fk_evaluations_rating_pending_office_id_office"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["scheduling_session.id"],
            name=op.f("fk_evaluations_rating_pending_session_id_scheduling_session"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations_rating_pending")),
    )
    with op.batch_alter_table("evaluations_rating_pending", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evaluations_rating_pending_office_id"), ["office_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_evaluations_rating_pending_session_id"), ["session_id"], unique=False)

    with op.batch_alter_table("scheduling_member_question", schema=None) as batch_op:
        batch_op.add_column(sa.Column("anonymity", sa.String(length=16), nullable=False, server_default="named"))
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=True)

    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))

    bind = op.get_bind()
    # Questions sent with the documents take the mode their meeting's queue had; fully anonymous ones
    # lose their author, here and in the audit record of their asking.
    bind.execute(
        sa.text(
            "UPDATE scheduling_member_question SET anonymity = (SELECT s.anonymity FROM questions_settings s"
            " WHERE s.session_id = scheduling_member_question.session_id)"
            " WHERE session_id IN (SELECT session_id FROM questions_settings)"
        )
    )
    bind.execute(
        sa.text(
            "UPDATE audit_event SET actor_id = NULL WHERE action = 'scheduling.member_question.ask'"
            " AND object_id IN (SELECT CAST(id AS VARCHAR(64)) FROM scheduling_member_question"
            " WHERE anonymity <> 'named')"
        )
    )
    bind.execute(sa.text("UPDATE scheduling_member_question SET user_id = NULL WHERE anonymity = 'anonymous'"))

    # Ratings written before this revision share a transaction (and an order) with their receipts:
    # write them again, shuffled, under new random keys, in this migration's transaction.
    rows = [
        dict(r._mapping)
        for r in bind.execute(
            sa.text("SELECT office_id, session_id, preparation, content, discussion, comment FROM evaluations_rating")
        )
    ]
    if rows:
        random.SystemRandom().shuffle(rows)
        bind.execute(sa.text("DELETE FROM evaluations_rating"))
        bind.execute(
            sa.text(
                "INSERT INTO evaluations_rating (id, office_id, session_id, preparation, content, discussion, comment)"
                " VALUES (:id, :office_id, :session_id, :preparation, :content, :discussion, :comment)"
            ),
            [{**r, "id": uuid.uuid4().hex} for r in rows],
        )


def downgrade():
    with op.batch_alter_table("idempotency_key", schema=None) as batch_op:
        batch_op.drop_column("request_hash")
    with op.batch_alter_table("scheduling_member_question", schema=None) as batch_op:
        batch_op.drop_column("anonymity")
    # Fully anonymous questions have no author to give back; they cannot go back into a NOT NULL column.
    op.execute("DELETE FROM scheduling_member_question WHERE user_id IS NULL")
    with op.batch_alter_table("scheduling_member_question", schema=None) as batch_op:
        batch_op.alter_column("user_id", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("evaluations_rating_pending", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evaluations_rating_pending_session_id"))
        batch_op.drop_index(batch_op.f("ix_evaluations_rating_pending_office_id"))
    op.drop_table("evaluations_rating_pending")
