"""Meetings plugin: Jitsi tokens as prosody checks them, the quality state machine, the ingest, rights,
the office's settings, external-link check-in, guests, the board's figures, roll-up."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import func, select

from intranet.extensions import db
from intranet.models import AuditEvent, Office, User
from intranet.refusals import ServiceError
from intranet_meetings import jitsi, quality, services
from intranet_meetings.models import Event, JitsiAuth, Mode, OfficeConfig, Participant, Quality, Sample
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Attendance, Meeting, SessionKind, SessionMode, SessionStatus

SECRET = "a-long-shared-secret-for-prosody"


def _office(code="DIST") -> Office:
    return db.session.scalar(select(Office).where(Office.code == code))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _configure(app, **fields) -> None:
    with app.app_context():
        office = _office()
        config = services.config_for(office.id)
        config.jitsi_domain, config.auth, config.app_id, config.app_secret = (
            "meet.test",
            JitsiAuth.HS256,
            "chibo",
            SECRET,
        )
        for name, value in fields.items():
            setattr(config, name, value)
        db.session.merge(config)
        db.session.commit()


def _online(app, *, starts_in=timedelta(minutes=10), status=SessionStatus.IN_PROGRESS) -> int:
    with app.test_request_context():
        session = scheduling.create_session(
            _office(),
            kind=SessionKind.REGULAR,
            title="Sinh hoạt trực tuyến",
            starts_at=datetime.now(UTC) + starts_in,
            duration_minutes=90,
            place="",
            mode=SessionMode.ONLINE,
            record_past=True,
        )
        if status != SessionStatus.PLANNED:
            scheduling.advance(session, status, None)
        db.session.commit()
        return session.id


def _decode(token: str, **kw) -> dict:
    return jwt.decode(token, SECRET, algorithms=["HS256"], audience="chibo", issuer="chibo", **kw)


# --- the JWT ----------------------------------------------------------------------------------------


def test_self_hosted_token_carries_the_claims_prosody_checks(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    answer = client.get(f"/meetings/sessions/{sid}/token").get_json()
    with app.app_context():
        room = services.room_for(db.session.get(Meeting, sid)).room_name
    claims = _decode(answer["jwt"])
    assert claims["room"] == room == answer["room"] and claims["room"] != "*" and len(room) >= 24
    assert claims["sub"] == "meet.test" and claims["nbf"] < time.time() < claims["exp"] <= time.time() + 16 * 60
    assert claims["context"]["user"] == {
        "id": str(qcell["member"]),
        "name": "Member1",
        "email": "",
        "avatar": "",
        "moderator": "false",
        "affiliation": "member",
    }
    login("bithu")
    chair = _decode(client.get(f"/meetings/sessions/{sid}/token").get_json()["jwt"])["context"]["user"]
    assert (chair["moderator"], chair["affiliation"]) == ("true", "owner")  # JaaS, and token_affiliation


def test_a_token_is_for_one_room_and_expires(app, qcell):
    _configure(app)
    with app.app_context():
        config, member = services.config_for(_office().id), _user("member1")
        issued = time.time() - 3600
        old = jitsi.token(config, "meet.test", "room-a", member, moderator=False, now=issued)
        fresh = jitsi.token(config, "meet.test", "room-a", member, moderator=False)
    with pytest.raises(jwt.ExpiredSignatureError):
        _decode(old)
    assert _decode(fresh)["room"] == "room-a"  # prosody compares this to the room joined: room-b is refused
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(fresh, "another-shared-secret-of-the-same-length", algorithms=["HS256"], audience="chibo")


def test_jaas_token_is_rs256_with_the_key_id(app, qcell):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    with app.app_context():
        config = OfficeConfig(
            office_id=1,
            jitsi_domain="8x8.vc",
            auth=JitsiAuth.JAAS,
            app_id="vpaas-magic-cookie-1",
            jaas_key_id="vpaas-magic-cookie-1/abc",
            jaas_private_key=pem,
        )
        token = jitsi.token(config, "8x8.vc", "chibo-1", _user("bithu"), moderator=True)
    assert jwt.get_unverified_header(token)["kid"] == "vpaas-magic-cookie-1/abc"
    claims = jwt.decode(token, key.public_key(), algorithms=["RS256"], audience="jitsi", issuer="chat")
    assert claims["sub"] == "vpaas-magic-cookie-1" and claims["context"]["user"]["moderator"] == "true"
    assert jitsi.room_path(config, "chibo-1") == "vpaas-magic-cookie-1/chibo-1"


@pytest.mark.parametrize("username, status", [("khach", 403), ("distadmin", 403), ("othermember", 404)])
def test_only_members_and_invited_guests_get_a_token(app, client, qcell, login, username, status):
    _configure(app)
    sid = _online(app)
    login(username)
    assert client.get(f"/meetings/sessions/{sid}/token").status_code == status
    assert client.get(f"/meetings/sessions/{sid}").status_code == status


def test_an_invited_guest_of_another_office_joins_without_moderation(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    refused = client.post(f"/meetings/sessions/{sid}/guests", data={"username": "othermember"}, follow_redirects=True)
    assert "Chỉ bí thư mới mời khách" in refused.text
    login("bithu")
    client.post(f"/meetings/sessions/{sid}/guests", data={"username": "othermember"})
    login("othermember")
    assert client.get(f"/meetings/sessions/{sid}").status_code == 200
    claims = _decode(client.get(f"/meetings/sessions/{sid}/token").get_json()["jwt"])
    assert claims["context"]["user"]["moderator"] == "false"
    assert client.get(f"/meetings/sessions/{sid}/board").status_code == 403


def test_the_room_opens_only_from_the_set_time(app, client, qcell, login):
    _configure(app, open_minutes_before=30)
    sid = _online(app, starts_in=timedelta(hours=3), status=SessionStatus.DOCUMENTS_SENT)
    login("member1")
    answer = client.get(f"/meetings/sessions/{sid}/token")
    assert answer.status_code == 409 and "Phòng họp mở lúc" in answer.get_json()["error"]
    assert "Phòng họp mở lúc" in client.get(f"/meetings/sessions/{sid}").text


# --- the state machine ------------------------------------------------------------------------------


def _config(**kw) -> OfficeConfig:
    base = dict(
        rtt_degraded_ms=400,
        rtt_poor_ms=1000,
        loss_degraded_pct=3.0,
        loss_poor_pct=10.0,
        quality_degraded=60,
        quality_poor=30,
        samples_to_change=3,
    )
    base.update(kw)
    return OfficeConfig(**base)


def test_verdicts_take_the_worst_measure():
    config = _config()
    assert quality.verdict(config, rtt_ms=100, loss_pct=0, quality=100) == Quality.GOOD
    assert quality.verdict(config, rtt_ms=500) == Quality.DEGRADED
    assert quality.verdict(config, rtt_ms=100, loss_pct=12) == Quality.POOR
    assert quality.verdict(config, quality=20) == Quality.POOR
    assert quality.verdict(config) == Quality.GOOD  # nothing measured says nothing


def test_hysteresis_keeps_the_state_from_flapping():
    person = Participant(state=Quality.GOOD, worst=Quality.GOOD, candidate=None, candidate_count=0)
    assert not quality.observe(person, Quality.POOR, 3)
    assert not quality.observe(person, Quality.POOR, 3)
    assert not quality.observe(person, Quality.GOOD, 3)  # one good sample: the count starts again
    assert [quality.observe(person, Quality.POOR, 3) for _ in range(3)] == [False, False, True]
    assert person.state == person.worst == Quality.POOR
    assert [quality.observe(person, Quality.GOOD, 3) for _ in range(3)] == [False, False, True]
    assert person.state == Quality.GOOD and person.worst == Quality.POOR
    assert quality.ADVICE[Quality.POOR] == "audio_only"


# --- the ingest -------------------------------------------------------------------------------------


def _batch(app, sid, username, batch="batch-0001", samples=(), events=(), token=None, mode=None):
    with app.test_request_context():
        token = token or services.ingest_token(sid, _user(username).id)
    body = {"batch": batch, "token": token, "samples": list(samples), "events": list(events)}
    if mode:
        body["mode"] = mode
    return body


def _now_ms(offset_s: float = 0) -> int:
    return int((time.time() + offset_s) * 1000)


def _enter(app, sid, username, ago=timedelta(0)) -> None:
    """The server serves ``username`` the open room (``ago`` before now): what a join counts from."""
    with app.test_request_context():
        services.enter(db.session.get(Meeting, sid), _user(username), datetime.now(UTC) - ago)
        db.session.commit()


def test_joining_counts_as_present_and_a_drop_is_counted_once(app, client, qcell, login):
    _configure(app, samples_to_change=2)
    sid = _online(app)
    login("member1")
    assert client.get(f"/meetings/sessions/{sid}").status_code == 200  # the server sees the member enter
    url = f"/meetings/sessions/{sid}/ingest"
    joined = client.post(
        url, json=_batch(app, sid, "member1", "b-join-01", events=[{"t": _now_ms(), "kind": "joined"}])
    )
    assert joined.get_json() == {"state": "good", "advice": "full", "duplicate": False, "ignored": 0, "floor": False}
    poor = [{"t": _now_ms(i / 10), "rtt": 1500} for i in range(2)]
    assert (
        client.post(url, json=_batch(app, sid, "member1", "b-poor-01", samples=poor)).get_json()["advice"]
        == "audio_only"
    )
    drop = _batch(
        app,
        sid,
        "member1",
        "b-drop-01",
        events=[{"t": _now_ms(1), "kind": "dropped", "detail": {"name": "conference.connectionError"}}],
    )
    assert client.post(url, json=drop).get_json()["state"] == "disconnected"
    replay = client.post(url, json=drop).get_json()
    assert replay["duplicate"] is True
    client.post(url, json=_batch(app, sid, "member1", "b-back-01", events=[{"t": _now_ms(2), "kind": "reconnected"}]))
    with app.app_context():
        person = db.session.get(Participant, (sid, qcell["member"]))
        assert (person.drops, person.reconnects, person.state, person.worst) == (
            1,
            1,
            Quality.GOOD,
            Quality.DISCONNECTED,
        )
        present = db.session.scalar(
            select(Attendance.present).where(Attendance.session_id == sid, Attendance.user_id == qcell["member"])
        )
        assert present is True  # through the scheduling plugin's hook
        kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.at, Event.id))]
        assert kinds == ["joined", "state", "dropped", "reconnected"]


@pytest.mark.parametrize(
    "body, status",
    [
        ("not json", 400),
        ("[1, 2]", 422),
        (json.dumps({"batch": "x", "token": "t"}), 422),
        (json.dumps({"batch": "good-batch-id", "token": "forged"}), 422),
        (json.dumps({"batch": "good-batch-id", "token": None, "samples": "many"}), 422),
    ],
)
def test_malformed_batches_are_refused_cleanly(app, client, qcell, login, body, status):
    _configure(app)
    sid = _online(app)
    login("member1")
    if "None" in body or "null" in body:
        with app.test_request_context():
            body = body.replace("null", json.dumps(services.ingest_token(sid, qcell["member"])))
    response = client.post(f"/meetings/sessions/{sid}/ingest", data=body, content_type="application/json")
    assert response.status_code == status and response.is_json


def test_oversized_batches_and_crowded_ones_are_refused(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    url = f"/meetings/sessions/{sid}/ingest"
    huge = _batch(app, sid, "member1", samples=[{"t": _now_ms(), "rtt": 10, "pad": "x" * 2000}] * 40)
    assert client.post(url, json=huge).status_code == 413
    crowded = _batch(app, sid, "member1", samples=[{"t": _now_ms(), "rtt": 10}] * 61)
    assert client.post(url, json=crowded).status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count(Sample.id))) == 0


def test_samples_from_the_future_or_the_far_past_are_ignored(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    samples = [
        {"t": _now_ms(3600), "rtt": 10},
        {"t": _now_ms(-3600), "rtt": 10},
        {"t": "soon", "rtt": 10},
        {"t": _now_ms(), "rtt": "fast"},
        {"t": _now_ms(), "rtt": 120},
        {"t": 1e30, "rtt": 1},
    ]
    answer = client.post(
        f"/meetings/sessions/{sid}/ingest", json=_batch(app, sid, "member1", samples=samples)
    ).get_json()
    assert answer["ignored"] == 5
    with app.app_context():
        assert db.session.scalar(select(func.count(Sample.id))) == 1


def test_samples_for_a_meeting_the_user_is_not_in_are_refused(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("othermember")
    with app.test_request_context():
        token = services.ingest_token(sid, qcell["other_member"])
    response = client.post(f"/meetings/sessions/{sid}/ingest", json={"batch": "outsider-1", "token": token})
    assert response.status_code == 404


def test_board_report_and_participation(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member2")
    _enter(app, sid, "member2", ago=timedelta(seconds=301))
    start = _now_ms(-300)
    client.post(
        f"/meetings/sessions/{sid}/ingest",
        json=_batch(
            app,
            sid,
            "member2",
            "b-m2-0001",
            mode="audio",
            events=[
                {"t": start, "kind": "joined"},
                {"t": start + 120_000, "kind": "dropped"},
                {"t": start + 150_000, "kind": "reconnected"},
                {"t": start + 270_000, "kind": "left"},
            ],
        ),
    )
    login("member1")
    assert client.get(f"/meetings/sessions/{sid}/board").status_code == 403
    login("bithu")
    board = client.get(f"/meetings/sessions/{sid}/board").text
    row = board.split(f'id="board-{qcell["m2"]}"')[1].split("</tr>")[0]
    assert "mất kết nối" in row and "chỉ âm thanh" in row and '<td class="drops">1</td>' in row
    assert "chưa vào" in board.split(f'id="board-{qcell["m3"]}"')[1].split("</tr>")[0]
    with app.test_request_context():
        record = services.participation([db.session.get(Meeting, sid)])[sid]
    assert record[qcell["m2"]] == {"minutes_connected": 4, "drops": 1}  # 2 min, then 2 min after the rejoin
    assert record[qcell["m3"]] == {"minutes_connected": 0, "drops": 0}
    assert "4" in client.get(f"/meetings/sessions/{sid}/report").text


# --- external link, settings, roll-up ----------------------------------------------------------------


def test_external_link_check_in_records_attendance(app, client, qcell, login):
    sid = _online(app)
    login("member1")
    refused = client.post(
        f"/meetings/sessions/{sid}/room", data={"provider": "external", "external_url": "x"}, follow_redirects=True
    )
    assert "Chỉ bí thư và chi ủy mới thiết lập phòng họp" in refused.text
    login("bithu")
    bad = client.post(
        f"/meetings/sessions/{sid}/room", data={"provider": "external", "external_url": "zoom"}, follow_redirects=True
    )
    assert "Hãy dán đường dẫn họp" in bad.text
    client.post(
        f"/meetings/sessions/{sid}/room",
        data={
            "provider": "external",
            "external_url": "https://zoom.example/j/1",
            "dial_in": "Gọi 024 000 0000, mã 123",
        },
    )
    login("member1")
    page = client.get(f"/meetings/sessions/{sid}").text
    assert "https://zoom.example/j/1" in page and "Gọi 024 000 0000" in page
    client.post(f"/meetings/sessions/{sid}/check-in")
    assert "Bạn đã điểm danh" in client.get(f"/meetings/sessions/{sid}").text
    with app.app_context():
        assert (
            db.session.scalar(
                select(Attendance.present).where(Attendance.session_id == sid, Attendance.user_id == qcell["member"])
            )
            is True
        )
        assert db.session.get(Participant, (sid, qcell["member"])).mode == Mode.LINK


def test_jitsi_settings_only_by_the_office_admin_and_secrets_stay_hidden(app, client, qcell, login):
    login("member1")
    assert client.get("/meetings/config").status_code == 403
    login("otheradmin")
    with app.app_context():
        dist = _office().id
    assert client.get(f"/meetings/config/{dist}").status_code == 404
    login("distadmin")
    form = {
        "jitsi_domain": "meet.vks.gov.vn",
        "backup_domains": "meet2.vks.gov.vn",
        "auth": "hs256",
        "app_id": "chibo",
        "app_secret": SECRET,
        "jaas_key_id": "",
        "jaas_private_key": "",
        "open_minutes_before": "30",
        "rtt_degraded_ms": "400",
        "rtt_poor_ms": "1000",
        "loss_degraded_pct": "3",
        "loss_poor_pct": "10",
        "quality_degraded": "60",
        "quality_poor": "30",
        "samples_to_change": "3",
    }
    client.post("/meetings/config", data=form)
    page = client.get("/meetings/config").text
    assert "meet.vks.gov.vn" in page and SECRET not in page
    client.post("/meetings/config", data={**form, "app_secret": "", "open_minutes_before": "45"})  # secret kept
    bad = client.post("/meetings/config", data={**form, "jitsi_domain": "not a domain"}, follow_redirects=True)
    assert "không phải tên miền" in bad.text
    broken = client.post(
        "/meetings/config",
        data={**form, "auth": "jaas", "jaas_key_id": "k", "jaas_private_key": "-----BEGIN nonsense"},
        follow_redirects=True,
    )
    assert "Không ký được token bằng khóa này" in broken.text
    with app.app_context():
        config = services.config_for(dist)
        assert (config.app_secret, config.open_minutes_before, config.backup_domains) == (
            SECRET,
            45,
            "meet2.vks.gov.vn",
        )
        audit = " ".join(json.dumps(e.details) for e in db.session.scalars(select(AuditEvent)))
        assert SECRET not in audit and "app_secret" in audit


def test_old_samples_are_rolled_up(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    client.post(
        f"/meetings/sessions/{sid}/ingest",
        json=_batch(app, sid, "member1", samples=[{"t": _now_ms(-i), "rtt": 100 + i, "loss": i} for i in range(5)]),
    )
    with app.app_context():
        later = datetime.now(UTC) + timedelta(hours=30)
        assert services.roll_up(timedelta(hours=24), now=later) == 5
        db.session.commit()
        person = db.session.get(Participant, (sid, qcell["member"]))
        assert (person.rolled_samples, person.rolled_loss_max) == (5, 4.0)
        assert db.session.scalar(select(func.count(Sample.id))) == 0
    result = app.test_cli_runner().invoke(args=["meetings", "roll-up", "--hours", "0"])
    assert result.exit_code == 0 and "rolled up" in result.output


def test_members_ticked_present_in_the_hall_show_so_on_the_board(app, client, qcell, login):
    sid = _online(app)
    with app.test_request_context():
        scheduling.take_attendance(db.session.get(Meeting, sid), {qcell["m3"]}, None)
        db.session.commit()
    login("bithu")
    board = client.get(f"/meetings/sessions/{sid}/board").text
    assert "tại hội trường" in board.split(f'id="board-{qcell["m3"]}"')[1].split("</tr>")[0]


def test_a_hand_raised_in_the_room_joins_the_speakers_list_as_from_the_room(app, client, qcell, login):
    from intranet_questions.models import Speaker, SpeakerSource

    _configure(app)
    sid = _online(app)
    login("member1")
    page = client.get(f"/meetings/sessions/{sid}").text
    assert 'name="source" value="room"' in page
    client.post(f"/questions/sessions/{sid}/hand", data={"source": "room"})
    with app.app_context():
        assert db.session.scalar(select(Speaker.source).where(Speaker.session_id == sid)) == SpeakerSource.ROOM
    login("bithu")
    client.post(f"/meetings/sessions/{sid}/guests", data={"username": "othermember"})
    login("othermember")  # a guest of another office: the room and follow-along, not the cell's queue
    assert 'name="source" value="room"' not in client.get(f"/meetings/sessions/{sid}").text
    assert client.get(f"/meetings/sessions/{sid}/follow").status_code == 200
    assert "follow-queue" not in client.get(f"/meetings/sessions/{sid}/follow").text


def test_a_guest_follows_the_notes_and_only_moderators_have_the_board(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("bithu")
    client.post(f"/meetings/sessions/{sid}/guests", data={"username": "othermember"})
    assert client.get(f"/meetings/sessions/{sid}/poll/board").status_code == 200
    login("othermember")  # an invited guest of another office: the declared routes take the guest view too
    assert client.get(f"/meetings/sessions/{sid}/poll/notes").status_code == 200
    assert client.get(f"/meetings/sessions/{sid}/poll/board").status_code == 403
    assert client.get(f"/meetings/sessions/{sid}/stream?page=board").status_code == 403


def test_the_queue_comes_through_slots_and_is_left_out_where_questions_is_off(app, client, data, qcell, login):
    """The room and follow-along pages name none of the questions plugin's routes or regions: it fills
    their slots, and where it is off for the cell the slots are empty and the pages whole."""
    _configure(app)
    sid = _online(app)
    login("member1")
    follow = client.get(f"/meetings/sessions/{sid}/follow").text
    assert 'id="follow-queue"' in follow and f"/questions/sessions/{sid}/stream?page=follow" in follow
    data.enable("questions", "DIST", False)
    for page in (f"/meetings/sessions/{sid}/follow", f"/meetings/sessions/{sid}"):
        response = client.get(page)
        assert response.status_code == 200 and "/questions/" not in response.text
    assert 'id="notes"' in client.get(f"/meetings/sessions/{sid}/follow").text


def test_a_secret_is_stored_as_typed_and_a_control_character_refused(app, qcell):
    """The column guard collapsed a secret's double spaces and trimmed it, so Jitsi's or coturn's own
    copy never matched (found on the directory's search password; the same class here)."""
    with app.test_request_context():
        dist = _office().id
        admin = db.session.scalar(select(User).where(User.username == "distadmin"))
        fields = {k: getattr(services.config_for(dist), k) for k in ("jitsi_domain", "backup_domains")}
        fields |= {k: getattr(services.config_for(dist), k) for k in services.THRESHOLDS}
        fields |= {"auth": JitsiAuth.HS256, "app_id": "chibo", "jaas_key_id": ""}
        services.save_config(dist, admin, secrets_given={"app_secret": " two  spaces "}, **fields)
        db.session.commit()
        assert services.config_for(dist).app_secret == " two  spaces "
        with pytest.raises(ServiceError, match="ký tự điều khiển"):
            services.save_config(dist, admin, secrets_given={"app_secret": "bell\x07"}, **fields)
