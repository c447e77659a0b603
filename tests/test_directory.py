"""Directory sign-in (plugins/directory) against a real OpenLDAP slapd (tests/slapd_harness.py): first
sign-in, refresh, removal and sync, refusals that tell nothing, TLS, failover, secrets, coexistence with
local accounts, lock-out, office isolation, a person in two offices."""

import json
import logging
import socket
import threading
import urllib.parse
import urllib.request

import pytest
from slapd_harness import (
    PASSWORD as DIRECTORY_PASSWORD,
)
from slapd_harness import (
    READER_SECRET,
    agency,  # noqa: F401  (two offices set up for the directory)
    configure,
    directory_server,  # noqa: F401  (the session's slapd)
    group,
    person,
)
from sqlalchemy import select
from support import PASSWORD, Browser, free_port, serve, throwaway_ca

from intranet.extensions import db
from intranet.models import AuditEvent, AuthSource, LoginThrottle, PartyStatus, Role, User

WRONG = "Sai tên đăng nhập hoặc mật khẩu."
UNREACHABLE = "Không thể kết nối tới thư mục"


def _sign_in(client, username, password=DIRECTORY_PASSWORD, address="127.0.0.1"):
    client.post("/logout")
    return client.post(
        "/login", data={"username": username, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def _user(app, username) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            user.role_set = {(a.office.code, a.role) for a in user.roles}
            user.office_code = user.office.code
            db.session.expunge_all()
        return user


def _audit(app, action):
    with app.app_context():
        return [e.details for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action == action))]


def test_first_sign_in_creates_the_account_in_its_office_with_its_roles(app, client, agency):
    response = _sign_in(client, "NguyenVanA")
    assert response.status_code == 302, response.text
    user = _user(app, "nguyenvana")
    assert user.auth_source == AuthSource.DIRECTORY and user.office_code == "VKS"
    assert user.role_set == {("VKS", Role.SECRETARY), ("VKS", Role.COMMITTEE), ("VKS", Role.MEMBER)}
    assert (user.full_name, user.email, user.party_status) == (
        "Nguyễn Văn A",
        "nguyenvana@agency.gov.vn",
        PartyStatus.OFFICIAL,
    )
    assert user.password_hash == "" and not user.must_change_password  # never a local password
    assert "Xin chào, Nguyễn Văn A" in client.get("/").text
    assert any(d.get("via") == "directory" for d in _audit(app, "user.create"))
    # the status from the attribute
    assert _sign_in(client, "tranthib").status_code == 302
    assert _user(app, "tranthib").party_status == PartyStatus.PROBATIONARY


def test_a_later_sign_in_refreshes_name_email_and_roles(app, client, agency, directory_server):
    assert _sign_in(client, "nguyenvana").status_code == 302
    directory_server.modify(person("nguyenvana"), cn=["Nguyễn Văn Anh"], mail=["anh@agency.gov.vn"])
    directory_server.remove_member(group("chibo-vkspd-chiuy"), person("nguyenvana"))
    try:
        assert _sign_in(client, "nguyenvana").status_code == 302
        user = _user(app, "nguyenvana")
        assert (user.full_name, user.email) == ("Nguyễn Văn Anh", "anh@agency.gov.vn")
        assert user.role_set == {("VKS", Role.SECRETARY), ("VKS", Role.MEMBER)}
        [refresh] = _audit(app, "directory.refresh")
        assert refresh["fields"] == {"full_name": "Nguyễn Văn Anh", "email": "anh@agency.gov.vn"}
        [revoked] = _audit(app, "role.revoke")
        assert revoked["user"] == "nguyenvana" and "committee" in str(revoked["role"]).lower()
    finally:
        directory_server.modify(person("nguyenvana"), cn=["Nguyễn Văn A"], mail=["nguyenvana@agency.gov.vn"])
        directory_server.add_member(group("chibo-vkspd-chiuy"), person("nguyenvana"))


def test_removed_from_the_groups_the_user_loses_access_at_the_next_sign_in(app, client, agency, directory_server):
    assert _sign_in(client, "hoangvane").status_code == 302
    directory_server.remove_member(group("chibo-toaan-phobithu"), person("hoangvane"))
    directory_server.remove_member(group("chibo-toaan-dangvien"), person("hoangvane"))
    try:
        refused = _sign_in(client, "hoangvane")
        assert refused.status_code == 200 and WRONG in refused.text
    finally:
        directory_server.add_member(group("chibo-toaan-phobithu"), person("hoangvane"))
        directory_server.add_member(group("chibo-toaan-dangvien"), person("hoangvane"))


def test_wrong_password_unknown_user_and_a_disabled_user_get_the_same_answer(app, client, agency):
    answers = [
        _sign_in(client, "nguyenvana", "not the password"),
        _sign_in(client, "khongcoai", DIRECTORY_PASSWORD),
        _sign_in(client, "phamvand", DIRECTORY_PASSWORD),  # right password, but in no group: disabled
    ]
    assert {(a.status_code, WRONG in a.text) for a in answers} == {(200, True)}
    assert _user(app, "phamvand") is None and _user(app, "nguyenvana") is None
    with app.app_context():  # each counts as a failure for the lock-out
        assert {t.username for t in db.session.scalars(select(LoginThrottle))} == {
            "nguyenvana",
            "khongcoai",
            "phamvand",
        }


@pytest.mark.parametrize(
    "username",
    # (the form drops a NUL before anyone sees it: the client-level test below sends them)
    ["*", "*)(uid=*", "nguyenvana)(uid=*", "nguyenvan*", "*)(|(uid=*", "nguyenvana\\2a", "nguyenvana\\00"],
)
def test_ldap_injection_in_the_username_matches_no_one(app, client, agency, username):
    response = _sign_in(client, username)
    assert response.status_code == 200 and WRONG in response.text
    with app.app_context():
        assert db.session.scalar(select(User).where(User.auth_source == AuthSource.DIRECTORY)) is None


def test_the_filter_escapes_what_the_user_types(app, agency, directory_server):
    from intranet_directory import client as ldap_client
    from intranet_directory.settings import effective, row_for

    with app.app_context():
        settings = effective(row_for(_office_id(app, "VKS")))
        connection = ldap_client.connect(settings)
        try:
            for typed in ("*", "nguyenvan*", "*)(uid=*", "nguyenvana)(|(uid=*", "\x00", "*\x00*", "\\2a"):
                assert ldap_client.find_user(connection, settings, typed) is None
            assert ldap_client.find_user(connection, settings, "nguyenvana").dn == person("nguyenvana")
            assert connection.tls_started  # ldap:// always goes through StartTLS
        finally:
            connection.unbind()


def _office_id(app, code):
    from intranet.models import Office

    with app.app_context():
        return db.session.scalar(select(Office.id).where(Office.code == code))


def test_a_directory_that_cannot_be_reached_says_so_and_local_accounts_still_sign_in(app, client, agency):
    closed = f"ldap://127.0.0.1:{free_port()}"
    configure(app, "VKS", "vksadmin", _Server(closed), ca_pem="")
    configure(app, "TOA", "toaadmin", _Server(closed), ca_pem="")
    down = _sign_in(client, "nguyenvana")
    assert down.status_code == 503 and UNREACHABLE in down.text
    with app.app_context():  # counted: a wrong password answers the same then (test_directory_attacks.py)
        assert db.session.scalar(select(LoginThrottle)).username == "nguyenvana"
    assert _sign_in(client, "vksadmin", PASSWORD).status_code == 302


class _Server:
    """Settings pointing at a URL where no directory is (for ``configure``)."""

    def __init__(self, url, ca_cert=None):
        self.url, self.ca_cert = url, ca_cert


def test_a_first_sign_in_waits_for_every_offices_directory(app, client, agency, directory_server):
    """Another office might claim the person too: with its directory down, the rule cannot be applied."""
    configure(app, "TOA", "toaadmin", _Server(f"ldap://127.0.0.1:{free_port()}"), ca_pem="")
    assert _sign_in(client, "nguyenvana").status_code == 503 and _user(app, "nguyenvana") is None
    configure(app, "TOA", "toaadmin", directory_server)
    assert _sign_in(client, "nguyenvana").status_code == 302
    configure(app, "TOA", "toaadmin", _Server(f"ldap://127.0.0.1:{free_port()}"), ca_pem="")
    assert _sign_in(client, "nguyenvana").status_code == 302  # an account signs in through its own office's


def test_a_stopped_slapd_is_a_directory_that_cannot_be_reached(app, client, agency, directory_server):
    directory_server.stop()
    try:
        down = _sign_in(client, "hoangvane")
        assert down.status_code == 503 and UNREACHABLE in down.text
    finally:
        directory_server.start()
    assert _sign_in(client, "hoangvane").status_code == 302


def test_failover_to_the_second_url(app, client, agency, directory_server, monkeypatch):
    closed = f"ldap://127.0.0.1:{free_port()}"
    monkeypatch.setitem(app.config, "DIRECTORY_URLS", f"{closed} {directory_server.url}")  # as a setting
    configure(app, "VKS", "vksadmin", directory_server, urls="")
    assert _sign_in(client, "tranthib").status_code == 302
    configure(app, "VKS", "vksadmin", directory_server, urls=f"{closed}\n{directory_server.url}")
    assert _sign_in(client, "nguyenvana").status_code == 302


def test_a_silent_directory_holds_one_greenlet_not_the_gevent_worker(
    app, database_url, tmp_path, agency, directory_server
):
    """Served as in production (one gevent worker): while a sign-in waits on a directory that accepted the
    connection and says nothing, the worker answers other requests; when that server drops the
    connection, the sign-in fails over to the second URL."""
    pytest.importorskip("gevent")
    silent = socket.create_server(("127.0.0.1", 0))
    urls = f"ldap://127.0.0.1:{silent.getsockname()[1]}\n{directory_server.url}"
    configure(app, "VKS", "vksadmin", directory_server, urls=urls)
    server, base = serve(
        app, database_url, tmp_path / "instance", worker_class="gevent", INTRANET_DIRECTORY_TIMEOUT_SECONDS="60"
    )
    try:
        browser, answer = Browser(), {}
        fields = {
            "username": "nguyenvana",
            "password": DIRECTORY_PASSWORD,
            "csrf_token": browser.token(base + "/login"),
        }
        request = urllib.request.Request(base + "/login", data=urllib.parse.urlencode(fields).encode())
        signing_in = threading.Thread(
            target=lambda: answer.update(url=browser.opener.open(request, timeout=90).geturl())
        )
        signing_in.start()
        held, _ = silent.accept()  # the sign-in now waits for this server's answer
        with urllib.request.urlopen(base + "/healthz", timeout=30) as health:
            assert health.status == 200
        assert signing_in.is_alive() and not answer  # still waiting, yet the worker answered
        held.close()
        signing_in.join(60)
        assert answer["url"] == base + "/"  # signed in through the second URL
        log = (tmp_path / "instance" / "server.log").read_text()
        assert "Connection reset" in log  # the first URL's failure is logged, and no secret with it
        assert READER_SECRET not in log and DIRECTORY_PASSWORD not in log
    finally:
        server.terminate()
        server.wait(timeout=30)
        silent.close()


def test_ldaps_works_and_a_wrong_ca_is_refused(app, client, agency, directory_server, tmp_path):
    configure(app, "VKS", "vksadmin", directory_server, urls=directory_server.ldaps_url)
    assert _sign_in(client, "nguyenvana").status_code == 302
    other_ca, _ = throwaway_ca(tmp_path, "Some other CA")
    for url in (directory_server.url, directory_server.ldaps_url):
        configure(app, "VKS", "vksadmin", directory_server, urls=url, ca_pem=other_ca.read_text())
        refused = _sign_in(client, "tranthib")
        assert refused.status_code == 503 and UNREACHABLE in refused.text
    assert _user(app, "tranthib") is None


def test_a_server_without_starttls_is_refused(app, client, agency, directory_server):
    from slapd_harness import slapd

    with slapd(tls=False) as plain:
        configure(app, "VKS", "vksadmin", directory_server, urls=plain.url)
        refused = _sign_in(client, "nguyenvana")  # the same entries and password, but nothing sent in clear
        assert refused.status_code == 503 and UNREACHABLE in refused.text
    assert _user(app, "nguyenvana") is None


def test_a_local_account_is_never_checked_against_the_directory(app, client, data, agency):
    # "breakglass" is also in the directory, with another password and in a VKS group.
    data.user("breakglass", "VKS", roles=("admin",))
    refused = _sign_in(client, "breakglass", DIRECTORY_PASSWORD)
    assert refused.status_code == 200 and WRONG in refused.text
    assert _sign_in(client, "breakglass", PASSWORD).status_code == 302
    user = _user(app, "breakglass")
    assert user.auth_source == AuthSource.LOCAL and user.full_name == "Breakglass"


def test_a_directory_account_has_no_local_password(app, client, agency, login):
    assert _sign_in(client, "nguyenvana").status_code == 302
    assert client.get("/account/password").status_code == 302  # sent back: the directory keeps it
    user_id = _user(app, "nguyenvana").id
    login("vksadmin")
    reset = client.post(f"/admin/users/{user_id}/reset-password", follow_redirects=True)
    assert "thư mục" in reset.text and _user(app, "nguyenvana").password_hash == ""


def test_lock_out_applies_to_directory_sign_ins(app, client, agency):
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        assert WRONG in _sign_in(client, "nguyenvana", "not the password", address="10.0.0.66").text
    slowed = _sign_in(client, "nguyenvana", address="10.0.0.66")  # the right password is not even read
    assert slowed.status_code == 429
    assert _sign_in(client, "nguyenvana", address="10.0.0.7").status_code == 302  # the owner elsewhere


def test_a_person_in_two_offices_is_asked_to_see_the_admin_then_signs_in_where_the_account_is(
    app, client, agency, login
):
    refused = _sign_in(client, "lethic")
    assert refused.status_code == 403 and "nhiều hơn một đơn vị" in refused.text
    assert _user(app, "lethic") is None
    login("toaadmin")  # the court's administrator settles it
    toa = _office_id(app, "TOA")
    made = client.post(f"/directory/config/{toa}/accounts", data={"account-username": "LeThiC"}, follow_redirects=True)
    assert "Đã tạo tài khoản “lethic”" in made.text
    again = client.post(f"/directory/config/{toa}/accounts", data={"account-username": "lethic"}, follow_redirects=True)
    assert "đã có người dùng" in again.text
    missing = client.post(
        f"/directory/config/{toa}/accounts", data={"account-username": "khongco"}, follow_redirects=True
    )
    assert "Không có đúng một mục" in missing.text and _user(app, "khongco") is None
    assert (
        client.post(f"/directory/config/{_office_id(app, 'VKS')}/accounts", data={"account-username": "x"}).status_code
        == 404
    )
    assert _sign_in(client, "lethic").status_code == 302
    user = _user(app, "lethic")
    assert user.office_code == "TOA" and user.role_set == {("TOA", Role.MEMBER)}  # its office's groups only
    assert user.auth_source == AuthSource.DIRECTORY and user.full_name == "Lê Thị C"


def test_sync_deactivates_who_left_with_a_dry_run_first(app, client, agency, directory_server):
    from intranet.admin.services import create_user
    from intranet.models import Office

    assert _sign_in(client, "tranthib").status_code == 302  # a live session, ended by the sync
    _sign_in(app.test_client(), "nguyenvana")
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "VKS"))
        create_user(username="daroi", full_name="Đã Rời", office=office, auth_source=AuthSource.DIRECTORY)
        db.session.commit()
    directory_server.remove_member(group("chibo-vkspd-dangvien"), person("tranthib"))
    try:
        runner = app.test_cli_runner()
        preview = runner.invoke(args=["directory", "sync", "--dry-run"])
        assert preview.exit_code == 0, preview.output
        assert "VKS: would deactivate daroi (not found)" in preview.output
        assert "VKS: would deactivate tranthib (no role)" in preview.output
        assert "nguyenvana" not in preview.output
        assert _user(app, "tranthib").active and _user(app, "daroi").active
        assert client.get("/").status_code == 200
        done = runner.invoke(args=["directory", "sync"])
        assert done.exit_code == 0 and "VKS: deactivated tranthib (no role)" in done.output
        assert not _user(app, "tranthib").active and not _user(app, "daroi").active
        assert _user(app, "nguyenvana").active
        assert client.get("/").status_code == 302  # signed out at once (auth_version bumped)
        assert len(_audit(app, "user.deactivate")) == 2 and _audit(app, "directory.sync")
        # back in the groups, the account stays deactivated until an administrator reactivates it
        directory_server.add_member(group("chibo-vkspd-dangvien"), person("tranthib"))
        assert "bị khóa" in _sign_in(client, "tranthib").text
    finally:
        directory_server.modify(group("chibo-vkspd-dangvien"), member=_members())


def test_a_sync_that_would_empty_the_office_is_held_until_forced(app, client, agency, login):
    """A search account that lost its read rights finds nobody: the sync would deactivate the whole
    office. More than half (and at least three) going is held, said, and applied only when forced."""
    from intranet.admin.services import create_user
    from intranet.models import Office

    assert _sign_in(client, "nguyenvana").status_code == 302
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "VKS"))
        for i in range(3):
            create_user(username=f"daroi{i}", full_name="Đã Rời", office=office, auth_source=AuthSource.DIRECTORY)
        db.session.commit()
    runner = app.test_cli_runner()
    held = runner.invoke(args=["directory", "sync", "--office", "VKS"])
    assert held.exit_code == 1 and "VKS: 3 of 4 accounts would go, more than half" in held.output
    assert all(_user(app, f"daroi{i}").active for i in range(3))
    login("vksadmin")
    office_id = _office_id(app, "VKS")
    page = client.post(f"/directory/config/{office_id}/sync")
    assert "3 trên 4" in page.text and _user(app, "daroi0").active
    forced = client.post(f"/directory/config/{office_id}/sync", data={"force": "1"})
    assert "Đã khóa 3" in forced.text
    assert not any(_user(app, f"daroi{i}").active for i in range(3)) and _user(app, "nguyenvana").active


def _members():
    return [person(u) for u in ("nguyenvana", "tranthib", "lethic", "breakglass")]


def test_sync_leaves_an_unreachable_office_alone(app, agency, data):
    from intranet.admin.services import create_user
    from intranet.models import Office

    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "TOA"))
        create_user(username="someone", full_name="Someone", office=office, auth_source=AuthSource.DIRECTORY)
        db.session.commit()
    configure(app, "TOA", "toaadmin", _Server(f"ldap://127.0.0.1:{free_port()}"), ca_pem="")
    result = app.test_cli_runner().invoke(args=["directory", "sync"])
    assert result.exit_code == 1 and "TOA: the directory cannot be reached" in result.output
    assert _user(app, "someone").active


def test_the_admin_page_tests_the_settings_and_syncs(app, client, agency, login, directory_server):
    login("vksadmin")
    office_id = _office_id(app, "VKS")
    page = client.get(f"/directory/config/{office_id}")
    assert page.status_code == 200 and "Đăng nhập bằng thư mục" in page.text
    found = client.post(f"/directory/config/{office_id}/test", data={"username": "nguyenvana"})
    assert found.status_code == 200
    for shown in ("Bí thư", "Chi ủy viên", "Đảng viên", "chính thức", "Nguyễn Văn A", "nguyenvana@agency.gov.vn"):
        assert shown in found.text, shown
    assert _user(app, "nguyenvana") is None  # nobody was signed in or created
    missing = client.post(f"/directory/config/{office_id}/test", data={"username": "*"})
    assert "Không có đúng một mục" in missing.text
    preview = client.post(f"/directory/config/{office_id}/sync", data={"dry_run": "1"})
    assert preview.status_code == 200 and "Sẽ khóa 0" in preview.text
    from intranet.admin.services import create_user
    from intranet.models import Office

    with app.app_context():
        for code, username in (("VKS", "daroi"), ("TOA", "cungroi")):
            office = db.session.scalar(select(Office).where(Office.code == code))
            create_user(username=username, full_name=username, office=office, auth_source=AuthSource.DIRECTORY)
        db.session.commit()
    done = client.post(f"/directory/config/{office_id}/sync")
    assert "Đã khóa 1" in done.text and "daroi" in done.text and "cungroi" not in done.text
    assert not _user(app, "daroi").active and _user(app, "cungroi").active  # the other office is not its to sync


def test_the_bind_secret_never_leaves_the_server(app, client, agency, login, caplog):
    caplog.set_level(logging.DEBUG)
    login("vksadmin")
    office_id = _office_id(app, "VKS")
    pages = [client.get(f"/directory/config/{office_id}")]
    form = {
        "urls": f"ldap://127.0.0.1:{free_port()}",
        "search_base": "ou=people,dc=agency,dc=gov,dc=vn",
        "user_filter": "(uid={username})",
        "group_map": "cn=x,dc=agency = member",
        "bind_secret": "",
    }
    pages.append(client.post(f"/directory/config/{office_id}", data=form, follow_redirects=True))
    pages.append(client.post(f"/directory/config/{office_id}", data={**form, "user_filter": "(("}))  # refused: re-shown
    pages.append(client.post(f"/directory/config/{office_id}/test", data={"username": "nguyenvana"}))
    pages.append(client.post(f"/directory/config/{office_id}/sync", data={"dry_run": "1"}))
    pages.append(_sign_in(client, "nguyenvana"))  # unreachable now: logged
    assert all(READER_SECRET not in p.text for p in pages)
    with app.app_context():
        assert (
            READER_SECRET
            == db.session.get(__import__("intranet_directory.models").models.OfficeDirectory, office_id).bind_secret
        )
        events = db.session.scalars(select(AuditEvent)).all()
        assert events and READER_SECRET not in json.dumps([e.details for e in events], ensure_ascii=False)
    assert "cannot be reached" in caplog.text and READER_SECRET not in caplog.text


def test_an_office_admin_configures_only_their_office(app, client, agency, login, data):
    data.user("vksmember", "VKS")
    toa = _office_id(app, "TOA")
    login("vksadmin")
    for action in ("", "/test", "/sync", "/accounts"):
        url = f"/directory/config/{toa}{action}"
        assert client.post(url, data={"username": "hoangvane", "urls": "ldap://evil"}).status_code == 404
    assert client.get(f"/directory/config/{toa}").status_code == 404
    assert client.get("/directory/config/999999").status_code == 404
    login("vksmember")
    assert client.get(f"/directory/config/{_office_id(app, 'VKS')}").status_code == 404
    with app.app_context():
        assert "ldap://evil" not in json.dumps([e.details for e in db.session.scalars(select(AuditEvent))])
    assert _user(app, "hoangvane") is None


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("urls", "http://dc1.agency.gov.vn", "không phải địa chỉ ldap://"),
        ("user_filter", "(uid=nguyenvana)", "{username}"),
        ("user_filter", "(&(uid={username})", "{username}"),
        ("group_map", "cn=x,dc=agency = overlord", "Dòng 1"),
        ("group_map", "just words", "Dòng 1"),
        ("group_map", "cn=x,,dc=agency = member", "Dòng 1"),
        ("search_base", "people", "phải là một DN"),
        ("ca_pem", "not a certificate", "PEM"),
    ],
)
def test_bad_settings_are_refused_with_a_message(app, client, agency, login, field, value, message):
    login("vksadmin")
    office_id = _office_id(app, "VKS")
    form = {"urls": "ldap://127.0.0.1:1", "search_base": "dc=x", "user_filter": "(uid={username})", field: value}
    refused = client.post(f"/directory/config/{office_id}", data=form)
    assert refused.status_code == 422 and message in refused.text


def test_an_account_of_an_office_that_switched_the_plugin_off_cannot_sign_in(app, client, agency, data):
    assert _sign_in(client, "hoangvane").status_code == 302
    data.enable("directory", "TOA", False)
    assert WRONG in _sign_in(client, "hoangvane").text


# --- found in the adversarial pass ------------------------------------------------------------------


def test_the_servers_bind_secret_goes_only_to_the_servers_own_urls(app, client, agency, directory_server, monkeypatch):
    """An office administrator who names other URLs must not receive the server-wide secret there."""
    from intranet_directory.settings import effective, row_for

    monkeypatch.setitem(app.config, "DIRECTORY_URLS", directory_server.url)
    monkeypatch.setitem(app.config, "DIRECTORY_BIND_SECRET", READER_SECRET)
    monkeypatch.setitem(app.config, "DIRECTORY_CA_PEM", directory_server.ca_cert.read_text())
    configure(app, "VKS", "vksadmin", directory_server, urls="", ca_pem="", secret_given="")
    with app.app_context():
        row = row_for(_office_id(app, "VKS"))
        row.bind_secret = ""  # the secret comes from the environment only
        db.session.commit()
        assert effective(row_for(_office_id(app, "VKS"))).bind_secret == READER_SECRET
    assert _sign_in(client, "nguyenvana").status_code == 302
    # the same office now names a server of its own: the search runs anonymously there
    configure(app, "VKS", "vksadmin", directory_server, urls=directory_server.ldaps_url, secret_given="")
    with app.app_context():
        settings = effective(row_for(_office_id(app, "VKS")))
        assert settings.urls == (directory_server.ldaps_url,) and settings.bind_secret == ""
    # slapd's ACL gives an anonymous search nothing: the sign-in fails, as a directory out of reach
    assert _sign_in(client, "tranthib").status_code == 503 and _user(app, "tranthib") is None


def test_offices_may_name_only_the_allowed_directory_hosts(app, client, agency, login, monkeypatch):
    """With several offices, a first sign-in tries every office's directory: an office administrator
    must not be able to point theirs at a server of their own and collect passwords."""
    monkeypatch.setitem(app.config, "DIRECTORY_ALLOWED_HOSTS", "dc1.agency.gov.vn dc2.agency.gov.vn")
    login("vksadmin")
    office_id = _office_id(app, "VKS")
    form = {"urls": "ldaps://evil.example.com", "search_base": "dc=x", "user_filter": "(uid={username})"}
    refused = client.post(f"/directory/config/{office_id}", data=form)
    assert refused.status_code == 422 and "chỉ cho phép các máy chủ thư mục: dc1.agency.gov.vn" in refused.text
    ok = client.post(f"/directory/config/{office_id}", data={**form, "urls": "ldaps://DC1.agency.gov.vn:636"})
    assert ok.status_code == 302
    # settings saved before the list was set (127.0.0.1 here) are not used any more
    assert WRONG in _sign_in(client, "hoangvane").text
    assert _user(app, "hoangvane") is None


def test_resetting_a_directory_accounts_password_from_the_console_says_why_not(app, client, agency):
    assert _sign_in(client, "nguyenvana").status_code == 302
    result = app.test_cli_runner().invoke(args=["users", "reset-password", "nguyenvana"])
    assert result.exit_code == 2 and "thư mục" in result.output and isinstance(result.exception, SystemExit)
    assert _user(app, "nguyenvana").password_hash == ""


def test_a_broken_ca_certificate_is_a_directory_that_cannot_be_reached(app, client, agency, directory_server, login):
    broken = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----"
    configure(app, "VKS", "vksadmin", directory_server, ca_pem=broken)
    down = _sign_in(client, "nguyenvana")
    assert down.status_code == 503 and UNREACHABLE in down.text
    login("vksadmin")
    tested = client.post(f"/directory/config/{_office_id(app, 'VKS')}/test", data={"username": "nguyenvana"})
    assert tested.status_code == 200 and UNREACHABLE in tested.text


def test_the_page_is_404_where_the_plugin_is_off(app, client, agency, data, login):
    data.enable("directory", "VKS", False)
    login("vksadmin")
    assert client.get(f"/directory/config/{_office_id(app, 'VKS')}").status_code == 404


def test_an_empty_password_never_binds(app, agency):
    from intranet_directory.lookup import check_password
    from intranet_directory.settings import effective, row_for

    with app.app_context():
        settings = effective(row_for(_office_id(app, "VKS")))
        assert check_password(settings, "nguyenvana", "") is None
        assert check_password(settings, "nguyenvana", DIRECTORY_PASSWORD).dn == person("nguyenvana")


def test_doctor_reports_each_office_directory_and_an_open_host_list(app, agency, directory_server, monkeypatch):
    from intranet_directory.checks import findings

    with app.app_context():
        report = {(f.level, f.subject) for f in findings()}
        assert {("ok", "directory (VKS)"), ("ok", "directory (TOA)"), ("warn", "directory")} <= report
    monkeypatch.setitem(app.config, "DIRECTORY_ALLOWED_HOSTS", "127.0.0.1")
    configure(app, "TOA", "toaadmin", _Server(f"ldap://127.0.0.1:{free_port()}"), ca_pem="")
    with app.app_context():
        report = {(f.level, f.subject) for f in findings()}
        assert ("fail", "directory (TOA)") in report and ("warn", "directory") not in report


def test_an_office_that_saves_the_page_untouched_keeps_the_servers_settings(
    app, client, data, directory_server, login, monkeypatch
):
    """The page shows the server's settings as placeholders, so saving it stores nothing of them: the office
    keeps following them (and the server's secret, which goes only to the server's URLs)."""
    for key, value in {
        "DIRECTORY_URLS": directory_server.url,
        "DIRECTORY_CA_PEM": directory_server.ca_cert.read_text(),
        "DIRECTORY_BIND_DN": "cn=intranet-reader,ou=system,dc=agency,dc=gov,dc=vn",
        "DIRECTORY_BIND_SECRET": READER_SECRET,
        "DIRECTORY_SEARCH_BASE": "ou=people,dc=agency,dc=gov,dc=vn",
    }.items():
        monkeypatch.setitem(app.config, key, value)
    data.office("VKS")
    data.user("vksadmin", "VKS", roles=("admin",))
    data.enable("directory", "VKS")
    login("vksadmin")
    office_id = _office_id(app, "VKS")
    page = client.get(f"/directory/config/{office_id}")
    assert f'placeholder="{directory_server.url}"' in page.text and READER_SECRET not in page.text
    mapping = f"{group('chibo-vkspd-dangvien')} = member"
    assert client.post(f"/directory/config/{office_id}", data={"group_map": mapping}).status_code == 302
    assert _sign_in(client, "tranthib").status_code == 302


def test_an_office_number_past_any_column_is_a_404_not_a_500(app, client, agency, login):
    login("vksadmin")
    for action in ("", "/test", "/sync", "/accounts"):
        url = f"/directory/config/99999999999999999999{action}"
        assert (client.get(url) if not action else client.post(url, data={"username": "x"})).status_code == 404
