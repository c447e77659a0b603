"""The app served as `make run` serves it (gunicorn with intranet/gunicorn_conf.py, in a subprocess):
open live streams never take the places that serve pages, a closed browser frees its stream, and a
stream past the caps is refused (the page then polls)."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from support import PASSWORD

from intranet.extensions import db
from intranet.models import Office
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import SessionKind, SessionMode, SessionStatus

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _meeting(app) -> int:
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "DIST"))
        meeting = scheduling.create_session(
            office,
            kind=SessionKind.THEMATIC,
            title="Họp chi bộ",
            duration_minutes=120,
            place="Hội trường",
            mode=SessionMode.HYBRID,
            starts_at=datetime.now(UTC) + timedelta(hours=1),
        )
        scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
        db.session.commit()
        return meeting.id


@pytest.fixture
def serve(app, database_url, tmp_path, qcell):
    """``serve(**config)`` starts gunicorn on a free loopback port; yields (port, meeting id)."""
    servers = []
    meeting = _meeting(app)

    def start(**config) -> int:
        port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test-secret-key",
            "INTRANET_INSTANCE_PATH": str(tmp_path),
            "INTRANET_ENV": "development",
            "INTRANET_BIND": f"127.0.0.1:{port}",
            "INTRANET_LIVE_PREFIX": app.config["LIVE_PREFIX"],
            **{f"INTRANET_{k}": str(v) for k, v in config.items()},
        }
        log = open(tmp_path / f"gunicorn-{port}.log", "w")
        servers.append(
            (
                subprocess.Popen(
                    [str(GUNICORN), "-c", "intranet/gunicorn_conf.py", "wsgi:app"],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=log,
                ),
                log,
            )
        )
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return port
            except OSError:
                time.sleep(0.1)
        raise RuntimeError((tmp_path / f"gunicorn-{port}.log").read_text())

    yield start, meeting
    for server, log in servers:
        server.terminate()
        server.wait(timeout=30)
        log.close()


def _sign_in(port: int, username: str) -> str:
    """The session cookie of ``username``, signed in through the login form."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", "/login")
    response = conn.getresponse()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', response.read().decode()).group(1)
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    conn.request(
        "POST",
        "/login",
        urlencode({"username": username, "password": PASSWORD, "csrf_token": token}),
        {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
    )
    response = conn.getresponse()
    response.read()
    assert response.status == 302
    return response.headers["Set-Cookie"].split(";", 1)[0]


def _get(port: int, path: str, cookie: str = "") -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)  # generous: the assertion is that it answers
    conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
    response = conn.getresponse()
    return response.status, response.read().decode()


def _open_stream(port: int, path: str, cookie: str) -> tuple[socket.socket, int]:
    """A browser's EventSource: the connection and the status it was answered."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n".encode())
    head = b""
    while b"\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            break
        head += chunk
    return sock, int(head.split()[1])


def _health(port: int) -> dict:
    import json

    status, body = _get(port, "/readyz")
    assert status == 200
    return json.loads(body)["live_bus"]


def test_two_hundred_streams_of_one_user_do_not_hold_the_pages(serve):
    start, meeting = serve
    port = start(LIVE_STREAMS_PER_USER=1000)  # no per-user cap: the serving model alone must hold
    cookie = _sign_in(port, "member1")
    streams = [_open_stream(port, f"/questions/sessions/{meeting}/stream?page=member", cookie) for _ in range(200)]
    try:
        assert [status for _, status in streams] == [200] * 200
        assert _health(port)["streams"] == 200
        status, page = _get(port, f"/questions/sessions/{meeting}", cookie)
        assert status == 200 and "data-live-stream" in page
        status, page = _get(port, "/", cookie)
        assert status == 200
    finally:
        for sock, _ in streams:
            sock.close()


def test_a_closed_browser_frees_its_stream_before_any_heartbeat(serve):
    """With heartbeats a minute apart, only the check of the socket can see the browser has gone."""
    start, meeting = serve
    port = start(LIVE_HEARTBEAT_SECONDS=60, LIVE_STREAMS_PER_USER=1)
    cookie = _sign_in(port, "member1")
    path = f"/questions/sessions/{meeting}/stream?page=member"
    first, status = _open_stream(port, path, cookie)
    assert status == 200
    refused, status = _open_stream(port, path, cookie)
    assert status == 429  # past the per-user cap: live.js polls instead
    refused.close()
    first.close()
    closed = time.monotonic()
    while _health(port)["streams"] and time.monotonic() - closed < 30:
        time.sleep(0.05)
    print(f"stream released {time.monotonic() - closed:.2f} s after the browser closed it")
    assert _health(port)["streams"] == 0
    again, status = _open_stream(port, path, cookie)
    again.close()
    assert status == 200


def test_the_process_cap_refuses_streams_beyond_it(serve):
    start, meeting = serve
    port = start(LIVE_STREAMS_PER_PROCESS=2)
    streams = [
        _open_stream(port, f"/questions/sessions/{meeting}/stream?page=member", _sign_in(port, name))
        for name in ("member1", "member2", "member3")
    ]
    try:
        assert [status for _, status in streams] == [200, 200, 429]
    finally:
        for sock, _ in streams:
            sock.close()


OFF_LOOP = """
from gevent import monkey
monkey.patch_all()
import gevent
from argon2 import PasswordHasher
from intranet.serving import off_loop

ticks = []

def ticker():
    while True:
        ticks.append(1)
        gevent.sleep(0.001)

gevent.spawn(ticker)
gevent.sleep(0)
off_loop(PasswordHasher(time_cost=6, memory_cost=65536, parallelism=1).hash, "a password")
print(len(ticks))
"""


def test_password_hashing_leaves_the_other_greenlets_running():
    """Under the gevent worker a sign-in's argon2 hash runs on a native thread: pages and streams of
    the same process go on meanwhile (called in line, the ticker would not run once)."""
    out = subprocess.run([sys.executable, "-c", OFF_LOOP], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 5
