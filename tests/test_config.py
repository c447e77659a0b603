"""Configuration: defaults in code, INTRANET_* / DATABASE_URL / REDIS_URL / SECRET_KEY from the
environment, a generated secret key kept in the instance folder."""

import os
import stat

from intranet import create_app
from intranet.config import from_environment, sqlalchemy_url


def test_environment_overrides_defaults():
    cfg = from_environment(
        {
            "INTRANET_LOGIN_IP_LIMIT": "9 per minute",
            "INTRANET_MAX_CONTENT_LENGTH": "1024",
            "DATABASE_URL": "postgres://u@h/db",
            "REDIS_URL": "redis://x",
            "SECRET_KEY": "s",
            "INTRANET_LIVE_HEARTBEAT_SECONDS": "5",
        }
    )
    assert cfg["LOGIN_IP_LIMIT"] == "9 per minute" and cfg["MAX_CONTENT_LENGTH"] == 1024
    assert cfg["LIVE_HEARTBEAT_SECONDS"] == 5
    assert (cfg["DATABASE_URL"], cfg["REDIS_URL"], cfg["SECRET_KEY"]) == ("postgres://u@h/db", "redis://x", "s")
    assert from_environment({})["BABEL_DEFAULT_LOCALE"] == "vi"


def test_database_urls(tmp_path):
    assert sqlalchemy_url("", str(tmp_path)) == f"sqlite:///{tmp_path / 'intranet.sqlite3'}"
    assert sqlalchemy_url("postgres://u@h/db", "x") == "postgresql+psycopg://u@h/db"
    assert sqlalchemy_url("postgresql://u@h/db", "x") == "postgresql+psycopg://u@h/db"


def test_secret_key_is_generated_once_and_kept(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("INTRANET_SECRET_KEY", raising=False)
    first = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    second = create_app({"INSTANCE_PATH": str(tmp_path), "DATABASE_URL": "sqlite://"})
    key_file = tmp_path / "secret_key"
    assert first.secret_key == second.secret_key == key_file.read_text().strip()
    assert len(first.secret_key) >= 48
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    third = create_app({"INSTANCE_PATH": str(tmp_path / "other"), "DATABASE_URL": "sqlite://"})
    assert third.secret_key != first.secret_key


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("INTRANET_DATABASE_URL", raising=False)
    app = create_app({"INSTANCE_PATH": str(tmp_path), "SECRET_KEY": "x"})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'intranet.sqlite3'}"


def test_wsgi_exposes_app(monkeypatch, tmp_path):
    monkeypatch.setenv("INTRANET_INSTANCE_PATH", str(tmp_path))
    import importlib

    import wsgi

    importlib.reload(wsgi)
    assert wsgi.app.name == "intranet" and "intranet_plugins" in wsgi.app.extensions
