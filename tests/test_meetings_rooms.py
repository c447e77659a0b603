"""A meeting's room follows the meeting: its kind comes from the meeting's mode and the office's Jitsi
until the planners pin one (so distancing and a newly configured Jitsi reach every room); following in
text counts as being in the meeting and shows so on the chair's board."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from test_meetings import _batch, _configure, _now_ms, _office, _online, _user

from intranet.extensions import db
from intranet_meetings import services
from intranet_meetings.models import Mode, Participant
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Attendance, Meeting, SessionKind, SessionMode, SessionStatus


def _in_person(app, title="Sinh hoạt tại hội trường") -> int:
    with app.test_request_context():
        session = scheduling.create_session(
            _office(),
            kind=SessionKind.REGULAR,
            title=title,
            starts_at=datetime.now(UTC) + timedelta(days=3),
            duration_minutes=90,
            place="Hội trường",
            mode=SessionMode.IN_PERSON,
        )
        db.session.commit()
        return session.id


def _kind(app, sid: int) -> str:
    with app.test_request_context():
        return services.room_for(db.session.get(Meeting, sid)).provider


def _distancing(app, on: bool) -> None:
    with app.test_request_context():
        scheduling.set_distancing(_office(), on, _user("bithu"))
        db.session.commit()


def test_a_room_opened_in_person_goes_online_with_distancing_and_back(app, client, qcell, login):
    _configure(app)
    sid = _in_person(app)
    login("member1")
    assert "Trực tiếp" in client.get(f"/meetings/sessions/{sid}").text  # the room is made on this first visit
    _distancing(app, True)
    assert _kind(app, sid) == "jitsi"
    page = client.get(f"/meetings/sessions/{sid}").text
    assert 'id="room"' in page or "Phòng họp mở lúc" in page
    assert "Trực tiếp" not in page
    _distancing(app, False)
    assert _kind(app, sid) == "in_person"


def test_a_room_first_opened_without_jitsi_gets_it_once_the_admin_adds_it(app, client, qcell, login):
    sid = _online(app)
    login("member1")
    client.get(f"/meetings/sessions/{sid}")
    assert _kind(app, sid) == "external"
    _configure(app)
    assert _kind(app, sid) == "jitsi"
    assert client.get(f"/meetings/sessions/{sid}/token").get_json()["domain"] == "meet.test"


def test_distancing_reaches_every_unpinned_room_and_a_pinned_one_stays_with_its_reason(app, client, qcell, login):
    _configure(app)
    followed = [_in_person(app, f"Họp {n}") for n in range(3)]
    pinned = _in_person(app, "Họp ghim tại hội trường")
    login("bithu")
    for sid in [*followed, pinned]:
        client.get(f"/meetings/sessions/{sid}")
    client.post(f"/meetings/sessions/{pinned}/room", data={"provider": "in_person", "external_url": "", "dial_in": ""})
    _distancing(app, True)
    assert [_kind(app, sid) for sid in followed] == ["jitsi"] * 3
    assert _kind(app, pinned) == "in_person"
    panel = client.get(f"/scheduling/sessions/{pinned}").text.split('id="meeting-room"')[1]
    assert "Bithu" in panel and "đã cố định" in panel  # who pinned it, and that the meeting's mode no longer moves it
    # Unpinning lets it follow the meeting again.
    client.post(f"/meetings/sessions/{pinned}/room", data={"provider": "follow", "external_url": "", "dial_in": ""})
    assert _kind(app, pinned) == "jitsi"


def test_only_planners_pin_and_a_pin_needs_a_known_kind(app, client, qcell, login):
    sid = _in_person(app)
    login("member1")
    client.post(f"/meetings/sessions/{sid}/room", data={"provider": "in_person", "external_url": "", "dial_in": ""})
    login("bithu")
    bad = client.post(
        f"/meetings/sessions/{sid}/room",
        data={"provider": "carrier-pigeon", "external_url": "", "dial_in": ""},
        follow_redirects=True,
    )
    assert bad.status_code == 200
    with app.app_context():
        room = services.room_for(db.session.get(Meeting, sid))
        assert room.pinned_at is None


def test_following_in_text_counts_as_in_the_meeting_and_shows_on_the_board(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member2")
    assert client.get(f"/meetings/sessions/{sid}/follow").status_code == 200
    with app.app_context():
        person = db.session.get(Participant, (sid, qcell["m2"]))
        assert person.mode == Mode.FOLLOW and person.first_joined_at is not None and not person.connected
        assert (
            db.session.scalar(
                select(Attendance.present).where(Attendance.session_id == sid, Attendance.user_id == qcell["m2"])
            )
            is True
        )
    login("bithu")
    row = client.get(f"/meetings/sessions/{sid}/board").text.split(f'id="board-{qcell["m2"]}"')[1].split("</tr>")[0]
    assert "theo dõi văn bản" in row and "chưa vào" not in row


def test_following_before_the_room_opens_records_nothing(app, client, qcell, login):
    _configure(app)
    sid = _online(app, starts_in=timedelta(days=2), status=SessionStatus.PLANNED)
    login("member2")
    assert client.get(f"/meetings/sessions/{sid}/follow").status_code == 200
    with app.app_context():
        person = db.session.get(Participant, (sid, qcell["m2"]))
        assert person is None or person.first_joined_at is None


def test_a_room_page_left_open_beside_follow_along_does_not_undo_it(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member2")
    client.get(f"/meetings/sessions/{sid}")
    client.get(f"/meetings/sessions/{sid}/follow")
    client.post(
        f"/meetings/sessions/{sid}/ingest",
        json=_batch(app, sid, "member2", "b-m2-left", mode="video", events=[{"t": _now_ms(0), "kind": "left"}]),
    )
    with app.app_context():
        assert db.session.get(Participant, (sid, qcell["m2"])).mode == Mode.FOLLOW
