"""TURN server for the pre-call test: meetings_office_config.turn_*

The office's TURN URLs and either a fixed username and credential or coturn's shared secret, from
which the room page's pre-call test gets time-limited credentials. Existing offices get none (empty),
so their room pages stay as they were.

Revision ID: 9c48daa5826c
Revises: efdb02430c59
Create Date: 2026-11-30 04:58:44.521074

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "9c48daa5826c"
down_revision = "efdb02430c59"
branch_labels = None
depends_on = None

_COLUMNS = (
    ("turn_urls", sa.Text()),
    ("turn_username", sa.String(length=200)),
    ("turn_credential", sa.String(length=500)),
    ("turn_secret", sa.String(length=500)),
)


def upgrade():
    with op.batch_alter_table("meetings_office_config", schema=None) as batch_op:
        for name, kind in _COLUMNS:
            batch_op.add_column(sa.Column(name, kind, nullable=False, server_default=""))


def downgrade():
    with op.batch_alter_table("meetings_office_config", schema=None) as batch_op:
        for name, _kind in reversed(_COLUMNS):
            batch_op.drop_column(name)
