"""Fixtures: ``app`` (schema built by the real migrations), ``client``, ``data`` (factories that go
through the same services as the UI), ``login``; every test starts from empty tables.

Set INTRANET_TEST_DATABASE_URL / REDIS_URL to run the same suite on PostgreSQL and Redis.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# "Installs" the outside test plugin: its dist-info on sys.path makes its entry points visible, exactly
# as `pip install` would. Must happen before any app is created.
OUTSIDE = Path(__file__).parent / "outside_plugin"
sys.path.insert(0, str(OUTSIDE))
# ...and in the servers and commands the tests start, which share the suite's database and its schema.
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(OUTSIDE), os.environ.get("PYTHONPATH")]))

import flask_migrate  # noqa: E402
import pytest  # noqa: E402
from argon2 import PasswordHasher  # noqa: E402
from sqlalchemy import MetaData, delete  # noqa: E402
from support import PASSWORD, ThrowawayDatabases, app_config  # noqa: E402

import intranet.models as models  # noqa: E402
from intranet import MIGRATIONS, create_app  # noqa: E402
from intranet.extensions import db, limiter  # noqa: E402

# Cheap hashes keep the suite fast; the production parameters are argon2-cffi's defaults.
models._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    return os.environ.get("INTRANET_TEST_DATABASE_URL") or f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def rebuild_schema() -> None:
    """Drop every table, then build the schema with the project's migrations (as `make run` does)."""
    existing = MetaData()
    existing.reflect(db.engine)
    existing.drop_all(db.engine)
    flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")  # the core and every plugin's branch


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(app_config(database_url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        rebuild_schema()
    return app


def _empty_tables(app) -> None:
    with app.app_context():
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(delete(table))
        db.session.commit()


@pytest.fixture(autouse=True)
def _clean_state(request):
    yield
    if "app" in request.fixturenames or "live_server" in request.fixturenames:
        app = request.getfixturevalue("app")
        _empty_tables(app)
        with app.app_context():
            limiter.reset()
        # The tables are emptied and their ids reused, but the bus's versions go on: a render cached for
        # a version in an earlier test would be served for that version's different data in the next.
        from intranet.live import SharedRenders

        app.extensions["intranet_live"].renders = SharedRenders()
        import hello_plugin

        hello_plugin.heard.clear()


@pytest.fixture
def databases(request, tmp_path):
    """Empty extra databases of the engine named by indirect parametrisation ("sqlite"/"postgresql")."""
    made = ThrowawayDatabases(request.param, tmp_path)
    yield made
    made.drop_all()


@pytest.fixture
def client(app):
    return app.test_client()


class Data:
    """Creates offices and users through the admin services (so hooks and audit run); returns ids."""

    def __init__(self, app):
        self.app = app

    def office(self, code: str, parent: str | None = None, name: str | None = None) -> int:
        from intranet.admin.services import create_office

        with self.app.app_context():
            office = create_office(
                code=code, name=name or f"Office {code}", parent=self._office(parent) if parent else None
            )
            db.session.commit()
            return office.id

    def user(
        self,
        username: str,
        office: str,
        roles=("member",),
        password: str | None = PASSWORD,
        status: str | None = "official",
        **fields,
    ) -> int:
        from intranet.admin.services import create_user

        with self.app.app_context():
            user, _ = create_user(
                username=username,
                full_name=fields.pop("full_name", username.title()),
                office=self._office(office),
                roles=tuple(models.Role(r) for r in roles),
                party_status=models.PartyStatus(status) if status else None,
                password=password,
                **fields,
            )
            db.session.commit()
            return user.id

    def enable(self, plugin: str, office: str, enabled: bool = True) -> None:
        from intranet.plugins import manager

        with self.app.app_context():
            manager().set_enabled(self._office(office), plugin, enabled)
            db.session.commit()

    def get(self, model, ident):
        with self.app.app_context():
            obj = db.session.get(model, ident)
            db.session.expunge_all()
            return obj

    @staticmethod
    def _office(code: str):
        from sqlalchemy import select

        return db.session.scalar(select(models.Office).where(models.Office.code == code))


@pytest.fixture
def data(app) -> Data:
    return Data(app)


@pytest.fixture
def login(client):
    def do_login(username: str, password: str = PASSWORD, c=None):
        (c or client).post("/logout")  # the login page sends a signed-in user away: sign out first
        response = (c or client).post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, response.text
        return response

    return do_login


@pytest.fixture
def cell(data):
    """Two offices in a tree plus a third outside it, with the usual people."""
    data.office("CITY", name="City procuracy")
    data.office("DIST", parent="CITY", name="District procuracy")
    data.office("OTHER", name="Other province")
    ids = {
        "root_admin": data.user("cityadmin", "CITY", roles=("admin",)),
        "dist_admin": data.user("distadmin", "DIST", roles=("admin",)),
        "secretary": data.user("bithu", "DIST", roles=("secretary", "member")),
        "member": data.user("member1", "DIST"),
        "other_admin": data.user("otheradmin", "OTHER", roles=("admin",)),
        "other_member": data.user("othermember", "OTHER"),
    }
    return ids


@pytest.fixture
def qcell(data, cell):
    """The district cell as a meeting sees it: a deputy, a committee member, more members, a guest."""
    cell["deputy"] = data.user("phobithu", "DIST", roles=("deputy", "member"), full_name="Phó Bí Thư")
    cell["committee"] = data.user("chiuy", "DIST", roles=("committee", "member"), full_name="Chi Ủy")
    cell["m2"] = data.user("member2", "DIST", full_name="Đảng Viên Hai")
    cell["m3"] = data.user("member3", "DIST", full_name="Đảng Viên Ba")
    cell["guest"] = data.user("khach", "DIST", roles=("guest",), full_name="Khách")
    return cell
