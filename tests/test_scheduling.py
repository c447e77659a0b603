"""Scheduling plugin: programme, meetings, distancing mode, presenting group, questions, attendance."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from intranet.extensions import db
from intranet.models import AuditEvent, Office, User
from intranet.refusals import ServiceError
from intranet_scheduling import services
from intranet_scheduling.models import (
    Answer,
    Meeting,
    Programme,
    ProgrammeStatus,
    SessionKind,
    SessionMode,
    SessionStatus,
    TopicGroup,
)

FUTURE = (datetime.now(UTC) + timedelta(days=20)).astimezone()


@pytest.fixture
def cell2(data, cell):
    """The district cell with a committee member and more members (official and probationary)."""
    cell["committee"] = data.user("chiuy", "DIST", roles=("committee", "member"))
    cell["m2"] = data.user("member2", "DIST")
    cell["m3"] = data.user("member3", "DIST")
    cell["prob"] = data.user("dubi", "DIST", status="probationary")
    return cell


def _office(code):
    return db.session.scalar(select(Office).where(Office.code == code))


def _session(app, **kw):
    with app.app_context():
        fields = dict(
            kind=SessionKind.THEMATIC,
            title="Học tập Nghị quyết",
            duration_minutes=120,
            place="Hội trường",
            mode=SessionMode.IN_PERSON,
            starts_at=datetime.now(UTC) + timedelta(days=10),
        )
        fields.update(kw)
        session = services.create_session(_office("DIST"), **fields)
        db.session.commit()
        return session.id


def _form_day(when=FUTURE):
    return {"day": when.strftime("%Y-%m-%d"), "time": "08:00"}


def test_catalogue_is_seeded_for_new_offices(app, cell):
    with app.app_context():
        names = [t.name for t in services.topic_groups(_office("DIST").id)]
    assert len(names) == 7 and names[0].startswith("Giáo dục chính trị")


def test_plugin_is_on_by_default_and_can_be_switched_off(client, data, cell2, login):
    login("member1")
    assert client.get("/scheduling/").status_code == 200
    assert "Lịch sinh hoạt" not in client.get("/").text  # nav shows the entries, not the plugin title
    assert "Buổi sinh hoạt" in client.get("/").text
    data.enable("questions", "DIST", False)  # these need scheduling
    data.enable("evaluations", "DIST", False)
    data.enable("meetings", "DIST", False)
    data.enable("votes", "DIST", False)
    data.enable("scheduling", "DIST", False)
    assert client.get("/scheduling/").status_code == 404
    assert "Buổi sinh hoạt" not in client.get("/").text


def test_secretary_plans_a_meeting_and_members_cannot(app, client, cell2, login):
    login("member1")
    assert client.get("/scheduling/sessions/new").status_code == 403
    client.post("/logout")
    login("chiuy")
    response = client.post(
        "/scheduling/sessions/new",
        data={
            "kind": "thematic",
            "title": "Chuyên đề quý IV",
            "duration_minutes": 120,
            "place": "Phòng họp",
            "mode": "in_person",
            "programme_item_id": 0,
            **_form_day(),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        session = db.session.scalar(select(Meeting))
        local = session.starts_at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Ho_Chi_Minh"))
        assert (local.hour, local.minute) == (8, 0) and session.status == SessionStatus.PLANNED


@pytest.mark.parametrize(
    "change,message",
    [
        ({"day": "2020-01-01"}, "Buổi sinh hoạt phải diễn ra trong tương lai."),
        ({"day": "31/02/2027"}, "Hãy nhập ngày"),
        ({"duration_minutes": 5}, "Từ 15 đến 600 phút."),
        ({"title": ""}, "Trường này là bắt buộc."),
    ],
)
def test_bad_meeting_input_gets_a_clear_message(app, client, cell2, login, change, message):
    login("bithu")
    form = {
        "kind": "regular",
        "title": "Sinh hoạt thường kỳ",
        "duration_minutes": 90,
        "place": "",
        "mode": "online",
        "programme_item_id": 0,
        **_form_day(),
        **change,
    }
    response = client.post("/scheduling/sessions/new", data=form)
    assert response.status_code == 200 and message in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Meeting)) == 0


def test_programme_drafted_by_committee_approved_by_secretary(app, client, cell2, login):
    login("chiuy")
    with app.app_context():
        group = services.topic_groups(_office("DIST").id)[1].id
    page = client.get("/scheduling/programme/2027")
    assert page.status_code == 200 and "Nháp" in page.text
    client.post(
        "/scheduling/programme/2027",
        data={"quarter": 1, "topic_group_id": group, "title": "Kỹ năng kiểm sát", "lead_id": cell2["member"]},
    )
    assert "Kỹ năng kiểm sát" in client.get("/scheduling/programme/2027").text
    assert client.post("/scheduling/programme/2027/approve").status_code == 403  # committee cannot approve
    client.post("/logout")
    login("bithu")
    client.post("/scheduling/programme/2027/approve")
    page = client.get("/scheduling/programme/2027")
    assert "Đã phê duyệt" in page.text and "quý: 2, 3, 4" in page.text
    refused = client.post(
        "/scheduling/programme/2027", data={"quarter": 2, "topic_group_id": group, "title": "Thêm", "lead_id": 0}
    )
    assert "không thể thay đổi" in refused.text
    with app.app_context():
        assert db.session.scalar(select(Programme)).status == ProgrammeStatus.APPROVED


def test_programme_rejects_a_topic_group_of_another_office(app, client, cell2, login):
    with app.app_context():
        foreign = services.topic_groups(_office("OTHER").id)[0].id
        db.session.commit()
    login("bithu")
    response = client.post(
        "/scheduling/programme/2027", data={"quarter": 1, "topic_group_id": foreign, "title": "X", "lead_id": 0}
    )
    assert response.status_code == 200  # not a valid choice: refused by the form
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Programme)) == 1
        assert not db.session.scalar(select(Programme)).items


def test_topic_groups_can_be_added_and_retired(app, client, cell2, login):
    login("bithu")
    client.post("/scheduling/topics", data={"name": "Chuyển đổi số"})
    assert "Chuyển đổi số" in client.get("/scheduling/topics").text
    duplicate = client.post("/scheduling/topics", data={"name": "chuyển đổi số"})
    assert "Nhóm chủ đề này đã có." in duplicate.text
    with app.app_context():
        group = db.session.scalar(select(TopicGroup).where(TopicGroup.name == "Chuyển đổi số")).id
    client.post(f"/scheduling/topics/{group}/toggle")
    assert "đã thôi dùng" in client.get("/scheduling/topics").text


def test_group_of_two_or_three_from_this_cell(app, client, cell2, login):
    sid = _session(app)
    login("bithu")
    url = f"/scheduling/sessions/{sid}/group"
    one = client.post(url, data={"members": [cell2["member"]], "lead_id": cell2["member"]}, follow_redirects=True)
    assert "Nhóm chuẩn bị gồm 2 hoặc 3 đảng viên." in one.text
    foreign = client.post(
        url,
        data={"members": [cell2["member"], cell2["other_member"]], "lead_id": cell2["member"]},
        follow_redirects=True,
    )
    assert foreign.status_code == 200
    late = (FUTURE + timedelta(days=30)).strftime("%Y-%m-%d")
    too_late = client.post(
        url,
        data={"members": [cell2["member"], cell2["m2"]], "lead_id": cell2["member"], "report_due": late},
        follow_redirects=True,
    )
    assert "Hạn nộp báo cáo phải trước buổi sinh hoạt." in too_late.text
    past = client.post(
        url,
        data={"members": [cell2["member"], cell2["m2"]], "lead_id": cell2["member"], "report_due": "2020-01-01"},
        follow_redirects=True,
    )
    assert "Hạn nộp báo cáo không thể ở trong quá khứ." in past.text
    ok = client.post(
        url, data={"members": [cell2["member"], cell2["m2"]], "lead_id": cell2["m2"]}, follow_redirects=True
    )
    assert "Đã lưu nhóm chuẩn bị." in ok.text
    client.post("/logout")
    login("member1")
    assert "Học tập Nghị quyết" in client.get("/scheduling/mine").text.split('id="my-groups"')[1]
    assert "Nhóm của bạn trình bày" in client.get("/").text


def test_questions_visible_to_group_first_then_to_all(app, client, cell2, login):
    sid = _session(app)
    login("bithu")
    client.post(
        f"/scheduling/sessions/{sid}/group",
        data={"members": [cell2["member"], cell2["m2"]], "lead_id": cell2["member"]},
    )
    client.post(f"/scheduling/sessions/{sid}/questions", data={"text": "Liên hệ thực tiễn đơn vị?"})
    page = client.get(f"/scheduling/sessions/{sid}").text
    assert "Liên hệ thực tiễn đơn vị?" in page and "từ 3 đến 5 câu hỏi" in page
    client.post("/logout")
    login("member1")  # in the group
    assert "Liên hệ thực tiễn đơn vị?" in client.get(f"/scheduling/sessions/{sid}").text
    other = app.test_client()
    login("member3", c=other)  # not in the group
    assert "Liên hệ thực tiễn đơn vị?" not in other.get(f"/scheduling/sessions/{sid}").text
    assert other.post(f"/scheduling/sessions/{sid}/questions", data={"text": "x"}).status_code == 403
    client.post("/logout")
    login("bithu")
    client.post(f"/scheduling/sessions/{sid}/advance")
    assert "Liên hệ thực tiễn đơn vị?" in other.get(f"/scheduling/sessions/{sid}").text


def test_attendance_answers_and_quorum(app, client, cell2, login):
    sid = _session(app)
    login("member1")
    no_reason = client.post(
        f"/scheduling/sessions/{sid}/answer", data={"answer": "excused", "reason": " "}, follow_redirects=True
    )
    assert "Hãy cho biết lý do vắng mặt." in no_reason.text
    client.post(f"/scheduling/sessions/{sid}/answer", data={"answer": "excused", "reason": "Đi công tác"})
    assert client.post(f"/scheduling/sessions/{sid}/attendance", data={"present": [1]}).status_code == 403
    client.post("/logout")
    login("bithu")
    # Official members: bithu, member1, chiuy, member2, member3 (5); dubi is probationary.
    client.post(
        f"/scheduling/sessions/{sid}/attendance", data={"present": [cell2["secretary"], cell2["prob"], cell2["m2"]]}
    )
    page = client.get(f"/scheduling/sessions/{sid}").text
    assert "CHƯA đủ số lượng" in page and "vắng có lý do 1" in page
    client.post(
        f"/scheduling/sessions/{sid}/attendance", data={"present": [cell2["secretary"], cell2["m2"], cell2["m3"]]}
    )
    assert "Đủ số lượng" in client.get(f"/scheduling/sessions/{sid}").text
    with app.app_context():
        summary = services.summary(db.session.get(Meeting, sid))
        assert (summary.present_official, summary.official, summary.quorum) == (3, 5, True)


def test_distancing_mode_turns_meetings_online_and_back(app, client, cell2, login):
    in_person = _session(app)
    hybrid = _session(app, mode=SessionMode.HYBRID, title="Hybrid")
    past = _session(app, title="Past")
    with app.app_context():
        db.session.get(Meeting, past).starts_at = datetime.now(UTC) - timedelta(days=1)
        db.session.commit()
    login("bithu")
    response = client.post("/scheduling/distancing", data={"on": "1"}, follow_redirects=True)
    assert "1 buổi sinh hoạt trực tiếp sắp tới chuyển sang trực tuyến" in response.text
    with app.app_context():
        modes = {s.id: s.mode for s in db.session.scalars(select(Meeting))}
    assert modes == {in_person: SessionMode.ONLINE, hybrid: SessionMode.HYBRID, past: SessionMode.IN_PERSON}
    new = _session(app, title="During distancing")
    with app.app_context():
        assert db.session.get(Meeting, new).mode == SessionMode.ONLINE
    client.post("/scheduling/distancing", data={"on": "0"})
    with app.app_context():
        assert db.session.get(Meeting, in_person).mode == SessionMode.IN_PERSON
        assert db.session.get(Meeting, new).mode == SessionMode.IN_PERSON


def test_states_move_forward_and_closing_locks_the_record(app, client, cell2, login):
    sid = _session(app)
    login("chiuy")
    for _ in range(3):
        client.post(f"/scheduling/sessions/{sid}/advance")
    with app.app_context():
        assert db.session.get(Meeting, sid).status == SessionStatus.CLOSED
    again = client.post(f"/scheduling/sessions/{sid}/advance", follow_redirects=True)
    assert "đã kết thúc" in again.text
    edit = {
        "kind": "thematic",
        "title": "Sửa sau khi kết thúc",
        "duration_minutes": 120,
        "place": "",
        "mode": "in_person",
        "programme_item_id": 0,
        **_form_day(),
    }
    refused = client.post(f"/scheduling/sessions/{sid}/edit", data=edit)
    assert "chỉ bí thư được đính chính" in refused.text
    answer = client.post(f"/scheduling/sessions/{sid}/answer", data={"answer": "attend"}, follow_redirects=True)
    assert "Buổi sinh hoạt đã kết thúc." in answer.text
    client.post("/logout")
    login("bithu")
    assert client.post(f"/scheduling/sessions/{sid}/edit", data=edit).status_code == 302
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scheduling.session.correct"))
        assert event.details["previous"]["title"] == "Học tập Nghị quyết"


def test_no_page_of_one_office_shows_another_offices_meeting(app, client, cell2, login):
    sid = _session(app)
    login("othermember")
    assert "Học tập Nghị quyết" not in client.get("/scheduling/").text
    assert client.get(f"/scheduling/sessions/{sid}").status_code == 404
    assert client.post(f"/scheduling/sessions/{sid}/answer", data={"answer": "attend"}).status_code == 404


def test_session_hooks_reach_enabled_plugins(app, cell2):
    from intranet.hookspecs import hookimpl
    from intranet.plugins import manager

    heard = []

    class Listener:
        @hookimpl
        def intranet_session_created(self, session, actor):
            heard.append(("created", session.title))

        @hookimpl
        def intranet_session_status_changed(self, session, previous, actor):
            heard.append((previous.value, session.status.value))

    pm = manager(app).pm
    pm.register(Listener(), name="listener")
    try:
        sid = _session(app)
        with app.app_context():
            services.advance(db.session.get(Meeting, sid), SessionStatus.DOCUMENTS_SENT, None)
            db.session.commit()
    finally:
        pm.unregister(name="listener")
    assert heard == [("created", "Học tập Nghị quyết"), ("planned", "documents_sent")]


def test_member_answers_through_the_service(app, cell2):
    sid = _session(app)
    with app.app_context():
        session = db.session.get(Meeting, sid)
        outsider = db.session.get(User, cell2["other_member"])
        with pytest.raises(ServiceError):
            services.answer(session, outsider, Answer.ATTEND)
        services.answer(session, db.session.get(User, cell2["member"]), Answer.ONLINE)
        db.session.commit()
        assert session.attendance[0].answer == Answer.ONLINE


def test_demo_holds_a_realistic_year(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        sessions = db.session.scalars(select(Meeting)).all()
        # Twelve months and three ahead of regular meetings; a thematic one each quarter, and next Q1's.
        assert len(sessions) == 15 + 5
        assert sum(s.kind == SessionKind.THEMATIC for s in sessions) == 5
        assert any(s.starts_at > datetime.now(UTC) + timedelta(days=40) for s in sessions)
        past = [s for s in sessions if s.starts_at < datetime.now(UTC)]
        assert all(s.status == SessionStatus.CLOSED and services.summary(s).quorum for s in past)
        assert all(
            len(s.group) in (2, 3) and 3 <= len(s.questions) <= 5 for s in sessions if s.kind == SessionKind.THEMATIC
        )
        statuses = [p.status for p in db.session.scalars(select(Programme).order_by(Programme.year))]
        assert statuses == [ProgrammeStatus.APPROVED, ProgrammeStatus.DRAFT]


def test_private_calendar_feed_issue_use_revoke(app, client, cell2, login):
    from icalendar import Calendar

    _session(app, title="Chuyên đề có lịch")
    login("member1")
    assert "Tạo đường dẫn lịch của tôi" in client.get("/account").text
    issued = client.post("/scheduling/calendar/issue")
    url = __import__("re").search(r'value="(http[^"]+\.ics)"', issued.text).group(1)
    path = url.split("localhost", 1)[1]
    feed = app.test_client().get(path)  # no sign-in: the token is the key
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    events = [c for c in Calendar.from_ical(feed.data).walk("VEVENT")]
    assert [str(e["summary"]) for e in events] == ["Chuyên đề có lịch"]
    assert events[0]["dtend"].dt - events[0]["dtstart"].dt == timedelta(minutes=120)
    # A new link replaces the old one; revoking ends it; a guessed one never worked.
    newer = (
        __import__("re").search(r'value="(http[^"]+\.ics)"', client.post("/scheduling/calendar/issue").text).group(1)
    )
    assert app.test_client().get(path).status_code == 404
    new_path = newer.split("localhost", 1)[1]
    assert app.test_client().get(new_path).status_code == 200
    client.post("/scheduling/calendar/revoke")
    assert app.test_client().get(new_path).status_code == 404
    assert app.test_client().get("/scheduling/calendar/guess.ics").status_code == 404


def test_calendar_feed_stops_when_the_plugin_is_off_or_the_user_deactivated(app, client, data, cell2, login):
    import re

    login("member1")
    path = re.search(r'value="(http[^"]+\.ics)"', client.post("/scheduling/calendar/issue").text).group(1)
    path = path.split("localhost", 1)[1]
    data.enable("questions", "DIST", False)  # these need scheduling
    data.enable("evaluations", "DIST", False)
    data.enable("meetings", "DIST", False)
    data.enable("votes", "DIST", False)
    data.enable("scheduling", "DIST", False)
    assert app.test_client().get(path).status_code == 404
    data.enable("scheduling", "DIST", True)
    assert app.test_client().get(path).status_code == 200
    from intranet.admin.services import set_active

    with app.app_context():
        set_active(db.session.get(User, cell2["member"]), False)
        db.session.commit()
    assert app.test_client().get(path).status_code == 404


def test_reminders_are_sent_once_and_distancing_notifies(app, client, cell2, login):
    from intranet.notifications import Notification

    soon = _session(app, title="Sắp họp", starts_at=datetime.now(UTC) + timedelta(days=1))
    _session(app, title="Còn xa", starts_at=datetime.now(UTC) + timedelta(days=30))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["scheduling", "send-reminders", "--days", "2"])
    assert first.exit_code == 0 and first.output.startswith("6 reminders created")  # six members
    assert runner.invoke(args=["scheduling", "send-reminders"]).output.startswith("0 reminders")
    login("member1")
    page = client.get("/notifications/").text
    assert "Nhắc lịch: “Sắp họp”" in page and "Còn xa" not in page
    client.post("/logout")
    login("bithu")
    client.post("/scheduling/distancing", data={"on": "1"})
    with app.app_context():
        titles = db.session.scalars(select(Notification.title).where(Notification.user_id == cell2["member"])).all()
    assert "Chế độ giãn cách: các buổi sinh hoạt sắp tới chuyển sang trực tuyến" in titles
    assert soon


def test_quorum_rule_is_set_by_the_secretary(app, client, cell2, login):
    sid = _session(app)
    login("chiuy")
    assert client.post("/scheduling/quorum", data={"quorum_percent": 66}).status_code == 403
    client.post("/logout")
    login("bithu")
    bad = client.post("/scheduling/quorum", data={"quorum_percent": 20}, follow_redirects=True)
    assert "Từ 50 đến 99." in bad.text
    client.post(
        f"/scheduling/sessions/{sid}/attendance", data={"present": [cell2["secretary"], cell2["m2"], cell2["m3"]]}
    )
    assert "Đủ số lượng: hơn 50% số đảng viên chính thức có mặt." in client.get(f"/scheduling/sessions/{sid}").text
    client.post("/scheduling/quorum", data={"quorum_percent": 66})
    page = client.get(f"/scheduling/sessions/{sid}").text  # 3 of 5 official members is 60%
    assert "CHƯA đủ số lượng: không quá 66% số đảng viên chính thức có mặt." in page


def test_a_member_sees_only_their_own_questions_about_the_report(app, client, cell2, login):
    sid = _session(app)
    with app.app_context():
        session = db.session.get(Meeting, sid)
        services.advance(session, SessionStatus.DOCUMENTS_SENT, None)
        services.ask_about_report(session, db.session.get(User, cell2["m2"]), "Câu hỏi của member2")
        db.session.commit()
    login("member3")
    assert "Câu hỏi của member2" not in client.get(f"/scheduling/sessions/{sid}").text
    client.post(f"/scheduling/sessions/{sid}/ask", data={"ask-text": "Câu hỏi của member3"})
    assert "Câu hỏi của member3" in client.get(f"/scheduling/sessions/{sid}").text
    client.post("/logout")
    login("chiuy")
    page = client.get(f"/scheduling/sessions/{sid}").text
    assert "Câu hỏi của member2" in page and "Câu hỏi của member3" in page


def test_an_empty_discussion_question_is_a_message_not_an_error(app, client, cell2, login):
    sid = _session(app)
    login("bithu")
    response = client.post(f"/scheduling/sessions/{sid}/questions", data={"text": "  "}, follow_redirects=True)
    assert response.status_code == 200 and "Trường này là bắt buộc." in response.text


def test_month_view_places_meetings_on_their_local_day(app, client, cell2, login):
    # 23:30 UTC on the 9th is 06:30 on the 10th in Vietnam.
    when = datetime(2030, 5, 9, 23, 30, tzinfo=UTC)
    _session(app, title="Sáng sớm", starts_at=when)
    login("member1")
    page = client.get("/scheduling/month/2030/5").text
    cell_10 = page.split('<span class="day-number">10</span>')[1].split("</td>")[0]
    assert "06:30 Sáng sớm" in cell_10
    assert client.get("/scheduling/month/2030/13").status_code == 404
    assert client.get("/scheduling/month").status_code == 302
    other = app.test_client()
    login("othermember", c=other)
    assert "Sáng sớm" not in other.get("/scheduling/month/2030/5").text


def test_a_room_join_marks_the_member_present_through_the_hook(app, cell2):
    from intranet.plugins import manager

    sid = _session(app)
    with app.app_context():
        session = db.session.get(Meeting, sid)
        member = db.session.get(User, cell2["member"])
        manager(app).for_office(session.office_id).intranet_session_member_joined(
            session=session, user=member, source="jitsi"
        )
        db.session.commit()
        row = session.attendance[0]
        assert (row.user_id, row.present, row.taken_by) == (member.id, True, "jitsi")


@pytest.mark.parametrize(
    "username,roles,may_plan",
    [
        ("phobithu", ("deputy", "member"), True),
        ("chiuy2", ("committee", "member"), True),
        ("khach", ("guest",), False),
        ("dangvien", ("member",), False),
    ],
)
def test_who_may_plan(app, client, data, cell2, login, username, roles, may_plan):
    data.user(username, "DIST", roles=roles)
    login(username)
    assert (client.get("/scheduling/sessions/new").status_code == 200) == may_plan
    assert client.post("/scheduling/programme/2031/approve").status_code == 403  # only the secretary
