"""Directory sign-in, second adversarial pass: each test here failed on the code before its fix (against
the session's real slapd, tests/slapd_harness.py)."""

from slapd_harness import (
    agency,  # noqa: F401  (two offices set up for the directory)
    directory_server,  # noqa: F401  (the session's slapd)
)
from test_directory import _office_id, _sign_in

from intranet.extensions import db
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
