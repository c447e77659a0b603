"""Faults and abuse the intranet must survive (issue 11): a body too large for its view, a plugin
switched off, SQLite under a meeting's load, Redis going away and coming back."""
from __future__ import annotations

import io

import pytest
from flask import url_for
from sqlalchemy import select

from intranet.extensions import db
from intranet.models import Office, User
from intranet.plugins import manager
from test_questions import _meeting


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
        response = client.post("/login", content_type="application/x-www-form-urlencoded",
                               environ_overrides={"wsgi.input": body, "CONTENT_LENGTH": str(size)})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 413 and "Dữ liệu gửi lên quá lớn." in response.text
    assert body.consumed == 0  # refused on its Content-Length, before a byte was read


def test_a_chunked_body_is_cut_off_at_the_cap(app, client):
    body = _Body(59 * 1024 * 1024)
    app.config["WTF_CSRF_ENABLED"] = True
    try:  # no Content-Length: the server marks the stream as terminated (chunked transfer)
        response = client.post("/login", content_type="application/x-www-form-urlencoded",
                               environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 413 and "Dữ liệu gửi lên quá lớn." in response.text
    assert body.consumed <= 2 * app.config["MAX_FORM_SIZE"]


# --- item 15: a plugin switched off answers nothing, a 304 included -----------------------------------

PLUGINS_OFF_ORDER = ("hello_extra", "hello", "questions", "meetings", "evaluations", "scheduling")


def _url(app, rule, ids: dict) -> str:
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
    ids = {"session_id": sid, "office_id": office_id, "token": token, "region": "queue", "filename": "x.js",
           "year": 2026, "month": 1}
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
