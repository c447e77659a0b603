"""`flask --app wsgi plugins …`, `seed-demo`, `users reset-password`, `users create-admin`."""

import os
import subprocess
import sys

from sqlalchemy import func, select
from support import ROOT

from intranet.extensions import db
from intranet.models import Office, PluginState, User


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def test_plugins_list_enable_disable(app, cell):
    listed = run(app, "plugins", "list")
    assert listed.exit_code == 0 and "hello" in listed.output and "default off" in listed.output
    assert run(app, "plugins", "enable", "hello", "--office", "DIST").exit_code == 0
    on = run(app, "plugins", "list", "--office", "dist")
    assert on.exit_code == 0 and [ln for ln in on.output.splitlines() if ln.startswith("hello ")][0].split()[2] == "on"
    off = run(app, "plugins", "list", "--office", "OTHER")
    assert [ln for ln in off.output.splitlines() if ln.startswith("hello ")][0].split()[2] == "off"
    assert run(app, "plugins", "disable", "hello", "--office", "DIST").exit_code == 0
    with app.app_context():
        state = db.session.scalar(select(PluginState).where(PluginState.plugin == "hello"))
        assert state.enabled is False


def test_unknown_plugin_or_office_exits_2(app, cell):
    for args in (
        ("plugins", "enable", "nope", "--office", "DIST"),
        ("plugins", "disable", "hello", "--office", "XX"),
        ("plugins", "list", "--office", "XX"),
    ):
        result = run(app, *args)
        assert result.exit_code == 2, result.output
        assert "unknown" in result.output


def test_dependency_refusal_is_a_clear_error(app, cell):
    result = run(app, "plugins", "enable", "hello_extra", "--office", "DIST")
    assert result.exit_code == 1 and "Xin chào" in result.output
    run(app, "plugins", "enable", "hello", "--office", "DIST")
    run(app, "plugins", "enable", "hello_extra", "--office", "DIST")
    result = run(app, "plugins", "disable", "hello", "--office", "DIST")
    assert result.exit_code == 1 and "Xin chào thêm" in result.output


def test_seed_demo_only_into_an_empty_database(app):
    first = run(app, "seed-demo")
    assert first.exit_code == 0 and "bithu" in first.output and "admin" in first.output
    with app.app_context():
        offices = db.session.scalar(select(func.count()).select_from(Office))
        users = db.session.scalar(select(func.count()).select_from(User))
        child = db.session.scalar(select(Office).where(Office.code == "VKS-PD"))
        assert offices == 2 and child.parent.code == "VKS-CT" and users >= 10
    again = run(app, "seed-demo")
    assert "not seeded" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == users
    # The printed passwords work.
    line = [ln for ln in first.output.splitlines() if ln.strip().startswith("bithu ")][0]
    client = app.test_client()
    assert client.post("/login", data={"username": "bithu", "password": line.split()[-1]}).status_code == 302


def test_reset_password_from_the_console(app, cell):
    result = run(app, "users", "reset-password", "member1")
    assert result.exit_code == 0
    password = result.output.split(": ")[1].strip()
    client = app.test_client()
    client.post("/login", data={"username": "member1", "password": password})
    assert client.get("/").location.endswith("/account/password")
    assert run(app, "users", "reset-password", "ghost").exit_code == 2


def test_the_first_administrator_of_a_fresh_installation(app):
    assert run(app, "users", "create-admin", "quantri", "--full-name", "Quản Trị", "--office", "VKS").exit_code == 2
    result = run(
        app,
        "users",
        "create-admin",
        "quantri",
        "--full-name",
        "Quản Trị",
        "--office",
        "VKS",
        "--office-name",
        "Viện kiểm sát tỉnh",
    )
    assert result.exit_code == 0, result.output
    password = result.output.split(": ")[1].strip()
    client = app.test_client()
    client.post("/login", data={"username": "quantri", "password": password})
    assert client.get("/").location.endswith("/account/password")  # the temporary password must be changed
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "quantri"))
        assert [r.value for r in user.roles_in(user.office_id)] == ["admin"] and user.office.parent_id is None
    again = run(app, "users", "create-admin", "quantri", "--full-name", "X", "--office", "vks")
    assert again.exit_code == 1 and "quantri" in again.output


def test_seed_demo_prints_the_accounts_last(app, database_url, tmp_path):
    """As `make run` runs it, in its own process: nothing (log lines included) comes after the accounts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTRANET_")}
    env.update(
        DATABASE_URL=database_url,
        INTRANET_INSTANCE_PATH=str(tmp_path),
        INTRANET_ENV="development",
        SECRET_KEY="test-secret-key",
    )
    seeded = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "seed-demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seeded.returncode == 0, seeded.stderr
    lines = [ln for ln in (seeded.stdout + seeded.stderr).splitlines() if ln.strip()]
    with app.app_context():
        usernames = set(db.session.scalars(select(User.username)))
    table = lines[-len(usernames) :]
    assert {ln.split()[0] for ln in table} == usernames  # one line per account, and they end the output
    assert lines[-len(usernames) - 1].split() == ["username", "who", "password"]
    assert lines[-len(usernames) - 2].startswith("Demo accounts.")
