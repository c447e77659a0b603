"""What the benchmarks share: a free port, a signed-in keep-alive HTTP client, and a seeded database."""

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


@contextmanager
def seeded_cell(seed: str, members: int, password: str, count: int = 0, *, embedded: bool = False):
    """A fresh database with the migrations applied and filled by ``bench/seed.py`` (``seed`` names what it
    makes besides the cell of ``members``, ``count`` how many questions or meetings); yields the servers'
    environment, the instance folder and the (first) meeting's id. By default a PostgreSQL database on
    BENCH_PG (default postgresql://postgres@127.0.0.1:5432), dropped afterwards, and Redis on BENCH_REDIS;
    ``embedded``: what `make run` uses, SQLite in the instance folder and the in-process bus."""
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
            [sys.executable, "-m", "bench.seed", seed, str(members), password, str(count)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
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
