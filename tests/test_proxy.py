"""Behind a proxy (INTRANET_TRUSTED_PROXIES): the client's address, scheme and host come from the
proxy's X-Forwarded-* headers; with the default (0) those headers are ignored, so nobody forges them."""

from __future__ import annotations

import pytest
from flask import url_for
from sqlalchemy import select
from support import PASSWORD, app_config

from intranet import create_app
from intranet.extensions import db
from intranet.models import UserSession

PROXY = "10.0.0.1"  # what the app sees as the peer: the proxy (nginx)
SLOWED = "Quá nhiều lần thử sai"


def _post_login(client, username, password, forwarded_for, **headers):
    return client.post(
        "/login",
        data={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": PROXY},
        headers={"X-Forwarded-For": forwarded_for, **headers},
    )


@pytest.fixture
def proxied(app, database_url, tmp_path):
    """The same database served as behind one nginx."""
    return create_app(app_config(database_url, tmp_path, TRUSTED_PROXIES=1, LOGIN_IP_LIMIT="6 per minute"))


def _session_addresses(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(UserSession.address)))


def test_forged_forwarded_for_changes_nothing_by_default(client, app, cell):
    # Five failures, each "from" a different forged address: they all count against the real peer.
    for i in range(5):
        assert _post_login(client, "member1", "wrong", f"192.0.2.{i}").status_code == 200
    slowed = _post_login(client, "member1", PASSWORD, "192.0.2.99")
    assert slowed.status_code == 429 and SLOWED in slowed.text
    client.post("/logout")
    assert _post_login(client, "bithu", PASSWORD, "192.0.2.50").status_code == 302
    assert _session_addresses(app) == [PROXY]


def test_behind_a_trusted_proxy_the_client_address_is_used(proxied, cell):
    client = proxied.test_client()
    for _ in range(5):
        assert _post_login(client, "member1", "wrong", "192.0.2.10").status_code == 200
    assert _post_login(client, "member1", PASSWORD, "192.0.2.10").status_code == 429  # that client is slowed
    assert _post_login(client, "member1", PASSWORD, "192.0.2.20").status_code == 302  # another gets in
    assert _session_addresses(proxied) == ["192.0.2.20"]


def test_the_rate_limit_counts_each_client_behind_the_proxy(proxied, cell):
    client = proxied.test_client()
    for i in range(6):  # different usernames: only the per-address limit applies
        assert _post_login(client, f"nobody{i}", "wrong", "192.0.2.30").status_code == 200
    assert _post_login(client, "nobody9", "wrong", "192.0.2.30").status_code == 429
    assert _post_login(client, "nobody9", "wrong", "192.0.2.31").status_code == 200


def test_only_the_trusted_hop_is_believed(proxied, cell):
    # A client sends its own X-Forwarded-For; nginx appends the real address: the last one counts.
    client = proxied.test_client()
    assert _post_login(client, "bithu", PASSWORD, "203.0.113.1, 192.0.2.40").status_code == 302
    assert _session_addresses(proxied) == ["192.0.2.40"]


def test_external_urls_use_the_public_scheme_and_host(proxied):
    seen = {}

    @proxied.get("/proxy-probe")
    def probe():
        seen["url"] = url_for("auth.login", _external=True)
        return ""

    forwarded = {
        "X-Forwarded-For": "192.0.2.1",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "intranet.example.gov.vn",
        "X-Forwarded-Port": "443",
    }
    proxied.test_client().get("/proxy-probe", base_url="http://127.0.0.1:8000", headers=forwarded)
    assert seen["url"] == "https://intranet.example.gov.vn/login"
