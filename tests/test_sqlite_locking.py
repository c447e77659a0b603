"""FOR UPDATE keeps its promise on the embedded default too: SQLite ignores the clause, so a read "for
update" takes the database's write lock first (intranet.extensions), and a second such read waits for
the first transaction to end instead of reading what is about to change."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from intranet.extensions import db
from intranet.models import Office


def test_a_read_for_update_waits_for_the_one_before_it(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("PostgreSQL keeps FOR UPDATE itself")
        first, second = Session(db.engine), Session(db.engine)
        try:
            first.execute(select(Office.id).with_for_update()).all()
            second.execute(text("PRAGMA busy_timeout=50"))  # fail fast rather than wait 30 s
            with pytest.raises(OperationalError, match="locked"):
                second.execute(select(Office.id).with_for_update()).all()
            second.rollback()
            first.commit()
            second.execute(text("PRAGMA busy_timeout=50"))
            second.execute(select(Office.id).with_for_update()).all()  # its turn now: no error
        finally:
            first.close(), second.close()
