"""The migrations build the schema from empty and match the models exactly (SQLite, and PostgreSQL
when INTRANET_TEST_DATABASE_URL is set)."""
import os

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect

from support import app_config
from intranet import MIGRATIONS, create_app
from intranet.extensions import db


def _fresh_app(url, tmp_path):
    return create_app(app_config(url, tmp_path))


def _check(app):
    with app.app_context():
        existing = MetaData()
        existing.reflect(db.engine)
        existing.drop_all(db.engine)
        flask_migrate.upgrade(directory=str(MIGRATIONS))
        tables = set(inspect(db.engine).get_table_names())
        assert {"office", "user_account", "role_assignment", "plugin_state", "audit_event", "alembic_version"} <= tables
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
        assert diff == [], f"models and migrations differ: {diff}"
        flask_migrate.downgrade(directory=str(MIGRATIONS), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_upgrade_from_empty_on_sqlite(tmp_path):
    _check(_fresh_app(f"sqlite:///{tmp_path / 'fresh.sqlite3'}", tmp_path))


@pytest.mark.skipif(not os.environ.get("INTRANET_TEST_DATABASE_URL"), reason="no PostgreSQL configured")
def test_upgrade_from_empty_on_postgresql(tmp_path):
    base = os.environ["INTRANET_TEST_DATABASE_URL"]
    name = f"intranet_mig_{os.getpid()}"
    admin = create_engine(base.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        _check(_fresh_app(base.rsplit("/", 1)[0] + f"/{name}", tmp_path))
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()
