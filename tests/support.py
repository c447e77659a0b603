"""Helpers shared by the test modules and both conftests."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from intranet.config import sqlalchemy_url

PASSWORD = "correct horse battery"
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


def app_config(database_url: str, instance: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "INSTANCE_PATH": str(instance),
        "SECRET_KEY": "test-secret-key",
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "LIVE_PREFIX": f"intranet-test-{os.getpid()}",
        "WTF_CSRF_ENABLED": False,
        **extra,
    }


def shot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ (looked at by hand, used in the README)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, username: str) -> None:
    """Sign in through the login form, in Vietnamese, and wait for the start page."""
    import re

    from playwright.sync_api import expect

    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name=re.compile("Xin chào"))).to_be_visible()


PG_TEST_URL = os.environ.get("INTRANET_TEST_DATABASE_URL", "")
pg_only = pytest.mark.skipif(not PG_TEST_URL.startswith("postgres"), reason="INTRANET_TEST_DATABASE_URL is not PostgreSQL")


class ThrowawayDatabases:
    """Extra empty databases for a test: files under ``tmp_path`` for SQLite; for PostgreSQL, databases
    named after the test database (``<name>_<suffix>``), created empty and dropped by ``drop_all``."""

    def __init__(self, engine: str, tmp_path: Path):
        self.engine, self.tmp_path, self.created = engine, tmp_path, []
        if engine == "postgresql":
            self.admin = create_engine(sqlalchemy_url(PG_TEST_URL, ""), isolation_level="AUTOCOMMIT")

    def new(self, suffix: str) -> str:
        if self.engine == "sqlite":
            return f"sqlite:///{self.tmp_path / (suffix + '.sqlite3')}"
        url = make_url(sqlalchemy_url(PG_TEST_URL, ""))
        database = f"{url.database}_{suffix}"
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        self.created.append(database)
        return url.set(database=database).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        if self.engine == "postgresql":
            with self.admin.connect() as connection:
                for database in self.created:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            self.admin.dispose()
