"""Rooms follow their meeting until pinned: meetings_room.pinned_at and pinned_by_id

A room's kind used to be fixed on first use. It now follows the meeting's mode and the office's Jitsi
unless the planners pin it; the rooms they had set by hand (an ``meetings.room`` audit entry) become
pinned, at the time and by the person of their last such entry, so their choice stays.

Revision ID: efdb02430c59
Revises:
Create Date: 2026-11-30 03:54:40.769634

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "efdb02430c59"
down_revision = None
branch_labels = ("meetings",)
depends_on = "0015_anon"

_LAST_SET = (
    "FROM audit_event a WHERE a.action = 'meetings.room' AND a.object_type = 'meetings_room' "
    "AND a.object_id = CAST(meetings_room.session_id AS VARCHAR(64))"
)


def upgrade():
    with op.batch_alter_table("meetings_room", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pinned_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("pinned_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_meetings_room_pinned_by_id_user_account"),
            "user_account",
            ["pinned_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    op.execute(
        f"UPDATE meetings_room SET "
        f"pinned_at = (SELECT a.created_at {_LAST_SET} ORDER BY a.created_at DESC, a.id DESC LIMIT 1), "
        f"pinned_by_id = (SELECT a.actor_id {_LAST_SET} ORDER BY a.created_at DESC, a.id DESC LIMIT 1)"
    )


def downgrade():
    with op.batch_alter_table("meetings_room", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_meetings_room_pinned_by_id_user_account"), type_="foreignkey")
        batch_op.drop_column("pinned_by_id")
        batch_op.drop_column("pinned_at")
