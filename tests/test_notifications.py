"""Notifications: the bell, reading, privacy, e-mail after commit only (a real SMTP server on loopback)."""

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from intranet.extensions import db
from intranet.models import User
from intranet.notifications import Notification, notify, send_pending


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, envelope.content.decode("utf-8", "replace")))
        return "250 OK"


@pytest.fixture
def smtp(app):
    import socket

    with socket.socket() as probe:  # a free loopback port for the real SMTP server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port)
    yield inbox
    controller.stop()
    app.config.update(SMTP_HOST="")


def _notify(app, user_id, title="Họp chi bộ", key=None, commit=True):
    with app.app_context():
        notify([db.session.get(User, user_id)], title, "Nội dung", "/scheduling/", key=key)
        if commit:
            db.session.commit()
            return send_pending(app)
        db.session.rollback()
        return send_pending(app)


def test_bell_counts_and_reading_clears(app, client, cell, login):
    _notify(app, cell["member"])
    _notify(app, cell["member"], title="Thứ hai")
    login("member1")
    home = client.get("/")
    assert 'id="unread-count">2<' in home.text
    with app.app_context():
        first = db.session.scalar(select(Notification.id).order_by(Notification.id))
    opened = client.post(f"/notifications/{first}/open")
    assert opened.location == "/scheduling/"
    assert 'id="unread-count">1<' in client.get("/").text
    client.post("/notifications/read-all")
    assert "unread-count" not in client.get("/").text
    assert "Thứ hai" in client.get("/notifications/").text


def test_someone_elses_notification_is_404(app, client, cell, login):
    _notify(app, cell["member"])
    with app.app_context():
        item = db.session.scalar(select(Notification.id))
    login("othermember")
    assert client.post(f"/notifications/{item}/open").status_code == 404
    assert "Họp chi bộ" not in client.get("/notifications/").text


def test_a_key_is_delivered_once(app, cell):
    _notify(app, cell["member"], key="reminder:1")
    _notify(app, cell["member"], key="reminder:1")
    with app.app_context():
        assert len(db.session.scalars(select(Notification)).all()) == 1


def test_mail_goes_out_after_commit_and_never_after_rollback(app, data, cell, smtp):
    with app.app_context():
        user = db.session.get(User, cell["member"])
        user.email = "member1@example.org"
        db.session.commit()
    assert _notify(app, cell["member"], commit=False) == 0
    assert smtp.messages == []
    assert _notify(app, cell["member"], title="Nhắc lịch họp") == 1
    ((recipients, content),) = smtp.messages
    assert recipients == ["member1@example.org"] and "/scheduling/" in content


def test_mail_failure_keeps_the_notification(app, cell):
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=9)  # nothing listens on the discard port
    try:
        with app.app_context():
            user = db.session.get(User, cell["member"])
            user.email = "member1@example.org"
            db.session.commit()
        assert _notify(app, cell["member"]) == 0
        with app.app_context():
            assert db.session.scalar(select(Notification.title)) == "Họp chi bộ"
    finally:
        app.config.update(SMTP_HOST="")


def test_notification_links_are_built_from_routes(app):
    """A notification links the route's path (``link_to``, no request needed: cron builds them too), and
    no notification in the code spells a path by hand."""
    import ast
    from pathlib import Path

    from intranet.notifications import link_to

    with app.app_context():
        assert link_to("scheduling.session", "documents", session_id=7) == "/scheduling/sessions/7#documents"
    root = Path(__file__).resolve().parent.parent
    for path in [*(root / "intranet").rglob("*.py"), *(root / "plugins").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "notify":
                links = [k.value for k in node.keywords if k.arg == "link"] + node.args[3:4]
                assert not any(isinstance(link, (ast.Constant, ast.JoinedStr)) for link in links), (
                    f"{path.relative_to(root)}:{node.lineno} writes a notification's link by hand; use link_to"
                )


def test_the_bell_costs_no_query_while_the_users_notifications_are_unchanged(app, client, cell, login):
    """Every page's frame shows the unread count; it is kept per user while the user's stamp (read with
    the user at sign-in) is unchanged, and follows every change made by any process: a new notification,
    one opened, all read."""
    from support import sql_statements

    _notify(app, cell["member"])
    login("member1")
    assert 'id="unread-count">1<' in client.get("/").text
    with sql_statements(app) as statements:
        assert 'id="unread-count">1<' in client.get("/").text
    assert not [s for s in statements if "FROM notification" in s], statements
    _notify(app, cell["member"], title="Thứ hai")  # written elsewhere (here: the test's own app context)
    assert 'id="unread-count">2<' in client.get("/").text
    with app.app_context():
        first = db.session.scalar(select(Notification.id).order_by(Notification.id))
    client.post(f"/notifications/{first}/open")
    assert 'id="unread-count">1<' in client.get("/").text
    client.post("/notifications/read-all")
    assert "unread-count" not in client.get("/").text
