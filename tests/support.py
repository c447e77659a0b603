"""Helpers shared by the test modules and both conftests."""

from __future__ import annotations

import http.cookiejar
import ipaddress
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from intranet.config import sqlalchemy_url

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


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


@contextmanager
def sql_statements(app):
    """The SQL statements the app's engine runs inside the block, in order (a page's query count)."""
    from intranet.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listener)


def shot(page, name: str, full_page: bool = True) -> Path:
    """Save a screenshot (of the whole page, or of the screen) under test-artifacts/ (looked at by hand,
    used in the README)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(
    app,
    database_url: str,
    instance: Path,
    port: int | None = None,
    workers: int = 1,
    worker_class: str = "gthread",
    **env: str,
) -> tuple[subprocess.Popen, str]:
    """The app in a gunicorn process of its own (CSRF on, as in production) on ``port`` or a free
    loopback port; ``env`` adds to the environment (e.g. REDIS_URL). Returns the process and its base
    URL; the server's log is ``instance / "server.log"``."""
    port = port or free_port()
    instance.mkdir(parents=True, exist_ok=True)
    log = (instance / "server.log").open("ab")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "INTRANET_LIVE_PREFIX": app.config["LIVE_PREFIX"],
        "INTRANET_INSTANCE_PATH": str(instance),
        "INTRANET_ENV": "development",
        **env,
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--worker-class",
            worker_class,
            "--threads",
            "8",
            "--graceful-timeout",
            "2",
            # gunicorn 27's control socket has one default path per user: servers
            # started side by side (CI's two passes) would take it from each other.
            "--no-control-socket",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    log.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60  # a loaded CI machine starts a worker slowly
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError((instance / "server.log").read_text())


class Browser:
    """Cookies and CSRF tokens, as a browser keeps them (the servers run with CSRF on)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def token(self, url: str) -> str:
        page = self.opener.open(url, timeout=10).read().decode()
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)

    def post(self, url: str, fields: dict, headers: dict | None = None):
        request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), headers=headers or {})
        return self.opener.open(request, timeout=10)

    def sign_in(self, base: str, username: str):
        return self.post(
            base + "/login", {"username": username, "password": PASSWORD, "csrf_token": self.token(base + "/login")}
        )


class RedisServer:
    """A real redis-server of the test's own on a free loopback port, that the test can kill (as a crash
    would: SIGKILL) and start again on the same port. Nothing is saved to disk."""

    def __init__(self, workdir: Path) -> None:
        self.port, self.workdir, self.process = free_port(), workdir, None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(16).startswith(b"+PONG"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


PG_TEST_URL = os.environ.get("INTRANET_TEST_DATABASE_URL", "")
pg_only = pytest.mark.skipif(
    not PG_TEST_URL.startswith("postgres"), reason="INTRANET_TEST_DATABASE_URL is not PostgreSQL"
)


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


def throwaway_certificate(
    directory: Path,
    name: str,
    *,
    ips: tuple[str, ...] = (),
    dns: tuple[str, ...] = (),
    ca: tuple[Path, Path] | None = None,
    prefix: str = "",
):
    """A certificate for ``name`` (and these addresses and names), valid for a day, self-signed or signed
    by ``ca`` (a ``throwaway_ca``): ``(cert.pem, key.pem)`` written in ``directory`` (names after
    ``prefix``)."""
    from cryptography import x509

    alternatives = [*map(x509.DNSName, dns), *(x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips)]
    extensions = [(x509.SubjectAlternativeName(alternatives), False)]
    return _write_certificate(directory, prefix, name, extensions, ca)


def throwaway_ca(directory: Path, name: str = "Throwaway test CA", prefix: str = "ca-") -> tuple[Path, Path]:
    """A certificate authority valid for a day, to sign ``throwaway_certificate``s with:
    ``(ca-cert.pem, ca-key.pem)`` in ``directory``."""
    from cryptography import x509

    return _write_certificate(directory, prefix, name, [(x509.BasicConstraints(ca=True, path_length=0), True)], None)


def _write_certificate(directory: Path, prefix: str, name: str, extensions, ca: tuple[Path, Path] | None):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer, signing_key = subject, key
    if ca is not None:
        issuer = x509.load_pem_x509_certificate(ca[0].read_bytes()).subject
        signing_key = serialization.load_pem_private_key(ca[1].read_bytes(), password=None)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    cert = builder.sign(signing_key, hashes.SHA256())
    cert_path, key_path = directory / f"{prefix}cert.pem", directory / f"{prefix}key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path
