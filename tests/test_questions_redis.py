"""Across worker processes through Redis: a question posted to one gunicorn process reaches the SSE
stream a member holds on another. Runs when REDIS_URL is set (CI's second pass)."""
from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from support import PASSWORD
from test_questions import _meeting

pytestmark = pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="REDIS_URL not set")
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(app, database_url: str, instance: Path, port: int | None = None,
           **extra_env: str) -> tuple[subprocess.Popen, str]:
    port = port or _free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": app.config["SECRET_KEY"],
           "INTRANET_LIVE_PREFIX": app.config["LIVE_PREFIX"], "INTRANET_INSTANCE_PATH": str(instance),
           "INTRANET_ENV": "development", **extra_env}
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "--worker-class", "gthread", "--threads", "8", "--graceful-timeout", "2", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(base + "/healthz", timeout=1)
            return server, base
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError(server.stderr.read().decode())


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

    def sign_in(self, base: str, username: str) -> None:
        self.post(base + "/login", {"username": username, "password": PASSWORD, "csrf_token": self.token(base + "/login")})


def test_a_question_posted_to_one_worker_reaches_a_stream_on_another(app, database_url, tmp_path, qcell):
    sid = _meeting(app)
    (worker_a, base_a), (worker_b, base_b) = (_serve(app, database_url, tmp_path / name) for name in "ab")
    try:
        listener, asker = Browser(), Browser()
        listener.sign_in(base_a, "member2")
        asker.sign_in(base_b, "member1")
        stream = listener.opener.open(f"{base_a}/questions/sessions/{sid}/stream", timeout=15)
        frames: list[str] = []

        def read():
            try:
                for raw in stream:
                    frames.append(raw.decode())
            except (OSError, ValueError):  # the server stops when the test ends
                pass

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 10
        while "event: mine\n" not in "".join(frames) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "event: queue\n" in "".join(frames), "the stream did not open"
        token = asker.token(f"{base_b}/questions/sessions/{sid}")
        answer = asker.post(f"{base_b}/questions/sessions/{sid}/ask",
                            {"text": "Qua Redis từ tiến trình khác", "csrf_token": token}, {"X-Outbox": "1"})
        assert answer.status == 204
        deadline = time.monotonic() + 10
        while "Qua Redis từ tiến trình khác" not in "".join(frames) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "Qua Redis từ tiến trình khác" in "".join(frames)
    finally:
        for worker in (worker_a, worker_b):
            worker.terminate()
            worker.wait(timeout=20)
