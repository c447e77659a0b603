"""More than one machine: two gunicorn instances (two ports standing for two hosts) behind the same
nginx upstream, sharing PostgreSQL, Redis and SECRET_KEY. A live event published through one reaches a
client attached to the other, and a sign-in made through nginx holds on both.

Runs when INTRANET_TEST_DATABASE_URL and REDIS_URL are set (CI's second pass) and nginx is installed."""

from __future__ import annotations

import http.client
import os
import re
from pathlib import Path

import pytest
from support import serve
from test_nginx import NGINX, Client, Nginx, Stream, ask, production_env

pytestmark = [
    pytest.mark.skipif(
        not (os.environ.get("INTRANET_TEST_DATABASE_URL") and os.environ.get("REDIS_URL")),
        reason="scale-out needs a shared database and Redis: set INTRANET_TEST_DATABASE_URL and REDIS_URL",
    ),
    pytest.mark.skipif(
        not Path(NGINX).exists(),
        reason="nginx is not installed: `sudo apt-get install nginx` (make test does it as root)",
    ),
]


@pytest.fixture
def hosts(app, database_url, tmp_path):
    """Two app servers behind one nginx; yields (nginx, [(port, instance folder)])."""
    servers = [
        serve(
            app, database_url, tmp_path / name, **production_env(GUNICORN_CMD_ARGS="--keep-alive 75 --access-logfile -")
        )
        for name in ("host-a", "host-b")
    ]
    ports = [int(base.rsplit(":", 1)[1]) for _, base in servers]
    proxy = Nginx(tmp_path / "nginx", ports)
    try:
        yield proxy.start(), list(zip(ports, (tmp_path / "host-a", tmp_path / "host-b")))
    finally:
        proxy.stop()
        for server, _ in servers:
            server.terminate()
            server.wait(timeout=20)


def _direct(port: int, client: Client, path: str) -> http.client.HTTPResponse:
    """A request straight to one app server, with the cookies the browser got through nginx."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Cookie": "; ".join(f"{k}={m.value}" for k, m in client.cookies.items())})
    return conn.getresponse()


def test_nginx_spreads_requests_over_both_hosts_and_a_session_holds_on_each(hosts, cell):
    proxy, apps = hosts
    browser = Client(proxy)
    assert browser.sign_in("bithu")[0].status == 302
    for _ in range(4):
        assert browser.request("GET", "/account")[0].status == 200
    for port, instance in apps:
        assert _direct(port, browser, "/account").status == 200  # not sent to the sign-in page
        # nginx reached this host too (its access log names the proxied requests).
        assert re.search(r'"GET /account HTTP/1\.[01]" 200', (instance / "server.log").read_text())


def test_a_live_event_crosses_from_one_host_to_a_client_on_the_other(hosts, app, cell):
    from test_questions import _meeting

    proxy, apps = hosts
    sid = _meeting(app)
    listener = Client(proxy, "127.0.0.4")
    assert listener.sign_in("member1")[0].status == 302
    response = listener.open("GET", f"/questions/sessions/{sid}/stream", timeout=60)
    assert response.status == 200
    stream = Stream(response)
    assert stream.wait_for("event: queue\n"), "the stream did not open"
    # One question asked on each host: whichever host holds the stream, one of them came from the other.
    for (port, _), text in zip(apps, ("Hỏi qua máy A", "Hỏi qua máy B")):
        asker = _HostClient(proxy, port)
        assert asker.sign_in("bithu")[0].status == 302
        assert ask(asker, sid, text) == 204
    assert stream.wait_for("Hỏi qua máy A") and stream.wait_for("Hỏi qua máy B"), stream.text[-800:]
    response.close()


class _HostClient(Client):
    """A client that talks to one app server directly (as nginx would when it picks that host)."""

    def __init__(self, proxy: Nginx, port: int) -> None:
        super().__init__(proxy)
        self.port = port

    def connect(self, timeout: float = 30):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
