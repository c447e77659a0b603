"""Directory sign-in, second adversarial pass: each test here failed on the code before its fix (against
the session's real slapd, tests/slapd_harness.py), except the one marked "not a finding"."""

import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from slapd_harness import (
    PASSWORD as DIRECTORY_PASSWORD,
)
from slapd_harness import (
    READER_DN,
    READER_SECRET,
    agency,  # noqa: F401  (two offices set up for the directory)
    configure,
    directory_server,  # noqa: F401  (the session's slapd)
    person,
)
from sqlalchemy import select
from support import PASSWORD, Browser, free_port, serve, throwaway_ca
from test_directory import UNREACHABLE, _office_id, _Server, _sign_in, _user

from intranet.extensions import db
from intranet.models import AuthSource, LoginThrottle
from intranet_directory.settings import row_for


def test_a_url_that_is_not_one_is_refused_with_a_message_under_a_host_list(
    app, client, agency, directory_server, login, monkeypatch
):
    """``ldap://[::1`` made urlsplit raise: a 500 on the page, and, saved before the host list was set, a
    500 on every first sign-in of every office."""
    with app.app_context():  # saved before the page checked URLs this way
        row_for(_office_id(app, "TOA")).urls = f"ldap://[::1\n{directory_server.url}"
        db.session.commit()
    monkeypatch.setitem(app.config, "DIRECTORY_ALLOWED_HOSTS", "127.0.0.1")
    login("toaadmin")
    form = {"urls": "ldap://[::1", "search_base": "dc=x", "user_filter": "(uid={username})"}
    refused = client.post(f"/directory/config/{_office_id(app, 'TOA')}", data=form)
    assert refused.status_code == 422 and "không phải địa chỉ ldap://" in refused.text
    assert _sign_in(client, "hoangvane").status_code == 302  # the broken URL is skipped, the other one answers
    assert _sign_in(client, "khongcoai").status_code == 200


def test_with_one_directory_down_every_wrong_password_answers_as_an_unknown_username(app, client, agency):
    """One office's administrator can take that office's directory out of reach (a closed port): an
    unknown username then got 503 "cannot be reached", but a local account's (the break-glass admin's)
    or a known directory account's wrong password "wrong username or password" — which told the
    usernames apart; and the 503 counted for no lock-out, so guessing there was unthrottled."""
    assert _sign_in(client, "nguyenvana").status_code == 302  # a VKS directory account exists
    configure(app, "TOA", "toaadmin", _Server(f"ldap://127.0.0.1:{free_port()}"), ca_pem="")
    answers = [_sign_in(client, name, "not the password") for name in ("vksadmin", "nguyenvana", "khongcoai")]
    assert {(a.status_code, UNREACHABLE in a.text) for a in answers} == {(503, True)}
    with app.app_context():
        assert {t.username for t in db.session.scalars(select(LoginThrottle))} == {
            "vksadmin",
            "nguyenvana",
            "khongcoai",
        }
    assert _sign_in(client, "nguyenvana").status_code == 302  # its own office's directory answers
    assert _sign_in(client, "vksadmin", PASSWORD).status_code == 302  # local accounts still sign in


def test_the_servers_bind_secret_is_not_sent_under_an_offices_own_ca(
    app, client, agency, directory_server, monkeypatch, tmp_path
):
    """The server's secret went to the server's URLs, checked against whatever CA the office pasted: an
    office administrator able to answer for that host (DNS, a LAN on the way) with a certificate of their
    own CA received the agency-wide search account's secret."""
    from intranet_directory.settings import effective

    monkeypatch.setitem(app.config, "DIRECTORY_URLS", directory_server.url)
    monkeypatch.setitem(app.config, "DIRECTORY_CA_PEM", directory_server.ca_cert.read_text())
    monkeypatch.setitem(app.config, "DIRECTORY_BIND_SECRET", READER_SECRET)
    configure(app, "VKS", "vksadmin", directory_server, urls="", ca_pem="", secret_given="")
    with app.app_context():
        row = row_for(_office_id(app, "VKS"))
        row.bind_secret = ""  # the secret comes from the environment only
        db.session.commit()
        assert effective(row).bind_secret == READER_SECRET
    assert _sign_in(client, "nguyenvana").status_code == 302
    own_ca, _ = throwaway_ca(tmp_path, "The office's own CA")
    configure(app, "VKS", "vksadmin", directory_server, urls="", ca_pem=own_ca.read_text(), secret_given="")
    with app.app_context():
        settings = effective(row_for(_office_id(app, "VKS")))
        assert settings.urls == (directory_server.url,) and settings.bind_secret == ""


def test_the_directory_name_is_cleaned_by_the_text_rule_at_every_sign_in(app, client, agency, directory_server):
    """A name with nothing visible (a zero-width space) in the directory emptied the account's full name at
    the next sign-in (the column's guard cleaned it to "" after the "keep the old name" check)."""
    assert _sign_in(client, "nguyenvana").status_code == 302
    try:
        directory_server.modify(person("nguyenvana"), cn=["\u202eNguyễn Văn A"])
        assert _sign_in(client, "nguyenvana").status_code == 302
        assert _user(app, "nguyenvana").full_name == "Nguyễn Văn A"
        directory_server.modify(person("nguyenvana"), cn=["\u200b"])  # nothing visible: the name stays
        assert _sign_in(client, "nguyenvana").status_code == 302
        assert _user(app, "nguyenvana").full_name == "Nguyễn Văn A"
    finally:
        directory_server.modify(person("nguyenvana"), cn=["Nguyễn Văn A"])


def test_a_host_that_is_no_dns_name_is_refused_and_never_a_500(app, client, agency, directory_server, login):
    """``ldap://a..b`` (or a label past 63 characters) made ldap3's IDNA encoding raise UnicodeError, which
    no one caught: one office saving it turned every first sign-in, in every office, into a 500."""
    login("vksadmin")
    office_id = _office_id(app, "VKS")
    form = {"urls": "ldap://a..b", "search_base": "dc=x", "user_filter": "(uid={username})"}
    refused = client.post(f"/directory/config/{office_id}", data=form)
    assert refused.status_code == 422 and "không phải địa chỉ ldap://" in refused.text
    with app.app_context():  # saved before the page checked it
        row_for(office_id).urls = f"ldap://{'a' * 70}.example\n{directory_server.url}"
        db.session.commit()
    tested = client.post(f"/directory/config/{office_id}/test", data={"username": "nguyenvana"})
    assert tested.status_code == 200 and "nguyenvana" in tested.text
    assert _sign_in(client, "khongcoai").status_code == 200
    assert _sign_in(client, "nguyenvana").status_code == 302  # the next URL answers


def test_every_wrong_password_asks_every_offices_directory_once(app, client, agency, monkeypatch):
    """Time told usernames apart: an unknown username asked both offices' directories, a local account's
    wrong password none, a directory account's only its own office's. Counted, not timed: each wrong
    password now costs one check in each office's directory."""
    from intranet_directory import signin

    assert _sign_in(client, "nguyenvana").status_code == 302
    asked = []
    real = signin.check_password
    monkeypatch.setattr(signin, "check_password", lambda settings, *a: asked.append(settings) or real(settings, *a))
    for name in ("khongcoai", "vksadmin", "nguyenvana"):
        asked.clear()
        assert _sign_in(client, name, "not the password").status_code == 200
        assert len(asked) == 2, name


def test_a_double_submitted_first_sign_in_is_no_500(app, database_url, tmp_path, agency):
    """Two first sign-ins of one person at once (a double click on a slow directory): the later one was
    refused "the username is already taken" — or, on PostgreSQL where both pass that check together, its
    insert broke the unique username: a 500. Now each signs in to the one account."""
    pytest.importorskip("gevent")
    server, base = serve(app, database_url, tmp_path / "instance", worker_class="gevent")
    try:
        browsers = [Browser() for _ in range(4)]
        requests = [
            urllib.request.Request(
                base + "/login",
                data=urllib.parse.urlencode(
                    {"username": "tranthib", "password": DIRECTORY_PASSWORD, "csrf_token": b.token(base + "/login")}
                ).encode(),
            )
            for b in browsers
        ]
        answers = []

        def send(browser, request):
            try:
                answers.append(browser.opener.open(request, timeout=60).status)
            except urllib.error.HTTPError as exc:
                answers.append(exc.code)

        threads = [threading.Thread(target=send, args=pair) for pair in zip(browsers, requests, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        assert answers == [200] * 4  # each lands on the home page, signed in
        assert _user(app, "tranthib").auth_source == AuthSource.DIRECTORY
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_search_account_password_is_kept_as_typed(app, client, agency, directory_server, login):
    """The column guard cleaned the stored secret like a text (spaces collapsed, ends trimmed): a search
    account whose password has two spaces in a row could never be used."""
    spaced = " reader  secret "
    directory_server.modify(READER_DN, userPassword=[spaced])
    try:
        login("vksadmin")
        office_id = _office_id(app, "VKS")
        with app.app_context():
            row = row_for(office_id)
            form = {name: getattr(row, name) for name in ("urls", "ca_pem", "bind_dn", "search_base", "user_filter")}
            form["group_map"] = row.group_map
        assert client.post(f"/directory/config/{office_id}", data={**form, "bind_secret": spaced}).status_code == 302
        tested = client.post(f"/directory/config/{office_id}/test", data={"username": "nguyenvana"})
        assert "uid=nguyenvana" in tested.text
        refused = client.post(f"/directory/config/{office_id}", data={**form, "bind_secret": "se\x07cret"})
        assert refused.status_code == 422 and "ký tự điều khiển" in refused.text
    finally:
        directory_server.modify(READER_DN, userPassword=[READER_SECRET])


def test_a_right_password_in_no_group_costs_what_a_wrong_one_does(app, client, agency, monkeypatch):
    """The groups were read only after a successful bind: a right password of an entry in no mapped group
    took longer than a wrong one, so the page told whether a directory password (usable elsewhere) was
    right. Counted, not timed: each attempt reads the groups once in each office's directory."""
    from intranet_directory import client as ldap_client

    read = []
    real = ldap_client.member_of
    monkeypatch.setattr(ldap_client, "member_of", lambda *a: read.append(a[2]) or real(*a))
    for name, password in (("phamvand", DIRECTORY_PASSWORD), ("phamvand", "wrong"), ("khongcoai", "wrong")):
        read.clear()
        assert _sign_in(client, name, password).status_code == 200
        assert len(read) == 2, (name, password)


def test_offices_sharing_a_directory_bind_as_the_person_once_per_sign_in(app, client, agency, monkeypatch):
    """Both offices here use the one slapd (as offices of one agency share its Active Directory): a wrong
    first sign-in bound as the person once per office, so the directory's own lock-out (badPwdCount) came
    that many times faster. Now one bind per server and sign-in; an unknown username and an account's
    wrong password bind as often (once), so the count tells nothing either."""
    from intranet_directory import client as ldap_client

    assert _sign_in(client, "hoangvane").status_code == 302  # a TOA account
    binds = []
    real = ldap_client.connect
    monkeypatch.setattr(
        ldap_client, "connect", lambda settings, dn=None, pw=None: (dn and binds.append(dn)) or real(settings, dn, pw)
    )
    for name in ("tranthib", "khongcoai", "hoangvane"):
        binds.clear()
        assert _sign_in(client, name, "not the password").status_code == 200
        assert len(binds) == 1, (name, binds)


def test_a_certificate_for_another_name_is_refused(app, client, agency, directory_server):
    """Not a finding (it held): the certificate chains to the configured CA but names localhost and
    127.0.0.1, not 127.1 — the same server under a name the certificate does not give is refused, over
    StartTLS and ldaps:// alike."""
    for url in (directory_server.url, directory_server.ldaps_url):
        configure(app, "VKS", "vksadmin", directory_server, urls=url.replace("127.0.0.1", "127.1"))
        refused = _sign_in(client, "tranthib")
        assert refused.status_code == 503 and UNREACHABLE in refused.text
    assert _user(app, "tranthib") is None


def test_an_office_cannot_make_an_account_for_someone_its_groups_give_no_role(app, client, agency, login):
    """ "Make a directory account ahead" took any entry its filter found: an office administrator could
    take the username of another office's person (here a TOA member, in no VKS group), who then could
    never sign in — the account's office is VKS, whose groups give them nothing."""
    login("vksadmin")
    refused = client.post(
        f"/directory/config/{_office_id(app, 'VKS')}/accounts",
        data={"account-username": "hoangvane"},
        follow_redirects=True,
    )
    assert "không cho" in refused.text and _user(app, "hoangvane") is None
    assert _sign_in(client, "hoangvane").status_code == 302
    assert _user(app, "hoangvane").office_code == "TOA"
