"""The production push engine, for real: Debian's Pushpin (installed by `make test` as root) in front of
gunicorn processes that share the database and a private Redis. Pushpin holds the streams; the app
decides who may subscribe and publishes each change once."""

from __future__ import annotations

import http.client
import threading
import time
import urllib.parse
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import jwt
import pytest
from pushpin_harness import MISSING, available, free_port, pushpin, redis_server
from support import Browser, app_config, serve
from test_questions import _meeting, _office

KEY = "test-pushpin-key-of-thirty-two-bytes!"


def _grip_sig(key: str) -> str:
    return jwt.encode({"iss": "pushpin", "exp": datetime.now(UTC) + timedelta(minutes=5)}, key, algorithm="HS256")


# --- the app side, without the engine --------------------------------------------------------------


@pytest.fixture
def grip_app(database_url, tmp_path):
    from intranet import create_app

    return create_app(
        app_config(database_url, tmp_path / "instance", PUSHPIN_SIG_KEY=KEY, PUSHPIN_PUBLISH_URLS="http://127.0.0.1:9")
    )


def test_a_signed_request_gets_a_hold_on_the_granted_channels_only(grip_app, app, qcell, login):
    sid = _meeting(app)
    client = grip_app.test_client()
    login("member2", c=client)
    held = client.get(f"/questions/sessions/{sid}/stream", headers={"Grip-Sig": _grip_sig(KEY)})
    assert held.status_code == 200 and held.headers["Grip-Hold"] == "stream"
    channels = [c.strip() for c in held.headers["Grip-Channel"].split(",")]
    member2 = qcell["m2"]
    assert f"questions:{sid}:queue|queue|queue:votes|vi" in channels
    assert f"questions:{sid}:mine:{member2}|mine" in channels  # per-user: announced, never rendered by the publisher
    assert not any(f":mine:{qcell['m3']}" in c for c in channels)
    assert "event: queue\n" in held.text and "event: mine\n" in held.text  # the initial frames, in full

    # Someone else's key, or no signature at all: not Pushpin, so the stream is served in-process.
    forged = client.get(
        f"/questions/sessions/{sid}/stream",
        headers={"Grip-Sig": _grip_sig("a-key-that-is-not-the-shared-one-at-all")},
        buffered=False,
    )
    assert "Grip-Hold" not in forged.headers and forged.mimetype == "text/event-stream"
    forged.close()


# --- through the real Pushpin -----------------------------------------------------------------------

pushpin_only = pytest.mark.skipif(not available(), reason=MISSING)


@pytest.fixture
def redis_url():
    with redis_server() as url:
        yield url


def _open(base: str, path: str, cookies: str = "") -> http.client.HTTPResponse:
    parts = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", path, headers={"Cookie": cookies} if cookies else {})
    return conn.getresponse()


def _cookies(browser: Browser) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in browser.jar)


class Frames:
    """Reads a held stream in a thread; ``wait_for`` polls what arrived (no timing asserted)."""

    def __init__(self, response: http.client.HTTPResponse) -> None:
        self.text, self.ended = "", threading.Event()
        threading.Thread(target=self._read, args=(response,), daemon=True).start()

    def _read(self, response) -> None:
        try:
            while chunk := response.read1(65536):
                self.text += chunk.decode()
        except (OSError, ValueError, http.client.HTTPException):  # the engine stops when the test ends
            pass
        self.ended.set()

    def wait_for(self, needle: str, seconds: float = 15) -> bool:
        deadline = time.monotonic() + seconds
        while needle not in self.text and time.monotonic() < deadline:
            time.sleep(0.05)
        return needle in self.text


@pushpin_only
def test_a_client_held_through_pushpin_gets_what_another_instance_publishes(
    app, database_url, tmp_path, qcell, redis_url
):
    sid = _meeting(app)
    port_a = free_port()
    with pushpin([f"127.0.0.1:{port_a}"], KEY) as engine:
        env = {"REDIS_URL": redis_url, "INTRANET_PUSHPIN_SIG_KEY": KEY, "INTRANET_PUSHPIN_PUBLISH_URLS": engine.control}
        server_a, base_a = serve(app, database_url, tmp_path / "a", port=port_a, **env)
        server_b, base_b = serve(app, database_url, tmp_path / "b", **env)
        try:
            listener, asker = Browser(), Browser()
            listener.sign_in(base_a, "member2")
            asker.sign_in(base_b, "member1")
            stream = _open(engine.base, f"/questions/sessions/{sid}/stream", _cookies(listener))
            assert stream.status == 200
            frames = Frames(stream)
            assert frames.wait_for("event: mine\n"), frames.text
            assert engine.logged(f"channel=questions:{sid}:queue|queue")  # Pushpin subscribed it

            # Instance A is gone: no app process holds the stream any more, Pushpin does.
            server_a.terminate()
            server_a.wait(timeout=20)
            token = asker.token(f"{base_b}/questions/sessions/{sid}")
            answer = asker.post(
                f"{base_b}/questions/sessions/{sid}/ask",
                {"text": "Qua Pushpin từ máy chủ B", "csrf_token": token},
                {"X-Outbox": "1"},
            )
            assert answer.status == 204
            assert frames.wait_for("Qua Pushpin từ máy chủ B"), frames.text

            # A per-user region is announced, not rendered for everyone: the listener asks through B.
            listener_token = listener.token(f"{base_b}/questions/sessions/{sid}")
            listener.post(
                f"{base_b}/questions/sessions/{sid}/ask",
                {"text": "Câu hỏi của tôi", "csrf_token": listener_token},
                {"X-Outbox": "1"},
            )
            assert frames.wait_for("event: changed\ndata: mine\n"), frames.text
            assert "Câu hỏi của tôi" in frames.text  # and the shared queue shows it to all
        finally:
            for server in (server_a, server_b):
                server.terminate()
                server.wait(timeout=20)


@pushpin_only
def test_pushpin_holds_nothing_the_app_refuses(app, data, database_url, tmp_path, qcell, redis_url):
    sid = _meeting(app)
    port = free_port()
    with pushpin([f"127.0.0.1:{port}"], KEY) as engine:
        env = {
            "REDIS_URL": redis_url,
            "INTRANET_PUSHPIN_SIG_KEY": KEY,
            "INTRANET_PUSHPIN_PUBLISH_URLS": engine.control,
            "INTRANET_LIVE_STREAM_MAX_SECONDS": "3",
        }
        server, base = serve(app, database_url, tmp_path / "a", port=port, **env)
        try:
            path = f"/questions/sessions/{sid}/stream"
            signed_out = _open(engine.base, path)
            assert signed_out.status == 302 and "/login" in signed_out.headers["Location"]
            stranger = Browser()
            stranger.sign_in(base, "othermember")  # another office
            assert _open(engine.base, path, _cookies(stranger)).status in (403, 404)
            member = Browser()
            member.sign_in(base, "member2")
            data.enable("questions", "DIST", False)
            assert _open(engine.base, path, _cookies(member)).status == 404
            assert "subscribe" not in engine.log_text()  # no hold was granted to any of them

            data.enable("questions", "DIST", True)  # the same request, allowed, is held
            held = _open(engine.base, path, _cookies(member))
            frames = Frames(held)
            assert held.status == 200 and frames.wait_for("event: queue\n")
            assert engine.logged("subscribe")
            # Held streams end at their age, like in-process ones: the reconnection re-checks rights.
            assert frames.ended.wait(timeout=30)
        finally:
            server.terminate()
            server.wait(timeout=20)


# --- a plugin switch or a change of rights ends the held streams it concerns -------------------------


SPREAD = 2  # INTRANET_LIVE_RECHECK_SPREAD_SECONDS of the served app


@pytest.fixture
def held(app, cell, database_url, tmp_path, redis_url):
    """Pushpin in front of an app server, the district's administrator signed in there, and streams
    opened through Pushpin."""
    port = free_port()
    with pushpin([f"127.0.0.1:{port}"], KEY) as engine:
        env = {
            "REDIS_URL": redis_url,
            "INTRANET_PUSHPIN_SIG_KEY": KEY,
            "INTRANET_PUSHPIN_PUBLISH_URLS": engine.control,
            "INTRANET_LIVE_RECHECK_SPREAD_SECONDS": str(SPREAD),
            "INTRANET_LIVE_HEARTBEAT_SECONDS": "2",  # a quiet stream is not taken for an ended one
        }
        server, base = serve(app, database_url, tmp_path / "a", port=port, **env)
        admin = Browser()
        admin.sign_in(base, "distadmin")
        with app.app_context():
            dist = _office("DIST").id

        def stream(username: str, path: str) -> tuple[Browser, Frames]:
            browser = Browser()
            browser.sign_in(base, username)
            frames = Frames(_open(engine.base, path, _cookies(browser)))
            assert frames.wait_for("event: "), frames.text
            return browser, frames

        def again(browser: Browser, path: str) -> int:
            return _open(engine.base, path, _cookies(browser)).status

        def as_admin(page: str, action: str, fields: dict) -> None:
            token = admin.token(base + page)
            admin.post(base + action, {**fields, "csrf_token": token})

        try:
            yield SimpleNamespace(base=base, stream=stream, again=again, as_admin=as_admin, dist=dist)
        finally:
            server.terminate()
            server.wait(timeout=20)


@pushpin_only
def test_a_held_stream_ends_when_its_office_switches_the_plugin_off(app, qcell, held):
    """Found by an adversarial review: Pushpin kept a switched-off plugin's stream open, carrying its
    publishes, until LIVE_STREAM_MAX_SECONDS. Another office's stream goes on."""
    sid, elsewhere = _meeting(app), _meeting(app, code="OTHER")
    member, frames = held.stream("member2", f"/questions/sessions/{sid}/stream")
    other_member, other = held.stream("othermember", f"/questions/sessions/{elsewhere}/stream")
    held.as_admin("/admin/plugins", f"/admin/plugins/{held.dist}/questions", {"enabled": "0"})
    assert frames.ended.wait(timeout=30), "the held stream outlives the plugin switched off"
    assert held.again(member, f"/questions/sessions/{sid}/stream") == 404  # its reconnection is refused
    token = other_member.token(f"{held.base}/questions/sessions/{elsewhere}")
    other_member.post(
        f"{held.base}/questions/sessions/{elsewhere}/ask",
        {"text": "Tỉnh khác vẫn nhận", "csrf_token": token},
        {"X-Outbox": "1"},
    )
    assert other.wait_for("Tỉnh khác vẫn nhận"), other.text
    assert not other.ended.wait(timeout=SPREAD + 2)  # past every close the switch scheduled


@pushpin_only
def test_a_held_stream_ends_when_its_user_loses_the_right(app, qcell, held):
    """The deputy chairs by default (questions.moderate); the office revokes it: the chair page's held
    stream (moderation region, chair-only authors' names) ends and its reconnection is refused."""
    sid = _meeting(app)
    path = f"/questions/sessions/{sid}/stream?page=chair"
    deputy, frames = held.stream("phobithu", path)
    assert frames.wait_for("event: moderation\n"), frames.text
    held.as_admin("/admin/roles", f"/admin/roles/{held.dist}", {"shown": "questions.moderate:deputy"})
    assert frames.ended.wait(timeout=30), "the held stream outlives the right revoked"
    assert held.again(deputy, path) == 403


@pushpin_only
def test_a_held_stream_ends_when_its_account_is_deactivated(app, qcell, held):
    """Its own held streams end (the reconnection is sent to sign in); another member's go on."""
    sid = _meeting(app)
    member_path = f"/questions/sessions/{sid}/stream"
    member, theirs = held.stream("member2", member_path)
    _, other = held.stream("member1", member_path)
    held.as_admin(f"/admin/users/{qcell['m2']}", f"/admin/users/{qcell['m2']}/active", {})
    assert theirs.ended.wait(timeout=30), "the held stream outlives its account"
    assert held.again(member, member_path) == 302
    assert not other.ended.wait(timeout=SPREAD + 2)  # past every close the deactivation scheduled
