"""The office's TURN server for the room page's pre-call test: the settings (checked, secrets never shown
back nor audited), and the credentials the page gets (only for those who may join, per office, expiring
as coturn's shared-secret scheme checks them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from test_meetings import _configure, _office, _online
from test_meetings_jitsi import _page_data

from intranet.extensions import db
from intranet.models import AuditEvent
from intranet_meetings import services, turn
from intranet_meetings.models import OfficeConfig
from intranet_scheduling.models import SessionStatus

TURN_SECRET = "the-coturn-static-auth-secret"
FORM = {
    "jitsi_domain": "meet.vks.gov.vn",
    "backup_domains": "",
    "auth": "none",
    "app_id": "",
    "open_minutes_before": "30",
    "rtt_degraded_ms": "400",
    "rtt_poor_ms": "1000",
    "loss_degraded_pct": "3",
    "loss_poor_pct": "10",
    "quality_degraded": "60",
    "quality_poor": "30",
    "samples_to_change": "3",
    "turn_urls": "turn:turn.vks.gov.vn:3478?transport=udp\nturns:turn.vks.gov.vn:443?transport=tcp",
}


def _save(client, **fields):
    return client.post("/meetings/config", data={**FORM, **fields}, follow_redirects=True)


def test_turn_settings_are_checked_and_their_secrets_never_shown_nor_audited(app, client, qcell, login):
    login("distadmin")
    assert "không phải URL TURN" in _save(client, turn_urls="http://turn.vks.gov.vn", turn_secret="x").text
    assert "cần mật khẩu chung" in _save(client).text  # URLs without any credential
    assert "ít nhất một URL turn:" in _save(client, turn_urls="stun:stun.vks.gov.vn", turn_secret="x").text
    _save(client, turn_secret=TURN_SECRET)
    page = client.get("/meetings/config").text
    assert "turn.vks.gov.vn:3478" in page and TURN_SECRET not in page
    _save(client, open_minutes_before="45")  # the secret left empty is kept
    with app.app_context():
        dist = _office().id
        assert services.config_for(dist).turn_secret == TURN_SECRET
    _save(client, turn_secret="", turn_username="intranet", turn_credential="fixed-credential-42")
    assert "fixed-credential-42" not in client.get("/meetings/config").text
    with app.app_context():
        audit = " ".join(json.dumps(e.details) for e in db.session.scalars(select(AuditEvent)))
        assert TURN_SECRET not in audit and "fixed-credential-42" not in audit
        assert "turn_secret" in audit and "turn_credential" in audit and "turn.vks.gov.vn:3478" in audit
    _save(client, turn_urls="")  # no URL: the test is off and its credentials forgotten
    with app.app_context():
        config = services.config_for(dist)
        assert (config.turn_secret, config.turn_username, config.turn_credential) == ("", "", "")


def test_shared_secret_credentials_expire_as_coturn_checks_them():
    config = OfficeConfig(
        turn_urls="turn:turn.test:3478", turn_secret=TURN_SECRET, turn_username="", turn_credential=""
    )
    member = type("Member", (), {"id": 7})()
    [server], expires = turn.ice_servers(config, member, now=1_000_000)
    assert expires == 1_000_000 + turn.LIFETIME_SECONDS and server["username"] == f"{expires}:7"
    expected = hmac.new(TURN_SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()
    assert server["credential"] == base64.b64encode(expected).decode()
    assert server["urls"] == ["turn:turn.test:3478"]


def test_only_those_who_may_join_get_turn_credentials_while_the_room_is_open(app, client, qcell, login):
    _configure(app, turn_urls="turn:turn.test:3478", turn_secret=TURN_SECRET)
    sid = _online(app)
    login("member1")
    assert _page_data(client, sid)["turn"] == f"/meetings/sessions/{sid}/turn"
    answer = client.get(f"/meetings/sessions/{sid}/turn")
    assert answer.headers["Cache-Control"] == "no-store"
    [server] = answer.get_json()["iceServers"]
    expires, user_id = server["username"].split(":")
    assert int(user_id) == qcell["member"] and time.time() < int(expires) <= time.time() + turn.LIFETIME_SECONDS
    for username, status in [("khach", 403), ("distadmin", 403), ("othermember", 404)]:
        login(username)
        assert client.get(f"/meetings/sessions/{sid}/turn").status_code == status
    later = _online(app, starts_in=timedelta(hours=3), status=SessionStatus.DOCUMENTS_SENT)
    login("member1")
    assert client.get(f"/meetings/sessions/{later}/turn").status_code == 409


@pytest.mark.parametrize("office_turn", ["", "turn:turn.test:3478"])
def test_without_turn_the_room_page_is_as_before_and_other_offices_turn_is_not_lent(
    app, client, qcell, login, office_turn
):
    _configure(app, turn_urls=office_turn, turn_secret=TURN_SECRET if office_turn else "")
    sid = _online(app)
    login("member1")
    page = _page_data(client, sid)
    room = client.get(f"/meetings/sessions/{sid}").text
    if office_turn:
        assert "precall-test.min." in room and page["turn"]
    else:
        assert "precall-test.min." not in room and "turn" not in page
        assert client.get(f"/meetings/sessions/{sid}/turn").status_code == 404
    login("othermember")  # another office's member gets neither the room nor this office's TURN
    assert client.get(f"/meetings/sessions/{sid}/turn").status_code == 404


def test_an_invited_guest_gets_the_meetings_office_turn_not_their_own(app, client, qcell, login):
    _configure(app, turn_urls="turn:turn.dist.test:3478", turn_secret=TURN_SECRET)
    with app.app_context():
        other = services.config_for(_office("OTHER").id)
        other.turn_urls, other.turn_secret = "turn:turn.other.test:3478", "the-other-office-secret"
        db.session.merge(other)
        db.session.commit()
    sid = _online(app)
    login("bithu")
    client.post(f"/meetings/sessions/{sid}/guests", data={"username": "othermember"})
    login("othermember")
    [server] = client.get(f"/meetings/sessions/{sid}/turn").get_json()["iceServers"]
    assert server["urls"] == ["turn:turn.dist.test:3478"]
    expected = hmac.new(TURN_SECRET.encode(), server["username"].encode(), hashlib.sha1).digest()
    assert server["credential"] == base64.b64encode(expected).decode()
