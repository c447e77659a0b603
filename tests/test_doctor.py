"""``flask --app wsgi doctor`` against real services: a healthy production-like instance (migrated
database, a real redis-server, a real SMTP server, a private upload folder, an office's Jitsi with token
auth) passes with exit code 0; each fault is named in plain words and makes the exit code 1."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import flask_migrate
import pytest
import redis
from aiosmtpd.controller import Controller
from support import app_config

from intranet import MIGRATIONS, create_app
from intranet.extensions import db

STRONG_KEY = "k3Jq9vX2mPz8RtY6wL1nB5cH7dF4gS0aE2uI9oQ"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url():
    """A redis-server of our own on a free loopback port, gone at the end."""
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    port = free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait()


class Sink:
    async def handle_DATA(self, server, session, envelope):
        return "250 OK"


@pytest.fixture(scope="module")
def smtp_port():
    port = free_port()
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    yield port
    controller.stop()


@pytest.fixture
def healthy(tmp_path, redis_url, smtp_port):
    """Settings of an instance with nothing wrong; a test spoils one thing."""
    folder = tmp_path / "instance"
    folder.mkdir(mode=0o700)
    (folder / "uploads").mkdir(mode=0o700)
    return app_config(
        f"sqlite:///{folder / 'intranet.sqlite3'}",
        folder,
        TESTING=False,
        ENV="production",
        SECRET_KEY=STRONG_KEY,
        REDIS_URL=redis_url,
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=smtp_port,
        BASE_URL="https://intranet.example.gov.vn",
    )


def build(settings: dict, revision: str = "heads", jitsi: dict | None = None):
    # The rate limiter is one object shared by every app in this process (intranet.extensions): an app
    # built with another Redis would move the whole suite's limits there. Doctor reads REDIS_URL when it
    # runs, so the app is built with the suite's and is given the one under test afterwards.
    settings = dict(settings)
    redis_url = settings.pop("REDIS_URL")
    app = create_app(settings)
    app.config["REDIS_URL"] = redis_url
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision=revision)
        if jitsi is not None:
            from intranet.admin.services import create_office
            from intranet_meetings.models import OfficeConfig

            office = create_office(code="DIST", name="District", parent=None)
            db.session.flush()
            db.session.add(OfficeConfig(office_id=office.id, **jitsi))
            db.session.commit()
    return app


def doctor(app):
    return app.test_cli_runner().invoke(args=["doctor"])


SELF_HOSTED = {
    "jitsi_domain": "127.0.0.1",
    "app_id": "intranet",
    "app_secret": "a-prosody-app-secret-of-32-bytes-or-more",
}


def test_a_healthy_instance_passes(healthy):
    from intranet_meetings.models import JitsiAuth

    result = doctor(build(healthy, jitsi={**SELF_HOSTED, "auth": JitsiAuth.HS256}))
    assert result.exit_code == 0, result.output
    assert "[FAIL]" not in result.output and "No problem found." in result.output
    for line in (
        "[ok  ] secret key",
        "[ok  ] environment: production",
        "[ok  ] database: reachable, at migration",
        "[ok  ] redis: 127.0.0.1:",
        "[ok  ] SCHEDULING_UPLOAD_DIR",
        "[ok  ] smtp: 127.0.0.1:",
        "[ok  ] jitsi (DIST): 127.0.0.1, auth hs256",
    ):
        assert line in result.output, result.output


def test_an_old_schema_says_run_db_upgrade(healthy):
    result = doctor(build(healthy, revision="0010"))
    assert result.exit_code == 1
    assert "[FAIL] migrations: the database is at 0010" in result.output
    assert "run flask --app wsgi db upgrade" in result.output


def test_an_unreachable_redis_is_named(healthy):
    closed = free_port()  # bound then released: nothing listens there
    result = doctor(build({**healthy, "REDIS_URL": f"redis://:hunter2@127.0.0.1:{closed}/9"}))
    assert result.exit_code == 1
    assert f"[FAIL] redis: cannot reach 127.0.0.1:{closed}" in result.output
    assert "hunter2" not in result.output  # the password is never printed


def unwritable_dir(tmp_path: Path) -> Path:
    """A directory this process cannot create files in. Root ignores permission bits, so as root we
    use a kernel directory no one can write to."""
    if os.geteuid() == 0:
        return Path("/proc/self")
    folder = tmp_path / "locked"
    folder.mkdir(mode=0o500)
    return folder


def test_an_unwritable_upload_directory_is_named(healthy, tmp_path):
    locked = unwritable_dir(tmp_path)
    result = doctor(build({**healthy, "SCHEDULING_UPLOAD_DIR": str(locked)}))
    assert result.exit_code == 1
    assert f"[FAIL] SCHEDULING_UPLOAD_DIR: {locked} is not writable by this user" in result.output


def test_an_upload_path_that_is_a_file_is_named(healthy, tmp_path):
    (tmp_path / "not-a-dir").write_text("")
    result = doctor(build({**healthy, "SCHEDULING_UPLOAD_DIR": str(tmp_path / "not-a-dir")}))
    assert result.exit_code == 1
    assert f"[FAIL] SCHEDULING_UPLOAD_DIR: {tmp_path / 'not-a-dir'} is not a directory" in result.output


@pytest.mark.parametrize(
    "key, message",
    [
        ("change-me-to-a-long-random-string-please", "SECRET_KEY looks like a placeholder"),
        ("short", "SECRET_KEY has 5 characters"),
    ],
)
def test_a_weak_secret_key_is_named(healthy, key, message):
    result = doctor(build({**healthy, "SECRET_KEY": key}))
    assert result.exit_code == 1 and f"[FAIL] secret key: {message}" in result.output


def test_insecure_cookies_in_production_and_a_wrong_env(healthy):
    result = doctor(build({**healthy, "TESTING": True}))  # TESTING drops the Secure flag
    assert (
        result.exit_code == 1 and "[FAIL] cookies: SESSION_COOKIE_SECURE, REMEMBER_COOKIE_SECURE off" in result.output
    )
    result = doctor(build({**healthy, "ENV": "prod"}))
    assert result.exit_code == 1 and "[FAIL] environment: ENV is 'prod'" in result.output


def test_a_closed_smtp_port_is_named(healthy):
    closed = free_port()
    result = doctor(build({**healthy, "SMTP_PORT": closed}))
    assert result.exit_code == 1 and f"[FAIL] smtp: cannot talk to 127.0.0.1:{closed}" in result.output


def test_bad_jitsi_settings_are_named(healthy):
    from intranet_meetings.models import JitsiAuth

    app = build(
        healthy,
        jitsi={
            "jitsi_domain": "meet.intranet.invalid",
            "auth": JitsiAuth.JAAS,
            "app_id": "tenant",
            "jaas_key_id": "tenant/key",
            "jaas_private_key": "-----BEGIN PRIVATE KEY-----\nnot a key",
        },
    )
    result = doctor(app)
    assert result.exit_code == 1
    assert "[FAIL] jitsi (DIST): meet.intranet.invalid does not resolve" in result.output
    assert "[FAIL] jitsi (DIST): token auth (jaas) cannot sign a token" in result.output
