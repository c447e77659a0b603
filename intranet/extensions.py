"""Flask extension instances, bound to the app in ``create_app``."""

import sqlite3

from flask_babel import Babel
from flask_htmx import HTMX
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, ORMExecuteState, Session

from .text import guard_columns

# Named constraints keep alembic migrations portable between SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
guard_columns(db.Model)  # every stored text is cleaned, whichever path sets it
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = HTMX()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

SQLITE_BUSY_TIMEOUT_MS = 30_000


@event.listens_for(Engine, "connect")
def _sqlite_for_many_clients(dbapi_connection, _record) -> None:
    """Every SQLite connection: write-ahead log (readers never block the writer, nor it them) and a busy
    timeout (a writer waits its turn, up to 30 s, instead of failing with "database is locked"). SQLite
    lets one writer at a time; with short transactions a meeting of 50 queues in milliseconds."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # kept in the file; repeated for files made elsewhere
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across app crashes, one fsync less
        cursor.close()


@event.listens_for(Session, "do_orm_execute")
def _sqlite_for_update(state: ORMExecuteState) -> None:
    """SQLite ignores FOR UPDATE, and its driver begins a transaction only at the first write, so a row
    read "for update" could be stale by the time the request writes (sixteen requests that each found a
    vote's time up all closed it). On SQLite such a read first makes a write that changes nothing: it
    takes the database's one write lock, waiting its turn, and what is read after stays current until
    the commit — FOR UPDATE's promise, for every plugin, on the embedded default."""
    if (
        state.is_select
        and getattr(state.statement, "_for_update_arg", None) is not None
        and state.session.get_bind().dialect.name == "sqlite"
    ):
        state.session.execute(text("UPDATE office SET id = id WHERE 0"))
