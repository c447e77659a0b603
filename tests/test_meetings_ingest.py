"""The quality ingest under attack by a member with the page's own ingest token: nothing after the
meeting closed, overlapping intervals counted once, presence only from what the server saw, a token
bucket per participant, the body capped as it is read (docs/security/ingest.md)."""

from __future__ import annotations

import io
import json
from datetime import timedelta

from sqlalchemy import func, select
from test_meetings import _batch, _configure, _enter, _now_ms, _online

from intranet.extensions import db
from intranet_meetings import services
from intranet_meetings.models import Participant, Sample
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Attendance, Meeting, SessionStatus


def _minutes(app, sid, user_id) -> int:
    with app.test_request_context():
        return {row.user.id: row.minutes for row in services.board(db.session.get(Meeting, sid))}[user_id]


def _present(app, sid, user_id) -> bool:
    with app.app_context():
        return bool(
            db.session.scalar(
                select(Attendance.present).where(Attendance.session_id == sid, Attendance.user_id == user_id)
            )
        )


def test_a_closed_meeting_takes_no_more_batches(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    _enter(app, sid, "member1", ago=timedelta(minutes=5))
    url = f"/meetings/sessions/{sid}/ingest"
    client.post(
        url,
        json=_batch(
            app,
            sid,
            "member1",
            "b-before-1",
            events=[{"t": _now_ms(-240), "kind": "joined"}, {"t": _now_ms(-120), "kind": "left"}],
        ),
    )
    with app.test_request_context():
        scheduling.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, None)
        db.session.commit()
    closed = _minutes(app, sid, qcell["member"])
    late = client.post(
        url,
        json=_batch(
            app,
            sid,
            "member1",
            "b-after-01",
            samples=[{"t": _now_ms(), "rtt": 10}],
            events=[{"t": _now_ms(-100), "kind": "joined"}, {"t": _now_ms(), "kind": "left"}],
        ),
    )
    assert late.status_code == 422 and "Buổi sinh hoạt đã kết thúc" in late.get_json()["error"]
    assert _minutes(app, sid, qcell["member"]) == closed == 2
    with app.app_context():
        assert db.session.scalar(select(func.count(Sample.id))) == 0


def test_overlapping_intervals_count_once(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    _enter(app, sid, "member1", ago=timedelta(minutes=15))
    url = f"/meetings/sessions/{sid}/ingest"
    for i in range(6):  # the same 14 minutes claimed six times, in batches the server has not seen
        client.post(
            url,
            json=_batch(
                app,
                sid,
                "member1",
                f"b-overlap-{i}",
                events=[{"t": _now_ms(-14 * 60 - i), "kind": "joined"}, {"t": _now_ms(-i), "kind": "left"}],
            ),
        )
    assert _minutes(app, sid, qcell["member"]) == 14  # not 84: never more than the wall time of the room


def test_presence_needs_the_server_to_see_the_member_enter(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    url = f"/meetings/sessions/{sid}/ingest"
    forged = client.post(
        url, json=_batch(app, sid, "member1", "b-forged-1", events=[{"t": _now_ms(-600), "kind": "joined"}])
    ).get_json()
    assert forged["ignored"] == 1 and forged["advice"] == "none"
    assert not _present(app, sid, qcell["member"]) and _minutes(app, sid, qcell["member"]) == 0

    assert client.get(f"/meetings/sessions/{sid}").status_code == 200  # the server serves the room: an entry
    joined = client.post(
        url, json=_batch(app, sid, "member1", "b-honest-1", events=[{"t": _now_ms(-600), "kind": "joined"}])
    ).get_json()  # claims ten minutes before the server saw it
    assert joined["ignored"] == 0 and joined["state"] == "good"
    assert _present(app, sid, qcell["member"])
    with app.app_context():
        person = db.session.get(Participant, (sid, qcell["member"]))
        assert person.first_joined_at >= person.entered_at  # clipped to the server's own sighting
    assert _minutes(app, sid, qcell["member"]) == 0


def test_a_flood_of_samples_is_rate_limited_per_participant(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    url = f"/meetings/sessions/{sid}/ingest"
    statuses = [
        client.post(
            url, json=_batch(app, sid, "member1", f"b-flood-{i:03d}", samples=[{"t": _now_ms(), "rtt": 10}] * 60)
        ).status_code
        for i in range(100)
    ]  # 6,000 samples at once
    assert statuses[:3] == [200, 200, 200] and statuses.count(429) >= 90
    limited = client.post(
        url, json=_batch(app, sid, "member1", "b-flood-last", samples=[{"t": _now_ms(), "rtt": 10}] * 60)
    )
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "gửi quá nhiều báo cáo kết nối" in limited.get_json()["error"]
    with app.app_context():
        assert db.session.scalar(select(func.count(Sample.id))) <= app.config["MEETINGS_INGEST_BURST"] + 60
    login("member2")  # the bucket is the participant's: another member is not held back
    assert (
        client.post(
            url, json=_batch(app, sid, "member2", "b-other-01", samples=[{"t": _now_ms(), "rtt": 10}] * 60)
        ).status_code
        == 200
    )


def test_a_chunked_body_is_capped_as_it_is_read(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    body = json.dumps(
        _batch(app, sid, "member1", "b-chunked-1", samples=[{"t": _now_ms(), "rtt": 10, "pad": "x" * 3400}] * 60)
    ).encode()
    assert len(body) > 200 * 1024
    response = client.post(
        f"/meetings/sessions/{sid}/ingest",
        input_stream=io.BytesIO(body),
        content_type="application/json",
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )  # as gunicorn does for chunked
    assert response.status_code == 413
    with app.app_context():
        assert db.session.scalar(select(func.count(Sample.id))) == 0
