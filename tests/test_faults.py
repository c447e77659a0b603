"""Faults and abuse the intranet must survive (issue 11): a body too large for its view, a plugin
switched off, SQLite under a meeting's load, Redis going away and coming back."""

from __future__ import annotations

import http.cookiejar
import io
import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
import redis
from flask import url_for
from sqlalchemy import func, select
from support import PASSWORD, Browser, RedisServer, serve
from test_questions import _meeting
from werkzeug.serving import make_server

from intranet.extensions import db
from intranet.models import Office, User
from intranet.plugins import manager


class _Body(io.RawIOBase):
    """A request body of ``size`` bytes made as it is read, counting what the server read."""

    def __init__(self, size: int) -> None:
        self.size, self.consumed = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self.size - self.consumed)
        buffer[:n] = b"a" * n
        self.consumed += n
        return n


# --- item 14: the body-size cap holds before anything reads the form ---------------------------------


@pytest.mark.parametrize("csrf", [True, False])
def test_an_oversize_login_form_is_refused_unread(app, client, csrf):
    size = 59 * 1024 * 1024
    body = _Body(size)
    app.config["WTF_CSRF_ENABLED"] = csrf
    try:
        response = client.post(
            "/login",
            content_type="application/x-www-form-urlencoded",
            environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(size)},
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 413 and "Dữ liệu gửi lên quá lớn." in response.text
    assert body.consumed == 0  # refused on its Content-Length, before a byte was read


def test_a_chunked_body_is_cut_off_at_the_cap(app, client):
    body = _Body(59 * 1024 * 1024)
    app.config["WTF_CSRF_ENABLED"] = True
    try:  # no Content-Length: the server marks the stream as terminated (chunked transfer)
        response = client.post(
            "/login",
            content_type="application/x-www-form-urlencoded",
            environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True},
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 413 and "Dữ liệu gửi lên quá lớn." in response.text
    assert body.consumed <= 2 * app.config["MAX_FORM_SIZE"]


# --- item 15: a plugin switched off answers nothing, a 304 included -----------------------------------

PLUGINS_OFF_ORDER = ("hello_extra", "hello", "questions", "meetings", "evaluations", "votes", "scheduling")


def _url(app, rule, ids: dict) -> str:
    declared = getattr(app.view_functions[rule.endpoint], "live_regions", None)  # a poll: one of its regions
    ids = {**ids, "regions": next(iter(declared.regions))} if declared else ids
    values = {arg: ids.get(arg, 1) for arg in rule.arguments if arg not in (rule.defaults or {})}
    with app.test_request_context():
        return url_for(rule.endpoint, **values)


def test_every_route_of_a_switched_off_plugin_answers_404(app, data, qcell, login):
    from intranet_scheduling import calendar

    for name in ("hello", "hello_extra"):
        data.enable(name, "DIST")
    sid = _meeting(app)
    with app.app_context():
        token = calendar.issue_token(db.session.get(User, qcell["member"]))
        db.session.commit()
        office_id = db.session.scalar(select(Office.id).where(Office.code == "DIST"))
    ids = {"session_id": sid, "office_id": office_id, "token": token, "filename": "x.js", "year": 2026, "month": 1}
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.split(".")[0] in manager(app)._blueprint_owner]
    polls = [r for r in rules if getattr(app.view_functions[r.endpoint], "_live_channel", None)]
    assert len(polls) >= 3 and any(r.endpoint == "meetings.ping" for r in rules)
    clients = {username: app.test_client() for username in ("member1", "bithu", "distadmin")}
    for username, client in clients.items():
        login(username, c=client)

    # While the plugins are on, each poll hands out an ETag that an unchanged poll is answered 304 to.
    tags = {}
    for rule in polls:
        url = _url(app, rule, ids)
        first = clients["bithu"].get(url)
        assert first.status_code == 200 and first.headers.get("ETag"), url
        assert clients["bithu"].get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
        tags[url] = first.headers["ETag"]

    for name in PLUGINS_OFF_ORDER:
        data.enable(name, "DIST", enabled=False)
    anonymous = app.test_client()
    served = []
    for rule in rules:
        url = _url(app, rule, ids)
        for method in sorted(rule.methods & {"GET", "POST"}):
            for username, client in clients.items():
                response = client.open(url, method=method, headers={"If-None-Match": tags[url]} if url in tags else {})
                if response.status_code != 404:
                    served.append((username, method, url, response.status_code))
                response.close()
            # Anonymous: 404, or the sign-in page (which tells nothing about the office's plugins).
            response = anonymous.open(url, method=method, headers={"If-None-Match": tags[url]} if url in tags else {})
            if response.status_code != 404 and "/login" not in response.headers.get("Location", ""):
                served.append(("anonymous", method, url, response.status_code))
            response.close()
    assert served == []

    # An invited-guest route is judged by the meeting's office: a user of another office, where the
    # plugins are on, gets nothing of this office's meeting either.
    guest = app.test_client()
    login("othermember", c=guest)
    for rule in rules:
        if getattr(app.view_functions[rule.endpoint], "_intranet_office_of", None) is not None:
            for method in sorted(rule.methods & {"GET", "POST"}):
                assert guest.open(_url(app, rule, ids), method=method).status_code == 404, rule.rule


# --- item 2: Redis goes away mid-run, and comes back ------------------------------------------------


def _health(base: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(base + "/readyz", timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def _until(check, seconds: float = 60):
    """Poll ``check`` until it returns something true (bounded: the test fails, it does not hang)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"{check.__name__} never held")


def _open(browser: Browser, url: str, fields: dict | None = None):
    """(status, headers, first bytes of the body), errors included."""
    try:
        request = urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode() if fields else None)
        with browser.opener.open(request, timeout=10) as response:
            return response.status, response.headers, response.read(200).decode(errors="replace")
    except urllib.error.HTTPError as err:
        return err.code, err.headers, err.read(200).decode(errors="replace")


def _fail_login(browser: Browser, base: str, username: str) -> int:
    fields = {"username": username, "password": "wrong password", "csrf_token": browser.token(base + "/login")}
    return _open(browser, base + "/login", fields)[0]


def test_the_intranet_keeps_working_while_redis_is_away(app, database_url, tmp_path, qcell):
    sid = _meeting(app)
    redis_server = RedisServer(tmp_path).start()
    server, base = serve(app, database_url, tmp_path / "instance", REDIS_URL=redis_server.url)
    stream_url, poll_url = f"{base}/questions/sessions/{sid}/stream", f"{base}/questions/sessions/{sid}/poll/queue"
    try:
        status, health = _health(base)
        assert status == 200 and health["status"] == "ok", health
        assert health["live_bus"]["backend"] == "redis" and health["rate_limits"]["backend"] == "redis"
        member = Browser()
        assert "/login" not in member.sign_in(base, "member1").geturl()
        code, headers, body = _open(member, stream_url)
        assert code == 200 and headers.get_content_type() == "text/event-stream" and body.startswith("retry:")

        redis_server.kill()
        # /readyz tells the load balancer "degraded", not "take me out".
        status, health = _until(lambda: (lambda h: h if h[1]["status"] == "degraded" else None)(_health(base)))
        assert status == 200 and health["database"]["status"] == "ok"
        assert health["live_bus"]["status"] == "down" and health["rate_limits"]["status"] == "fallback"
        # Signing in works.
        other = Browser()
        assert "/login" not in other.sign_in(base, "member2").geturl()
        # The sign-in limit still limits, counted in the process: 5 failures, then 429.
        attacker = Browser()
        assert [_fail_login(attacker, base, "bithu") for _ in range(5)] == [200] * 5
        assert _fail_login(attacker, base, "bithu") == 429
        # A live page's stream answers "poll instead" (503, Retry-After), not an error page; polls render.
        code, headers, body = _open(member, stream_url)
        assert code == 503 and headers["Retry-After"] and headers.get_content_type() == "text/plain"
        assert "<html" not in body.lower()
        code, _headers, body = _open(member, poll_url)
        assert code == 200 and "<html" not in body.lower()

        redis_server.start()  # Redis comes back (empty: it saved nothing)
        _until(lambda: _health(base)[1]["status"] == "ok", seconds=90)
        # The limits count in Redis again, and the stream opens again.
        _fail_login(Browser(), base, "member3")
        assert redis.Redis.from_url(redis_server.url).keys("LIMITS*")
        code, headers, body = _open(member, stream_url)
        assert code == 200 and body.startswith("retry:")
    finally:
        server.terminate()
        server.wait(timeout=20)
        redis_server.kill()
    log = (tmp_path / "instance" / "server.log").read_text()
    assert "falling back to in-memory storage" in log  # the operator is told
    assert "Traceback" not in log


# --- item 13: the embedded default (SQLite) holds a meeting of 50 -----------------------------------

CLIENTS = 50


class _Member:
    """One participant's browser against a real server (the session app: CSRF off)."""

    def __init__(self, base: str, username: str) -> None:
        self.base, self.opener = (
            base,
            urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())),
        )
        self.statuses: list[tuple[str, int]] = []
        self.send("/login", {"username": username, "password": PASSWORD})

    def send(self, path: str, fields: dict | None = None) -> None:
        data = urllib.parse.urlencode(fields).encode() if fields is not None else None
        request = urllib.request.Request(self.base + path, data=data, headers={"X-Outbox": "1"})
        try:
            with self.opener.open(request, timeout=60) as response:
                response.read()
                self.statuses.append((path, response.status))
        except urllib.error.HTTPError as err:
            self.statuses.append((path + " " + err.read(300).decode(errors="replace"), err.code))


def _all_at_once(members: list, action) -> None:
    start = threading.Barrier(len(members))

    def run(index: int, member) -> None:
        start.wait()
        action(index, member)

    threads = [threading.Thread(target=run, args=(i, m)) for i, m in enumerate(members)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)


def test_sqlite_holds_a_meeting_of_50_concurrent_clients(app, data, qcell):
    from intranet_questions.models import Question, Vote

    sid = _meeting(app)
    usernames = [f"dv{i:02d}" for i in range(CLIENTS)]
    user_ids = [data.user(username, "DIST") for username in usernames]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        members: list[_Member] = [None] * CLIENTS

        def sign_in(index: int, _member) -> None:
            members[index] = _Member(base, usernames[index])

        _all_at_once(members, sign_in)
        # Everyone asks at once, then everyone votes for ten others' questions while polling the queue.
        _all_at_once(members, lambda i, m: m.send(f"/questions/sessions/{sid}/ask", {"text": f"Câu hỏi số {i}"}))
        with app.app_context():
            asked = db.session.execute(
                select(Question.id, Question.author_id).where(Question.session_id == sid).order_by(Question.id)
            ).all()
        assert len(asked) == CLIENTS
        position = {author: k for k, (_id, author) in enumerate(asked)}

        def vote(index: int, member: _Member) -> None:  # for the ten questions asked after one's own
            own = position[user_ids[index]]
            for step in range(1, 11):
                member.send(f"/questions/questions/{asked[(own + step) % CLIENTS][0]}/vote", {"on": "1"})
                member.send(f"/questions/sessions/{sid}/poll/queue")

        _all_at_once(members, vote)
    finally:
        server.shutdown()
    failed = [(path, status) for m in members for path, status in m.statuses if status >= 400]
    assert failed == []
    assert len(members) == CLIENTS and all(len(m.statuses) == 22 for m in members)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Vote).where(Vote.session_id == sid)) == 10 * CLIENTS
        counts = db.session.execute(
            select(Question.votes, func.count(Vote.question_id))
            .outerjoin(Vote, Vote.question_id == Question.id)
            .where(Question.session_id == sid)
            .group_by(Question.id)
        ).all()
        assert all(stored == rows == 10 for stored, rows in counts)
