"""Sign-in, rate limits, forced password change, sessions, cookies, my account."""

from support import PASSWORD

from intranet.models import User

WRONG = "Sai tên đăng nhập hoặc mật khẩu."


def test_sign_in_and_out(client, cell, login):
    assert client.get("/").status_code == 302
    login("member1")
    home = client.get("/")
    assert home.status_code == 200 and "Xin chào, Member1" in home.text
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_wrong_password_and_unknown_user_get_the_same_answer(client, cell):
    wrong = client.post("/login", data={"username": "member1", "password": "nope nope nope"})
    unknown = client.post("/login", data={"username": "ghost", "password": "nope nope nope"})
    assert wrong.status_code == unknown.status_code == 200
    assert WRONG in wrong.text and WRONG in unknown.text


def test_username_is_case_insensitive(client, cell):
    assert client.post("/login", data={"username": " Member1 ", "password": PASSWORD}).status_code == 302


def test_deactivated_user_cannot_sign_in_and_is_signed_out(client, app, data, cell, login):
    login("member1")
    from intranet.admin.services import set_active
    from intranet.extensions import db

    with app.app_context():
        set_active(db.session.get(User, cell["member"]), False)
        db.session.commit()
    assert client.get("/").status_code == 302  # the old session no longer works
    response = client.post("/login", data={"username": "member1", "password": PASSWORD})
    assert response.status_code == 200 and "đã bị khóa" in response.text
    # Someone without the password learns nothing about the account's state.
    response = client.post("/login", data={"username": "member1", "password": "not the password"})
    assert WRONG in response.text and "khóa" not in response.text


def test_address_is_rate_limited_across_accounts(app, client, cell):
    app.config["LOGIN_IP_LIMIT"] = "4 per 5 minutes"
    try:
        for name in ("a1", "a2", "a3", "a4"):
            client.post("/login", data={"username": name, "password": "whatever!!"})
        assert client.post("/login", data={"username": "member1", "password": PASSWORD}).status_code == 429
        other_ip = client.post(
            "/login", data={"username": "member1", "password": PASSWORD}, environ_base={"REMOTE_ADDR": "10.9.9.9"}
        )
        assert other_ip.status_code == 302
    finally:
        app.config["LOGIN_IP_LIMIT"] = "300 per 10 minutes"


def test_successful_sign_ins_do_not_count(app, client, cell):
    app.config["LOGIN_IP_LIMIT"] = "2 per 5 minutes"
    try:
        for _ in range(4):
            assert client.post("/login", data={"username": "member1", "password": PASSWORD}).status_code == 302
            client.post("/logout")
    finally:
        app.config["LOGIN_IP_LIMIT"] = "300 per 10 minutes"


def test_issued_password_must_be_changed_first(client, data, cell):
    data.user("fresh", "DIST", password=None)  # issued a temporary password
    from intranet.admin.services import reset_password
    from intranet.extensions import db

    with client.application.app_context():
        temp = reset_password(db.session.get(User, cell["member"]))
        db.session.commit()
    client.post("/login", data={"username": "member1", "password": temp})
    assert client.get("/").location.endswith("/account/password")
    assert client.get("/admin/").location.endswith("/account/password")
    weak = client.post(
        "/account/password", data={"current_password": temp, "new_password": "short", "confirm": "short"}
    )
    assert "Dùng ít nhất 10 ký tự." in weak.text
    with_name = client.post(
        "/account/password",
        data={"current_password": temp, "new_password": "member1-is-me", "confirm": "member1-is-me"},
    )
    assert "không được chứa tên đăng nhập" in with_name.text
    mismatch = client.post(
        "/account/password",
        data={"current_password": temp, "new_password": "a good long one", "confirm": "a good long two"},
    )
    assert "Hai mật khẩu không khớp." in mismatch.text
    wrong = client.post(
        "/account/password",
        data={"current_password": "nope", "new_password": "a good long one", "confirm": "a good long one"},
    )
    assert "Mật khẩu hiện tại không đúng." in wrong.text
    ok = client.post(
        "/account/password",
        data={"current_password": temp, "new_password": "a good long one", "confirm": "a good long one"},
    )
    assert ok.status_code == 302
    assert client.get("/").status_code == 200  # still signed in, with the new auth version


def test_password_reset_signs_out_other_sessions(client, app, cell, login):
    login("member1")
    from intranet.admin.services import reset_password
    from intranet.extensions import db

    with app.app_context():
        reset_password(db.session.get(User, cell["member"]))
        db.session.commit()
    assert client.get("/").status_code == 302


def test_session_cookie_flags(app, client, cell):
    response = client.post("/login", data={"username": "member1", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    from intranet import create_app

    production = create_app(
        {"DATABASE_URL": "sqlite://", "SECRET_KEY": "x", "ENV": "production", "INSTANCE_PATH": app.instance_path}
    )
    assert production.config["SESSION_COOKIE_SECURE"] and production.config["REMEMBER_COOKIE_SECURE"]


def test_next_parameter_cannot_leave_the_site(client, cell):
    response = client.post("/login?next=https://evil.example/", data={"username": "member1", "password": PASSWORD})
    assert response.location == "/"
    client.post("/logout")
    response = client.post("/login?next=/account", data={"username": "member1", "password": PASSWORD})
    assert response.location == "/account"


def test_my_account_page(client, app, cell, login):
    login("member1")
    page = client.get("/account")
    assert "member1" in page.text and "Đảng viên" in page.text
    response = client.post("/account", data={"full_name": "Nguyễn Văn A", "email": "a@example.org", "locale": "en"})
    assert response.status_code == 302
    page = client.get("/account")
    assert "My account" in page.text and 'value="Nguyễn Văn A"' in page.text
    bad = client.post("/account", data={"full_name": "", "email": "not-an-email", "locale": "en"})
    assert "This field is required." in bad.text and "Not a valid e-mail address." in bad.text
