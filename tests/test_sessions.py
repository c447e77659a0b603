"""Server-side sessions: sign-out ends a session for every copy of its cookies; my sessions; admin."""

from datetime import timedelta

from sqlalchemy import func, select, update
from support import PASSWORD

from intranet.extensions import db
from intranet.models import AuditEvent, utcnow

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
PHONE = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def _rows():
    from intranet.models import UserSession  # here, so that the behaviour tests run on the old code too

    return UserSession


def _sign_in(app, username="member1", user_agent=FIREFOX, remember=False):
    c = app.test_client()
    data = {"username": username, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    assert c.post("/login", data=data, headers={"User-Agent": user_agent}).status_code == 302
    return c


def _copy(app, client, *names):
    """A second browser holding copies of ``client``'s cookies (e.g. stolen ones)."""
    thief = app.test_client()
    for name in names:
        thief.set_cookie(name, client.get_cookie(name).value)
    return thief


def _signed_in(c) -> bool:
    return c.get("/").status_code == 200


def test_a_copied_session_cookie_stops_working_after_sign_out(app, cell):
    owner = _sign_in(app)
    thief = _copy(app, owner, "session")
    assert _signed_in(thief)
    owner.post("/logout")
    assert not _signed_in(thief)


def test_a_copied_remember_me_cookie_stops_working_after_sign_out(app, cell):
    owner = _sign_in(app, remember=True)
    # No session cookie: Flask-Login restores the session from the remember-me cookie alone.
    thief, later_thief = _copy(app, owner, "remember_token"), _copy(app, owner, "remember_token")
    assert _signed_in(thief)
    owner.post("/logout")
    assert not _signed_in(thief) and not _signed_in(later_thief)


def test_signing_in_gives_a_fresh_session_and_csrf_token(app, client, cell):
    with client.session_transaction() as planted:  # a fixated cookie: an attacker's CSRF token and user id
        planted["csrf_token"] = "planted-by-attacker"
        planted["lang"] = "en"
    client.post("/login", data={"username": "member1", "password": PASSWORD})
    with client.session_transaction() as after:
        assert after.get("csrf_token") != "planted-by-attacker"
        assert after["lang"] == "en"  # the language choice survives
        token = after["_user_id"]
    client.post("/logout")
    client.post("/login", data={"username": "member1", "password": PASSWORD})
    with client.session_transaction() as again:
        assert again["_user_id"] != token  # every sign-in names a new server-side session


def test_my_sessions_are_listed_and_one_can_be_ended(app, cell):
    UserSession = _rows()
    laptop = _sign_in(app, user_agent=FIREFOX)
    phone = _sign_in(app, user_agent=PHONE)
    page = laptop.get("/account", headers={"User-Agent": FIREFOX}).text
    assert "Firefox</strong> — Linux" in page and "Chrome Mobile</strong> — Android" in page
    assert page.count("Kết thúc phiên này") == 1 and "Đăng xuất tại đây" in page  # this browser is marked
    with app.app_context():
        rows = db.session.scalars(select(UserSession).order_by(UserSession.id)).all()
        phone_id = rows[1].id
    assert laptop.post(f"/account/sessions/{phone_id}/end").status_code == 302
    assert not _signed_in(phone) and _signed_in(laptop)


def test_ending_this_browser_signs_me_out(app, cell):
    UserSession = _rows()
    laptop = _sign_in(app)
    with app.app_context():
        row_id = db.session.scalar(select(UserSession.id))
    response = laptop.post(f"/account/sessions/{row_id}/end")
    assert response.location.endswith("/login") and not _signed_in(laptop)


def test_sign_out_of_all_devices(app, cell):
    laptop, phone, other = _sign_in(app), _sign_in(app, user_agent=PHONE), _sign_in(app, "bithu")
    response = phone.post("/account/sessions/end-all")
    assert response.location.endswith("/login")
    assert not _signed_in(laptop) and not _signed_in(phone)
    assert _signed_in(other)  # someone else's session is untouched
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.action == "user.end_sessions"))


def test_nobody_ends_someone_elses_session(app, cell):
    UserSession = _rows()
    victim = _sign_in(app, "bithu")
    attacker = _sign_in(app)
    with app.app_context():
        victim_row = db.session.scalar(select(UserSession.id).where(UserSession.user_id == cell["secretary"]))
    assert attacker.post(f"/account/sessions/{victim_row}/end").status_code == 404
    assert _signed_in(victim)


def test_an_office_admin_ends_a_users_sessions(app, cell):
    member = _sign_in(app)
    admin = _sign_in(app, "distadmin")
    outsider = _sign_in(app, "otheradmin")
    page = admin.get(f"/admin/users/{cell['member']}").text
    assert "Firefox</strong> — Linux" in page
    assert outsider.post(f"/admin/users/{cell['member']}/end-sessions").status_code == 404
    assert _signed_in(member)
    assert admin.post(f"/admin/users/{cell['member']}/end-sessions").status_code == 302
    assert not _signed_in(member) and _signed_in(admin)
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.end_sessions"))
        assert event.actor_id == cell["dist_admin"] and event.object_id == str(cell["member"])
        assert event.details == {"count": 1}


def test_password_change_ends_the_other_sessions_only(app, cell):
    laptop, phone = _sign_in(app), _sign_in(app, user_agent=PHONE)
    response = laptop.post(
        "/account/password",
        data={"current_password": PASSWORD, "new_password": "another good one", "confirm": "another good one"},
    )
    assert response.status_code == 302
    assert _signed_in(laptop) and not _signed_in(phone)


def test_last_seen_is_written_at_most_once_per_interval(app, cell):
    UserSession = _rows()
    laptop = _sign_in(app)
    long_ago = utcnow() - timedelta(hours=1)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=long_ago))
        db.session.commit()
    laptop.get("/")
    with app.app_context():
        seen = db.session.scalar(select(UserSession.last_seen_at))
        assert seen > long_ago + timedelta(minutes=30)
        recent = utcnow() - timedelta(seconds=10)
        db.session.execute(update(UserSession).values(last_seen_at=recent))
        db.session.commit()
    laptop.get("/")
    laptop.get("/account")
    with app.app_context():
        assert db.session.scalar(select(UserSession.last_seen_at)) == recent  # within the interval: no write


def test_idle_sessions_are_pruned_at_the_next_sign_in(app, cell):
    UserSession = _rows()
    _sign_in(app)
    with app.app_context():
        db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    _sign_in(app)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1
