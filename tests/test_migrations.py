"""The migrations (the core's history and each plugin's branch) build the schema from empty and match
the models exactly (SQLite, and PostgreSQL when INTRANET_TEST_DATABASE_URL is set); a database at the
old single head gains the plugins' branches; a plugin's revision is written into its own folder."""

import os
from pathlib import Path

import flask_migrate
import hello_plugin
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine, inspect
from support import app_config

from intranet import MIGRATIONS, create_app
from intranet.extensions import db
from intranet.schema import CORE_VERSIONS, new_revision


def _fresh_app(url, tmp_path):
    return create_app(app_config(url, tmp_path))


def _check(app):
    with app.app_context():
        existing = MetaData()
        existing.reflect(db.engine)
        existing.drop_all(db.engine)
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
        tables = set(inspect(db.engine).get_table_names())
        assert {"office", "user_account", "role_assignment", "plugin_state", "audit_event", "alembic_version"} <= tables
        assert "hello_note" in tables  # the outside plugin's own branch
        _assert_models_match()
        flask_migrate.downgrade(directory=str(MIGRATIONS), revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def _assert_models_match():
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


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


def test_database_at_the_old_linear_head_gains_the_plugin_branches(tmp_path):
    """0015_anon was the one head before plugins had branches: such a database upgrades in place."""
    app = _fresh_app(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path)
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="0015_anon")
        assert "hello_note" not in inspect(db.engine).get_table_names()
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
        assert "hello_note" in inspect(db.engine).get_table_names()
        _assert_models_match()


def test_autogenerate_for_a_plugin_writes_into_its_folder_and_compares_only_its_tables(tmp_path):
    app = _fresh_app(f"sqlite:///{tmp_path / 'gen.sqlite3'}", tmp_path)
    plugin_folder = Path(hello_plugin.__file__).parent / "migrations"
    before = {p: set(p.glob("*.py")) for p in (plugin_folder, CORE_VERSIONS)}
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
        with db.engine.begin() as conn:  # the plugin's table goes missing: only its branch may notice
            conn.exec_driver_sql("DROP TABLE hello_note")
        new_revision("core", "nothing of the core changed")
        assert set(CORE_VERSIONS.glob("*.py")) == before[CORE_VERSIONS]
        new_revision("hello", "hello notes again")
    written = set(plugin_folder.glob("*.py")) - before[plugin_folder]
    try:
        assert len(written) == 1
        text = written.pop().read_text()
        assert "op.create_table('hello_note'" in text and "office" not in text.replace("office_id", "")
        assert "branch_labels = None" in text  # continues the hello branch
    finally:
        for path in set(plugin_folder.glob("*.py")) - before[plugin_folder]:
            path.unlink()


def test_the_document_layout_moves_from_the_evaluations_settings_to_the_office(tmp_path):
    """What a secretary set in the evaluations plugin (place, "NQ/CB") reaches the core's office columns
    (issuer code "CB"), and comes back on a downgrade."""
    app = _fresh_app(f"sqlite:///{tmp_path / 'layout.sqlite3'}", tmp_path)
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="0015_anon")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO office (id, code, name, party_committee, cell_name, created_at) "
                "VALUES (1, 'PD', 'Phong Điền', '', '', '2026-01-01'), "
                "(2, 'CT', 'Cần Thơ', '', '', '2026-01-01')"
            )
            conn.exec_driver_sql("INSERT INTO evaluations_office_settings VALUES (1, 2, 3, 'Phong Điền', 'NQ/CB')")
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(
                "SELECT code, document_place, document_number_suffix, document_recipients FROM office ORDER BY id"
            ).all()
        assert [tuple(r) for r in rows] == [("PD", "Phong Điền", "CB", ""), ("CT", "", "CB", "")]
        flask_migrate.downgrade(
            directory=str(MIGRATIONS), revision="evaluations@base"
        )  # (the branch's later revisions first)
        with db.engine.connect() as conn:
            assert tuple(
                conn.exec_driver_sql("SELECT place_name, resolution_suffix FROM evaluations_office_settings").one()
            ) == ("Phong Điền", "NQ/CB")
