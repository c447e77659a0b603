"""The project's wheel is complete: installed into an empty venv it migrates an empty instance with
``flask --app intranet db upgrade`` (the migrations and the app factory ship inside the package)."""

import sqlite3
from pathlib import Path

import pytest
from wheels import Venv, build_wheel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv holding the project's wheel (module-scoped: building it takes a while)."""
    tmp = tmp_path_factory.mktemp("wheel")
    env = Venv(tmp / "venv")
    env.install(build_wheel(ROOT, tmp / "dist"))
    return env


def test_the_wheel_migrates_an_empty_instance(installed, tmp_path):
    instance = tmp_path / "instance"
    env = {"INTRANET_INSTANCE_PATH": str(instance)}
    where = installed.run("python", "-c", "import intranet; print(intranet.__file__)", cwd=tmp_path)
    assert where.stdout.startswith(str(installed.purelib)), where  # the wheel's copy, not the work tree's

    upgrade = installed.run("python", "-m", "flask", "--app", "intranet", "db", "upgrade", cwd=tmp_path, env=env)
    assert upgrade.returncode == 0, upgrade.stderr
    with sqlite3.connect(instance / "intranet.sqlite3") as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"office", "user_account", "scheduling_session", "questions_question", "meetings_room"} <= tables
    # `db check` fails unless the database is at every head and matches the models.
    check = installed.run("python", "-m", "flask", "--app", "intranet", "db", "check", cwd=tmp_path, env=env)
    assert check.returncode == 0 and "No new upgrade operations" in check.stdout + check.stderr, check.stderr
