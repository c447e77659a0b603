"""What the benchmarks share: a free port, a signed-in keep-alive HTTP client, and the seed of a cell."""

from __future__ import annotations

import http.client
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Client:
    """One browser: a keep-alive connection, its cookies, and after ``login`` the page's CSRF token."""

    def __init__(self, port: int):
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.cookies: dict[str, str] = {}
        self.token = ""

    def request(self, method, path, body=None, headers=None):
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = self.cookie()
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, ConnectionError):  # an idle keep-alive closed: reconnect, as browsers do
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, response.headers, data.decode(errors="replace")

    def cookie(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def login(self, username: str, password: str) -> Client:
        _, _, page = self.request("GET", "/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _, _ = self.request(
            "POST", "/login", urlencode({"username": username, "password": password, "csrf_token": token})
        )
        assert status == 302, f"sign-in of {username}: {status}"
        _, _, page = self.request("GET", "/")
        self.token = re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
        return self


# Run with `python -c SEED_CELL + <the bench's meeting>` and argv (members, password): one office with a
# secretary and that many members (cheap password hashes, so hundreds sign in quickly); leaves `office`
# and an open request context for the rest of the script.
SEED_CELL = """
import sys
from argon2 import PasswordHasher
import intranet.models as models
models._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
from datetime import datetime, timedelta, timezone
from intranet.admin.services import create_office, create_user
from intranet.extensions import db
from intranet.models import PartyStatus, Role
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import SessionKind, SessionMode, SessionStatus
from wsgi import app
context = app.test_request_context()
context.push()
office = create_office(code="BENCH", name="Chi bộ benchmark", parent=None)
create_user(username="bithu", full_name="Bí thư", office=office, roles=(Role.SECRETARY, Role.MEMBER),
            party_status=PartyStatus.OFFICIAL, password=sys.argv[2])
for i in range(int(sys.argv[1])):
    create_user(username=f"dv{i:04d}", full_name=f"Đảng viên {i:04d}", office=office, roles=(Role.MEMBER,),
                party_status=PartyStatus.OFFICIAL, password=sys.argv[2])
"""

# SEED_CELL and a helper for meetings in progress whose question queue is open (20 open questions a member).
SEED_LIVE_MEETINGS = (
    SEED_CELL
    + """
from intranet_questions.models import QueueSettings


def live_meeting(title):
    meeting = scheduling.create_session(office, kind=SessionKind.THEMATIC, title=title,
                                        starts_at=datetime.now(timezone.utc) + timedelta(minutes=5),
                                        duration_minutes=120, place="", mode=SessionMode.ONLINE)
    scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
    db.session.add(QueueSettings(session_id=meeting.id, office_id=office.id, open_limit=20))
    db.session.flush()
    return meeting
"""
)


@contextmanager
def seeded_cell(seed: str, members: int, password: str, *, embedded: bool = False):
    """A fresh database with the migrations applied and ``seed`` run (``SEED_CELL`` + a meeting, printing
    its id); yields the servers' environment, the instance folder and the meeting's id. By default a
    PostgreSQL database on BENCH_PG (default postgresql://postgres@127.0.0.1:5432), dropped afterwards,
    and Redis on BENCH_REDIS; ``embedded``: what `make run` uses, SQLite in the instance folder and the
    in-process bus."""
    import psycopg

    server_url = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
    database = f"intranet_bench_{os.getpid()}"
    instance = tempfile.mkdtemp(prefix="intranet-bench-")
    env = {
        **os.environ,
        "INTRANET_INSTANCE_PATH": instance,
        "INTRANET_ENV": "development",
        "SECRET_KEY": "bench-secret",
        "INTRANET_LIVE_PREFIX": f"bench{os.getpid()}",
        "INTRANET_LOGIN_IP_LIMIT": "100000 per minute",
        "INTRANET_LOGIN_ACCOUNT_LIMIT": "100000 per minute",
    }
    if embedded:
        env.update(DATABASE_URL="", REDIS_URL="")
    else:
        with psycopg.connect(server_url + "/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {database}")
        env.update(
            DATABASE_URL=f"{server_url}/{database}",
            REDIS_URL=os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/14"),
        )
    try:
        subprocess.run(
            [str(BIN / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env, check=True, capture_output=True
        )
        seeded = subprocess.run(
            [sys.executable, "-c", seed, str(members), password], cwd=ROOT, env=env, capture_output=True, text=True
        )
        if seeded.returncode:
            raise SystemExit(seeded.stderr)
        yield env, instance, int(seeded.stdout.split()[-1])
    finally:
        if not embedded:
            with psycopg.connect(server_url + "/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def answering(server: subprocess.Popen, port: int) -> bool:
    """Wait until a worker answers HTTP on ``port`` (any status): listening is not enough, since on a
    loaded machine the workers take tens of seconds to load the app. False if the server exited."""
    for _ in range(600):
        if server.poll() is not None:
            return False
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).close()
            return True
        except urllib.error.HTTPError:  # an answer all the same (the bare apps have no /healthz)
            return True
        except OSError:
            time.sleep(0.2)
    return False


def stop(servers) -> None:
    for server in servers:
        server.terminate()
    for server in servers:
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
