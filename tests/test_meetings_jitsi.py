"""The room page as Jitsi really is: the IFrame API's script where the deployment serves it (JaaS under
the tenant), the member's language passed to Jitsi, the media events that stand in for
getConnectionStats on older builds, the board saying which signals each verdict rests on, and Jitsi's
own raise-hand tied to the cell's speakers list both ways."""

from __future__ import annotations

import html
import json
import re

from sqlalchemy import select
from test_meetings import _batch, _configure, _now_ms, _online

from intranet.extensions import db
from intranet.models import User
from intranet_meetings import quality
from intranet_meetings.models import JitsiAuth, OfficeConfig, Quality
from intranet_questions import services as questions
from intranet_questions.models import Speaker, SpeakerSource, SpeakerState


def _page_data(client, sid: int) -> dict:
    room = client.get(f"/meetings/sessions/{sid}")
    assert room.status_code == 200
    return json.loads(html.unescape(re.search(r'data-page="([^"]*)"', room.text).group(1)))


def test_self_hosted_script_is_at_the_root_and_the_language_is_the_members(app, client, qcell, login):
    _configure(app, backup_domains="backup.test")
    sid = _online(app)
    login("member1")
    page = _page_data(client, sid)
    assert page["scripts"] == {
        "meet.test": "https://meet.test/external_api.js",
        "backup.test": "https://backup.test/external_api.js",
    }
    assert page["lang"] == "vi"


def test_a_call_not_opened_in_time_counts_as_failed_after_the_configured_seconds(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    assert _page_data(client, sid)["joinMs"] == 30_000
    app.config["MEETINGS_JOIN_SECONDS"] = 45
    try:
        assert _page_data(client, sid)["joinMs"] == 45_000
    finally:
        app.config["MEETINGS_JOIN_SECONDS"] = 30


def test_jaas_script_is_under_the_tenant(app, client, qcell, login):
    _configure(app, jitsi_domain="8x8.vc", auth=JitsiAuth.JAAS, app_id="vpaas-magic-cookie-1")
    sid = _online(app)
    login("member1")
    page = _page_data(client, sid)
    assert page["scripts"] == {"8x8.vc": "https://8x8.vc/vpaas-magic-cookie-1/external_api.js"}
    assert page["room"] == f"vpaas-magic-cookie-1/{page['room'].split('/')[1]}"


def test_media_failures_count_when_jitsi_gives_no_stats():
    config = OfficeConfig(
        rtt_degraded_ms=300,
        rtt_poor_ms=800,
        loss_degraded_pct=3,
        loss_poor_pct=10,
        quality_degraded=60,
        quality_poor=30,
    )
    assert quality.verdict(config, rtt_ms=50, media="failed") == Quality.POOR
    assert quality.verdict(config, rtt_ms=50, media="interrupted") == Quality.DEGRADED
    assert quality.verdict(config, rtt_ms=900, media="interrupted") == Quality.POOR
    assert quality.verdict(config, media="unknown") == Quality.GOOD


def test_the_board_says_what_each_verdict_rests_on(app, client, qcell, login):
    _configure(app, samples_to_change=1)
    sid = _online(app)
    for username, stats in (("member1", False), ("bithu", True)):
        login(username)
        client.get(f"/meetings/sessions/{sid}")
        events = [
            {"t": _now_ms(), "kind": "joined", "detail": {}},
            {"t": _now_ms(), "kind": "info", "detail": {"name": "signals", "stats": stats}},
        ]
        # An older build: the round trip is fine, but Jitsi says the call's connection failed.
        samples = [] if stats else [{"t": _now_ms(), "rtt": 40, "media": "failed"}]
        answer = client.post(
            f"/meetings/sessions/{sid}/ingest",
            json=_batch(app, sid, username, events=events, samples=samples, mode="video"),
        )
        assert answer.status_code == 200, answer.text
    assert answer.get_json()["state"] == "good"
    board = client.get(f"/meetings/sessions/{sid}/board").text
    member_row = re.search(rf'<tr id="board-{qcell["member"]}".*?</tr>', board, re.S).group(0)
    chair_row = re.search(rf'<tr id="board-{qcell["secretary"]}".*?</tr>', board, re.S).group(0)
    assert "vòng khứ hồi, lỗi kết nối cuộc họp" in member_row and "kém" in member_row
    assert "chất lượng và tỉ lệ mất gói của Jitsi" in chair_row


def _hand(client, app, sid, username, raised, n):
    event = {"t": _now_ms(), "kind": "hand", "detail": {"raised": raised}}
    answer = client.post(
        f"/meetings/sessions/{sid}/ingest", json=_batch(app, sid, username, batch=f"hand-{n:04d}", events=[event])
    )
    assert answer.status_code == 200, answer.text
    return answer.get_json()


def test_jitsis_own_raise_hand_joins_and_leaves_the_list_and_the_floor_comes_back(app, client, qcell, login):
    def turns():
        with app.app_context():
            return [
                (t.source, t.state)
                for t in db.session.scalars(select(Speaker).where(Speaker.session_id == sid).order_by(Speaker.id))
            ]

    _configure(app)
    sid = _online(app)
    login("member1")
    client.get(f"/meetings/sessions/{sid}")
    assert _hand(client, app, sid, "member1", True, 1)["floor"] is False
    assert turns() == [(SpeakerSource.ROOM, SpeakerState.WAITING)]
    _hand(client, app, sid, "member1", True, 2)  # already on the list: nothing more, no error
    _hand(client, app, sid, "member1", False, 3)
    assert turns() == [(SpeakerSource.ROOM, SpeakerState.WITHDRAWN)]
    _hand(client, app, sid, "member1", True, 4)
    with app.test_request_context():  # the chair gives the floor on the speakers list
        turn = db.session.scalars(select(Speaker).where(Speaker.state == SpeakerState.WAITING)).one()
        questions.give_floor(turn, db.session.get(User, qcell["secretary"]))
        db.session.commit()
    assert _hand(client, app, sid, "member1", False, 5)["floor"] is True  # the page lowered it in Jitsi
    assert turns()[-1] == (SpeakerSource.ROOM, SpeakerState.SPEAKING)  # lowering there does not end the turn

    login("bithu")
    client.post(f"/meetings/sessions/{sid}/guests", data={"username": "othermember"})
    login("othermember")  # a guest: not on the cell's list, and the ingest still answers
    client.get(f"/meetings/sessions/{sid}")
    assert _hand(client, app, sid, "othermember", True, 6)["floor"] is False
    assert len(turns()) == 2
