"""Fault suite: a gunicorn worker is killed (SIGKILL) in the middle of a burst of questions and votes.

The app runs under gunicorn with two workers on PostgreSQL (and Redis when REDIS_URL is set, as in
CI's second pass). Many members, each on a thread of their own, ask questions and vote as the
browser's outbox sends them: each action with its own Idempotency-Key, sent again with the same key
after a connection error, a 5xx or a 429 until the server acknowledges it. Half-way through, one
worker is killed; gunicorn starts another. Afterwards: every acknowledged question and vote is stored,
none twice, and every question's vote counter equals its vote rows."""

from __future__ import annotations

import http.client
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support import PASSWORD, serve
from test_questions import _ask, _meeting

from intranet.extensions import db
from intranet.models import User
from intranet_questions.models import Question, Vote

pytestmark = pytest.mark.skipif(
    not os.environ.get("INTRANET_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="the fault suite needs PostgreSQL: set INTRANET_TEST_DATABASE_URL=postgresql://… (and REDIS_URL)",
)

CLIENTS, ASKS_EACH, DEADLINE_S, TIMEOUT_S = 12, 3, 45, 20
RETRYABLE = (OSError, http.client.HTTPException)  # refused, reset, closed mid-answer, timed out


def _serve(app, database_url: str, instance: Path) -> tuple[subprocess.Popen, str]:
    """support.serve with two workers, once both are up (the test kills one of them)."""
    server, base = serve(app, database_url, instance, workers=2)
    deadline = time.monotonic() + 60
    while len(_workers(server)) < 2:
        if time.monotonic() > deadline:
            server.kill()
            raise RuntimeError("gunicorn did not start its two workers")
        time.sleep(0.2)
    return server, base


def _workers(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text().split()
    return [int(pid) for pid in children]


class Member:
    """One member's browser: a session cookie, the page's CSRF token, and the outbox's retries."""

    def __init__(self, base: str, username: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        self.retries = 0
        self.server_errors = 0
        while True:  # signing in is safe to repeat
            try:
                self._post("/login", {"username": username, "password": PASSWORD, "csrf_token": self._page("/login")})
                return
            except RETRYABLE:
                self.retries += 1
                time.sleep(0.1)

    def _page(self, path: str) -> str:
        while True:
            try:
                page = self.opener.open(self.base + path, timeout=TIMEOUT_S).read().decode()
                return re.search(r'<meta name="csrf-token" content="([^"]+)"', page).group(1)
            except RETRYABLE:
                self.retries += 1
                time.sleep(0.1)

    def _post(self, path: str, fields: dict, headers: dict | None = None):
        request = urllib.request.Request(
            self.base + path, data=urllib.parse.urlencode(fields).encode(), headers=headers or {}
        )
        return self.opener.open(request, timeout=TIMEOUT_S)

    def open_meeting(self, sid: int) -> None:
        self.csrf = self._page(f"/questions/sessions/{sid}")

    def send(self, path: str, fields: dict, deadline: float) -> int:
        """As the outbox does: one key for the action, the same key on every try; returns the status
        of the acknowledgement (a 2xx, or a 4xx refusal)."""
        headers = {"Idempotency-Key": secrets.token_urlsafe(24), "X-Outbox": "1"}
        while time.monotonic() < deadline:
            try:
                with self._post(path, {**fields, "csrf_token": self.csrf}, headers) as answer:
                    return answer.status
            except urllib.error.HTTPError as exc:
                if exc.code < 500 and exc.code != 429:
                    return exc.code
                self.server_errors += exc.code >= 500
            except RETRYABLE:
                pass
            self.retries += 1
            time.sleep(0.2)
        return 0  # never acknowledged


def test_a_worker_killed_mid_burst_loses_and_doubles_nothing(app, data, database_url, tmp_path, qcell):
    sid = _meeting(app)
    seeded = [_ask(app, sid, author, f"Câu hỏi sẵn của {author}") for author in ("member1", "member2", "member3")]
    names = [f"dvloi{i:02d}" for i in range(CLIENTS)]
    ids = {name: data.user(name, "DIST") for name in names}
    server, base = _serve(app, database_url, tmp_path / "instance")
    members, acknowledged, refused, done, crashed = {}, [], [], [], []
    try:
        start = threading.Barrier(CLIENTS + 1, timeout=DEADLINE_S)

        def burst(name: str) -> None:
            try:
                member = members[name] = Member(base, name)  # signing in is not part of the burst
                member.open_meeting(sid)
                start.wait()
                run(member, name)
            except Exception as exc:  # noqa: BLE001 — reported by the assertions below
                crashed.append(f"{name}: {type(exc).__name__}: {exc}")
                start.abort()

        def run(member: Member, name: str) -> None:
            deadline = time.monotonic() + DEADLINE_S
            actions = [("ask", f"{name} hỏi lần {i}") for i in range(ASKS_EACH)] + [("vote", q) for q in seeded]
            for kind, what in actions:
                if kind == "ask":
                    status = member.send(f"/questions/sessions/{sid}/ask", {"text": what}, deadline)
                else:
                    status = member.send(f"/questions/questions/{what}/vote", {"on": "1"}, deadline)
                (acknowledged if 200 <= status < 300 else refused).append((name, kind, what, status))
            done.append(name)

        threads = [threading.Thread(target=burst, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        before = _workers(server)
        try:
            start.wait()
        except threading.BrokenBarrierError:
            pytest.fail(f"a member could not sign in: {crashed}")
        deadline = time.monotonic() + DEADLINE_S
        total = CLIENTS * (ASKS_EACH + len(seeded))
        while len(acknowledged) + len(refused) < total // 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        victim = before[0]
        os.kill(victim, signal.SIGKILL)  # mid-burst: requests in its hands are cut off
        for thread in threads:
            thread.join(timeout=DEADLINE_S)
        while len(after := _workers(server)) < 2 and time.monotonic() < deadline + 10:
            time.sleep(0.1)  # gunicorn starts the replacement
    finally:
        server.terminate()
        server.wait(timeout=20)

    retries = sum(m.retries for m in members.values())
    server_errors = sum(m.server_errors for m in members.values())
    summary = f"{len(acknowledged)} acknowledged, {retries} retries, {server_errors} 5xx, refused: {refused[:5]}"
    assert victim not in after and len(after) == 2, "the killed worker was replaced"
    assert crashed == [] and sorted(done) == sorted(names) and refused == [], (crashed, summary)
    assert len(acknowledged) == total, summary
    assert server_errors == 0, summary

    with app.app_context():
        asked = Counter(db.session.scalars(select(Question.text).where(Question.session_id == sid)))
        expected_texts = {what for _n, kind, what, _s in acknowledged if kind == "ask"}
        assert {text: asked[text] for text in expected_texts} == {text: 1 for text in expected_texts}, summary
        assert sum(asked.values()) == len(expected_texts) + len(seeded)  # nothing doubled, nothing extra
        voters = {q: set(db.session.scalars(select(Vote.user_id).where(Vote.question_id == q))) for q in seeded}
        assert voters == {q: set(ids.values()) for q in seeded}, summary
        rows = dict(db.session.execute(select(Vote.question_id, func.count()).group_by(Vote.question_id)).all())
        counters = {q.id: q.votes for q in db.session.scalars(select(Question).where(Question.session_id == sid))}
        assert counters == {qid: rows.get(qid, 0) for qid in counters}, summary
        assert db.session.scalar(select(func.count(User.id)).where(User.username.in_(names))) == CLIENTS
