"""Evaluations plugin: conclusion, resolution tasks, minutes and resolution documents (.docx), the
group's evaluation, anonymous ratings, participation and the passive rule, the periodic review."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import docx
import pytest
from sqlalchemy import func, inspect, select

from intranet import days, party_docx
from intranet.extensions import db
from intranet.models import AuditEvent, Office, User
from intranet.notifications import Notification
from intranet_evaluations import documents, formats, participation, review, services, shelf
from intranet_evaluations.models import CellDocument as Document
from intranet_evaluations.models import EvaluationOfficeSettings, Note, NoteKind, Rating, Task, TaskStatus
from intranet_questions import services as queue
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import SessionKind, SessionMode, SessionStatus

PAST = datetime.now(UTC) - timedelta(days=3)


def _office(code="DIST") -> Office:
    return db.session.scalar(select(Office).where(Office.code == code))


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _held(app, *, kind=SessionKind.THEMATIC, when=PAST, absent=("member3",), close=True, group=True) -> int:
    """A meeting already held: group, attendance (``absent`` missing, member2 excused), then closed."""
    with app.test_request_context():
        meeting = scheduling.create_session(
            _office(),
            kind=kind,
            title="Chuyên đề học tập",
            starts_at=when,
            duration_minutes=120,
            place="Hội trường",
            mode=SessionMode.IN_PERSON,
            record_past=True,
        )
        if kind == SessionKind.THEMATIC and group:
            meeting.group.clear()
            scheduling.set_group(meeting, [_user("member1"), _user("phobithu")], _user("member1"), None, None)
            scheduling.add_question(meeting, "Điểm mới của chuyên đề?", None)
        scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
        scheduling.answer(meeting, _user("member2"), scheduling.Answer.EXCUSED, "Ốm")
        present = {u.id for u in scheduling.members(meeting.office_id) if u.username not in (*absent, "member2")}
        scheduling.take_attendance(meeting, present, None)
        if close:
            scheduling.advance(meeting, SessionStatus.CLOSED, None)
        db.session.commit()
        return meeting.id


def _as(app, username, change):
    with app.test_request_context():
        result = change(_user(username))
        db.session.commit()
        return result


def _meeting(sid):
    from intranet_scheduling.models import Meeting

    return db.session.get(Meeting, sid)


# --- conclusion and tasks ---------------------------------------------------------------------------


def test_deputy_drafts_the_conclusion_and_only_the_secretary_records_it(app, client, qcell, login):
    sid = _held(app)
    login("phobithu")
    client.post(
        f"/evaluations/sessions/{sid}/record",
        data={"chair_id": "0", "taker_id": str(qcell["committee"]), "conclusion": "Bản nháp", "final": "0"},
    )
    refused = client.post(
        f"/evaluations/sessions/{sid}/record",
        data={"chair_id": "0", "taker_id": "0", "conclusion": "Chốt", "final": "1"},
        follow_redirects=True,
    )
    assert "Chỉ bí thư mới làm được việc này" in refused.text
    login("member1")
    member = client.post(
        f"/evaluations/sessions/{sid}/record",
        data={"chair_id": "0", "taker_id": "0", "conclusion": "X", "final": "0"},
        follow_redirects=True,
    )
    assert "Chỉ bí thư hoặc phó bí thư mới soạn được" in member.text
    login("bithu")
    client.post(
        f"/evaluations/sessions/{sid}/record",
        data={
            "chair_id": str(qcell["secretary"]),
            "taker_id": str(qcell["committee"]),
            "conclusion": "Kết luận chính thức",
            "final": "1",
        },
    )
    with app.app_context():
        record = services.record_for(_meeting(sid))
        assert (record.conclusion, record.final, record.taker_id) == ("Kết luận chính thức", True, qcell["committee"])
    login("member1")
    assert "Kết luận chính thức" in client.get(f"/evaluations/sessions/{sid}").text


def test_tasks_are_numbered_dated_after_the_meeting_and_followed_up_by_their_owner(app, client, qcell, login):
    sid = _held(app)
    login("bithu")
    before = (PAST - timedelta(days=2)).strftime("%Y-%m-%d")
    refused = client.post(
        f"/evaluations/sessions/{sid}/tasks",
        data={"what": "Sớm quá", "owner_id": "0", "due": before},
        follow_redirects=True,
    )
    assert "Thời hạn không thể trước buổi sinh hoạt" in refused.text
    garbage = client.post(
        f"/evaluations/sessions/{sid}/tasks",
        data={"what": "Ngày sai", "owner_id": "0", "due": "31/02/x"},
        follow_redirects=True,
    )
    assert garbage.status_code == 200 and "Hãy nhập ngày theo dạng ngày/tháng/năm" in garbage.text
    for what, within in (("Một", 1), ("Hai", 60), ("Ba", 90)):
        client.post(
            f"/evaluations/sessions/{sid}/tasks",
            data={
                "what": what,
                "owner_id": str(qcell["member"]),
                "due": (date.today() + timedelta(days=within)).isoformat(),
            },
        )
    with app.app_context():
        first = db.session.scalar(select(Task).where(Task.what == "Một")).id
    client.post(f"/evaluations/tasks/{first}/delete")
    with app.app_context():
        assert [(t.number, t.what) for t in services.tasks(_meeting(sid))] == [(1, "Hai"), (2, "Ba")]
        second = db.session.scalar(select(Task).where(Task.what == "Hai")).id
    login("member2")
    client.post(f"/evaluations/tasks/{second}/progress", data={"status": "done", "progress": "Xong"})
    login("member1")
    client.post(f"/evaluations/tasks/{second}/progress", data={"status": "in_progress", "progress": "Đang làm"})
    with app.app_context():
        task = db.session.get(Task, second)
        assert (task.status, task.progress) == (TaskStatus.IN_PROGRESS, "Đang làm")


def test_overdue_tasks_show_on_the_secretary_home_page_and_the_next_meeting(app, client, qcell, login):
    sid = _held(app, when=datetime.now(UTC) - timedelta(days=40))
    with app.test_request_context():
        task = services.add_task(
            _meeting(sid),
            _user("bithu"),
            what="Nộp kế hoạch cá nhân",
            owner=_user("member1"),
            due=date.today() - timedelta(days=5),
        )
        db.session.commit()
    with app.test_request_context():
        upcoming = scheduling.create_session(
            _office(),
            kind=SessionKind.REGULAR,
            title="Tháng tới",
            starts_at=datetime.now(UTC) + timedelta(days=5),
            duration_minutes=90,
            place="",
            mode=SessionMode.IN_PERSON,
        )
        db.session.commit()
        upcoming_id = upcoming.id
    login("bithu")
    assert "Nộp kế hoạch cá nhân" in client.get("/").text
    assert "Nộp kế hoạch cá nhân" in client.get(f"/scheduling/sessions/{upcoming_id}").text
    login("member2")  # not the secretary, not the owner: not on their home page
    assert "Nộp kế hoạch cá nhân" not in client.get("/").text
    login("member1")  # the owner sees it among their tasks
    assert "Nộp kế hoạch cá nhân" in client.get("/").text
    assert task


# --- documents --------------------------------------------------------------------------------------


def _discussion(app, sid):
    """Questions in the queue while the meeting ran: one named, one fully anonymous; two speakers."""
    with app.test_request_context():
        meeting = _meeting(sid)
        meeting.status = SessionStatus.IN_PROGRESS
        settings = queue.save_settings(
            meeting,
            _user("bithu"),
            anonymity=queue.Anonymity.ANONYMOUS,
            premoderation=False,
            sort=queue.Sort.VOTES,
            quiet_first=True,
            open_limit=3,
            chair=None,
        )
        queue.ask(meeting, _user("chiuy"), "Câu hỏi ẩn danh")
        settings.anonymity = queue.Anonymity.NAMED  # names shown from here on; the earlier author stays hidden
        db.session.flush()
        named = queue.ask(meeting, _user("member1"), "Câu hỏi có tên")
        queue.mark_answered(named, _user("bithu"))
        for name in ("member1", "chiuy"):
            turn = queue.raise_hand(meeting, _user(name))
            queue.give_floor(turn, _user("bithu"))
            turn.started_at -= timedelta(seconds=150)
            queue.finish(turn, _user("bithu"))
        meeting.status = SessionStatus.CLOSED
        db.session.commit()


def test_minutes_are_drafted_from_the_record_edited_signed_and_exported(app, client, qcell, login):
    sid = _held(app)
    _discussion(app, sid)
    login("phobithu")
    draft = client.post(f"/evaluations/sessions/{sid}/minutes", follow_redirects=True)
    assert draft.status_code == 200 and "BIÊN BẢN" in draft.text
    with app.app_context():
        doc = shelf.current(_meeting(sid), "minutes")
        text = "\n".join(s["text"] for s in doc.content["sections"])
        doc_id, count = doc.id, len(doc.content["sections"])
    # The record: attendance with the excused reason and the absentee, the discussion from the queue.
    assert (
        "Vắng có lý do: 1 đồng chí: Đảng Viên Hai (Ốm)" in text
        and "Vắng không có lý do: 1 đồng chí: Đảng Viên Ba" in text
    )
    assert "Câu hỏi có tên (đồng chí Member1" in text
    assert "Câu hỏi ẩn danh (ẩn danh" in text and "Chi Ủy (1 lượt, 2 phút 30 giây)" in text
    assert "Chi Ủy;" not in text.split("Câu hỏi ẩn danh")[1].split("\n")[0]  # the anonymous author stays unnamed
    sections = [f"Đoạn {i}" for i in range(count)]
    client.post(f"/evaluations/documents/{doc_id}", data={"action": "save", "section": sections})
    refused = client.post(
        f"/evaluations/documents/{doc_id}", data={"action": "sign", "section": sections}, follow_redirects=True
    )
    assert "Chỉ bí thư mới làm được việc này" in refused.text
    login("bithu")
    client.post(f"/evaluations/documents/{doc_id}", data={"action": "sign", "section": sections})
    locked = client.post(
        f"/evaluations/documents/{doc_id}", data={"action": "save", "section": sections}, follow_redirects=True
    )
    assert "Văn bản đã ký: hãy đính chính" in locked.text
    corrected = [*sections[:-1], "Đoạn cuối đã đính chính"]
    client.post(
        f"/evaluations/documents/{doc_id}",
        data={"action": "correct", "section": corrected, "reason": "Sửa giờ kết thúc"},
    )
    with app.app_context():
        versions = shelf.versions(_meeting(sid), "minutes")
        assert [(v.version, v.signed_at is not None) for v in versions] == [(2, True), (1, True)]
        assert versions[1].content["sections"][-1]["text"] == f"Đoạn {count - 1}"  # the signed version is kept
        assert versions[0].correction_reason == "Sửa giờ kết thúc"
        actions = set(
            db.session.scalars(select(AuditEvent.action).where(AuditEvent.action.like("evaluations.minutes.%")))
        )
        assert actions == {
            "evaluations.minutes.draft",
            "evaluations.minutes.edit",
            "evaluations.minutes.sign",
            "evaluations.minutes.correct",
        }
        newest = versions[0].id
    exported = client.get(f"/evaluations/documents/{newest}.docx")
    assert exported.mimetype.endswith("wordprocessingml.document")
    opened = docx.Document(io.BytesIO(exported.data))
    header = opened.tables[0].rows[0].cells
    assert "CHI BỘ" in header[0].text and "ĐẢNG CỘNG SẢN VIỆT NAM" in header[1].text and "ngày" in header[1].text
    assert header[1].paragraphs[0].runs[0].underline
    paragraphs = [p.text for p in opened.paragraphs]
    assert "BIÊN BẢN" in paragraphs and "Đoạn cuối đã đính chính" in paragraphs
    attendance = next(t for t in opened.tables if t.rows[0].cells[0].text == "Họ và tên")
    statuses = {row.cells[0].text: row.cells[2].text for row in attendance.rows[1:]}
    assert statuses["Đảng Viên Hai"] == "Vắng có lý do" and statuses["Member1"] == "Có mặt"
    signatures = opened.tables[-1].rows[0].cells
    assert signatures[0].paragraphs[0].text == "THƯ KÝ" and signatures[1].paragraphs[0].text == "CHỦ TRÌ"


def test_the_minutes_name_the_guest_the_real_closing_time_the_topic_and_the_programme_year(app, client, qcell, login):
    """A meeting of next year's programme, held early (05:19 local) with a guest, closed days later."""
    from intranet_meetings import services as meetings

    with app.app_context():
        start = days.at(PAST.date(), time(5, 19))
    sid = _held(app, when=start, close=False)
    with app.test_request_context():
        meeting, secretary = _meeting(sid), _user("bithu")
        programme = scheduling.programme_for(meeting.office_id, PAST.year + 1)
        meeting.programme_item = scheduling.add_programme_item(
            programme,
            quarter=1,
            topic_group=scheduling.topic_groups(meeting.office_id)[0],
            title="Chuyên đề học tập",
            lead=None,
            actor=secretary,
        )
        meetings.invite_guest(meeting, secretary, "othermember")
        db.session.commit()
    with app.test_request_context():
        scheduling.advance(_meeting(sid), SessionStatus.CLOSED, None)  # now, days after the planned end
        db.session.commit()
        end = days.local(_meeting(sid).closed_at)
    login("bithu")
    client.post(f"/evaluations/sessions/{sid}/minutes")
    client.post(f"/evaluations/sessions/{sid}/resolution")
    with app.app_context():
        minutes = documents.current(_meeting(sid), "minutes").content
        resolution = documents.current(_meeting(sid), "resolution").content
    text = "\n".join(s["text"] for s in minutes["sections"])
    assert "Khách mời: đồng chí Othermember (Other province)" in minutes["sections"][1]["text"]
    assert "Vào lúc 05 giờ 19" in text and f"kết thúc lúc {end:%H} giờ {end:%M}, {formats.vn_date(end)}." in text
    assert minutes["subtitle"] == "Sinh hoạt chi bộ chuyên đề “Chuyên đề học tập”"
    assert f"chương trình sinh hoạt chuyên đề năm {PAST.year + 1} của chi bộ" in resolution["sections"][0]["text"]


def test_the_resolution_is_numbered_when_signed_and_lists_its_tasks(app, client, qcell, login):
    sid = _held(app)
    with app.test_request_context():
        services.add_task(
            _meeting(sid),
            _user("bithu"),
            what="Hoàn thiện quy chế",
            owner=_user("member1"),
            due=date.today() + timedelta(days=30),
        )
        db.session.commit()
    login("bithu")
    client.post(f"/evaluations/sessions/{sid}/resolution")
    with app.app_context():
        doc = shelf.current(_meeting(sid), "resolution")
        doc_id, sections = doc.id, [s["text"] for s in doc.content["sections"]]
    client.post(f"/evaluations/documents/{doc_id}", data={"action": "sign", "section": sections})
    refused = client.post(
        f"/evaluations/sessions/{sid}/tasks",
        data={"what": "Muộn", "owner_id": "0", "due": (date.today() + timedelta(days=3)).isoformat()},
        follow_redirects=True,
    )
    assert "Nghị quyết đã ký" in refused.text
    opened = docx.Document(io.BytesIO(client.get(f"/evaluations/documents/{doc_id}.docx").data))
    assert "Số 01-NQ/CB" in opened.tables[0].rows[0].cells[0].text
    assert "NGHỊ QUYẾT" in [p.text for p in opened.paragraphs]
    tasks = next(t for t in opened.tables if t.rows[0].cells[0].text == "TT")
    assert [c.text for c in tasks.rows[1].cells][:3] == ["1", "Hoàn thiện quy chế", "Member1"]
    assert "T/M CHI BỘ" in opened.tables[-1].rows[0].cells[1].text


def test_the_resolution_is_signed_for_the_cell_by_its_secretary_whoever_chaired(app, qcell):
    sid = _held(app)
    with app.test_request_context():
        services.save_record(
            _meeting(sid), _user("bithu"), chair=_user("phobithu"), taker=None, conclusion="Chốt", final=True
        )
        resolution = documents.draft(_meeting(sid), "resolution", _user("bithu"))
        assert resolution.content["signers"]["right"] == ["T/M CHI BỘ\nBÍ THƯ", "Bithu"]


def test_documents_wait_for_the_meeting_to_close(app, client, qcell, login):
    sid = _held(app, close=False)
    login("bithu")
    response = client.post(f"/evaluations/sessions/{sid}/minutes", follow_redirects=True)
    assert "Biên bản và nghị quyết được soạn khi buổi sinh hoạt đã kết thúc" in response.text
    regular = _held(app, kind=SessionKind.REGULAR)
    response = client.post(f"/evaluations/sessions/{regular}/resolution", follow_redirects=True)
    assert "Nghị quyết được thông qua ở buổi sinh hoạt chuyên đề" in response.text


@pytest.mark.skipif(not party_docx.pdf_available(), reason="LibreOffice is not installed")
def test_pdf_when_libreoffice_is_there(app, client, qcell, login):
    sid = _held(app)
    login("bithu")
    client.post(f"/evaluations/sessions/{sid}/minutes")
    with app.app_context():
        doc_id = shelf.current(_meeting(sid), "minutes").id
    assert client.get(f"/evaluations/documents/{doc_id}.pdf").data.startswith(b"%PDF")


# --- the group's evaluation and the ratings ---------------------------------------------------------


def test_group_evaluation_is_seen_by_the_group_and_commends_it(app, client, qcell, login):
    sid = _held(app)
    login("bithu")
    client.post(
        f"/evaluations/sessions/{sid}/group",
        data={"strengths": "Chuẩn bị kỹ", "weaknesses": "Hơi dài", "rating": "excellent", "commend": "y", "final": "1"},
    )
    login("member1")  # in the group
    page = client.get(f"/evaluations/sessions/{sid}").text
    assert "Chuẩn bị kỹ" in page and "Xuất sắc" in page
    login("member2")  # not in the group
    assert "Chuẩn bị kỹ" not in client.get(f"/evaluations/sessions/{sid}").text
    with app.app_context():
        commended = set(db.session.scalars(select(Note.user_id).where(Note.kind == NoteKind.COMMENDATION)))
        assert commended == {qcell["member"], qcell["deputy"]}
        assert (
            db.session.scalar(select(func.count(Notification.id)).where(Notification.user_id == qcell["member"])) >= 2
        )


@pytest.mark.parametrize(
    "scores, message",
    [
        ({"preparation": "6", "content": "3", "discussion": "3"}, "Hãy chọn điểm từ 1 đến 5"),
        ({"preparation": "0", "content": "3", "discussion": "3"}, "Hãy chọn điểm từ 1 đến 5"),
        ({"content": "3", "discussion": "3"}, "Hãy chọn điểm từ 1 đến 5"),
    ],
)
def test_a_rating_out_of_range_is_refused(app, client, qcell, login, scores, message):
    sid = _held(app)
    login("member1")
    assert message in client.post(f"/evaluations/sessions/{sid}/rate", data=scores, follow_redirects=True).text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Rating)) == 0


def test_ratings_are_anonymous_once_each_and_shown_from_three(app, client, qcell, login):
    open_sid = _held(app, close=False)
    sid = _held(app)
    scores = {"preparation": "4", "content": "5", "discussion": "3", "comment": "Bổ ích"}
    login("member1")
    early = client.post(f"/evaluations/sessions/{open_sid}/rate", data=scores, follow_redirects=True)
    assert "Việc chấm điểm mở khi buổi sinh hoạt đã kết thúc" in early.text
    client.post(f"/evaluations/sessions/{sid}/rate", data=scores)
    again = client.post(f"/evaluations/sessions/{sid}/rate", data=scores, follow_redirects=True)
    assert "Bạn đã chấm điểm buổi sinh hoạt này" in again.text
    login("member3")  # absent from the meeting
    absent = client.post(f"/evaluations/sessions/{sid}/rate", data=scores, follow_redirects=True)
    assert "Chỉ đảng viên có mặt" in absent.text
    login("chiuy")
    client.post(f"/evaluations/sessions/{sid}/rate", data={**scores, "preparation": "2"})
    page = client.get(f"/evaluations/sessions/{sid}").text
    assert "Bổ ích" not in page and "2 người" not in page  # two ratings: nothing shown yet
    login("bithu")
    client.post(f"/evaluations/sessions/{sid}/rate", data={**scores, "preparation": "3"})
    page = client.get(f"/evaluations/sessions/{sid}").text
    assert '<td class="score">3</td>' in page and "Bổ ích" in page  # preparation (4 + 2 + 3) / 3
    # Nothing in the rating rows says who gave them.
    with app.app_context():
        columns = {c["name"] for c in inspect(db.engine).get_columns("evaluations_rating")}
    assert columns == {"id", "office_id", "session_id", "preparation", "content", "discussion", "comment"}


# --- participation ----------------------------------------------------------------------------------


def test_participation_flags_passive_members_and_the_secretary_reminds_them(app, client, qcell, login):
    quarter_start = datetime.now(UTC).replace(day=1) - timedelta(days=1)
    for ago in (5, 3, 1):
        sid = _held(app, kind=SessionKind.REGULAR, when=quarter_start - timedelta(days=ago), absent=("member3",))
        with app.test_request_context():  # the speakers list was used; member1 spoke, the others present did not
            meeting = _meeting(sid)
            meeting.status = SessionStatus.IN_PROGRESS
            turn = queue.raise_hand(meeting, _user("member1"))
            queue.give_floor(turn, _user("bithu"))
            queue.finish(turn, _user("bithu"))
            meeting.status = SessionStatus.CLOSED
            db.session.commit()
    login("bithu")
    page = client.get(f"/evaluations/participation?year={(quarter_start - timedelta(days=5)).year}").text
    row = lambda uid: page.split(f'id="member-{uid}"')[1].split("</tr>")[0]  # noqa: E731
    assert "vắng không lý do 3 lần" in row(qcell["m3"])
    assert "không hỏi, không phát biểu trong 3 buổi" in row(qcell["committee"])
    assert "Thụ động" not in row(qcell["member"])
    refused = client.post(f"/evaluations/members/{qcell['m3']}/reminder", data={"reason": "  "}, follow_redirects=True)
    assert "Hãy nêu lý do" in refused.text  # a reminder needs its reason
    client.post(
        f"/evaluations/members/{qcell['m3']}/reminder", data={"reason": "Đề nghị đồng chí tham gia tích cực hơn"}
    )
    client.post(f"/evaluations/members/{qcell['member']}/commendation", data={"reason": "Phát biểu có chất lượng"})
    listed = client.get(f"/evaluations/participation?year={(quarter_start - timedelta(days=5)).year}").text
    assert "Đề nghị đồng chí tham gia tích cực hơn" in listed.split("Biểu dương và nhắc nhở")[1]
    with app.app_context():
        notes = {(n.user_id, n.kind) for n in db.session.scalars(select(Note))}
        assert notes == {(qcell["m3"], NoteKind.REMINDER), (qcell["member"], NoteKind.COMMENDATION)}
        assert (
            db.session.scalar(select(Notification.title).where(Notification.user_id == qcell["m3"]))
            == "Nhắc nhở của bí thư chi bộ"
        )
    login("member3")
    mine = client.get(f"/evaluations/me?year={(quarter_start - timedelta(days=5)).year}").text
    assert "tham gia tích cực hơn" in mine and mine.count("<strong>vắng</strong>") == 3
    assert client.get("/evaluations/participation").status_code == 403
    assert client.post(f"/evaluations/members/{qcell['member']}/reminder").status_code == 403
    assert client.post("/evaluations/members/999999/reminder").status_code == 403  # the right before the lookup
    with app.app_context():
        assert db.session.scalar(select(func.count(Note.id))) == 2  # the member's reminder was refused


# --- the periodic review ----------------------------------------------------------------------------


def test_review_figures_and_docx(app, client, qcell, login):
    when = datetime.now(UTC) - timedelta(days=2)
    sid = _held(app, when=when)
    with app.test_request_context():
        meeting = _meeting(sid)
        done = services.add_task(meeting, _user("bithu"), what="Xong", owner=None, due=date.today())
        services.report_progress(done, _user("bithu"), status=TaskStatus.DONE, progress="")
        services.add_task(meeting, _user("bithu"), what="Quá hạn", owner=None, due=days.day_of(meeting.starts_at))
        db.session.commit()
        figures = review.review(meeting.office_id, when.year, None, date.today() + timedelta(days=1))
        members = len(scheduling.members(meeting.office_id))
    rate = round(100 * (members - 2) / members, 1)  # member2 excused, member3 absent
    assert figures.held_thematic == 1 and figures.attendance_rate == rate
    assert (figures.tasks_done, figures.tasks_overdue) == (1, 1)
    assert rate == 66.7
    login("member1")
    page = client.get(f"/evaluations/review?year={when.year}")
    assert page.status_code == 200 and "66,7\u00a0%" in page.text  # Vietnamese: a decimal comma, a spaced sign
    assert "chart.umd.min." in page.text and "cdn" not in page.text.lower()  # (a content-hashed name)
    _as(app, "member1", lambda user: setattr(user, "locale", "en"))
    assert "66.7%" in client.get(f"/evaluations/review?year={when.year}").text
    # The report is a party document: Vietnamese numbers and grades whatever the reader's language.
    opened = docx.Document(io.BytesIO(client.get(f"/evaluations/review.docx?year={when.year}").data))
    rows = {r.cells[0].text: r.cells[1].text for r in opened.tables[1].rows}
    assert rows["Tỷ lệ đảng viên dự sinh hoạt"] == "66,7\u00a0%"
    assert [c.text for c in opened.tables[2].rows[1].cells][-1] == "Kém"
    assert rows["Sinh hoạt chuyên đề đã tổ chức / theo chương trình"] == "1 / 0"
    assert rows["Nhiệm vụ theo nghị quyết: hoàn thành / quá hạn / đang thực hiện"] == "1 / 1 / 0"


def test_the_secretary_weighs_the_criteria_and_the_meeting_is_classified_again(app, client, qcell, login):
    when = datetime.now(UTC) - timedelta(days=2)
    sid = _held(app, when=when)  # 66.7 % present, no documents, no conclusion; planned for 120 minutes
    login("member1")
    page = client.get(f"/evaluations/sessions/{sid}").text
    assert 'Xếp loại: <span class="grade">Kém</span>' in page  # 1 of 8 (duration only)
    row = re.compile(
        r'id="criterion-(\w+)">.*?<td>[^<]*</td><td>([^<]*)</td>.*?<span class="[^"]*">([^<]*)</span>', re.S
    )
    assert set(row.findall(page)) >= {
        ("attendance", "66,7\u00a0%", "không"),
        ("documents", "chưa gửi", "không"),
        ("duration", "120 phút", "có"),
        ("discussion", "chưa rõ", "không tính"),
    }
    assert ">Kém</a>" in client.get(f"/evaluations/review?year={when.year}").text
    refused = client.post("/evaluations/settings/classification", data={}, follow_redirects=True)
    assert "Chỉ bí thư mới làm được việc này." in refused.text
    _as(app, "member1", lambda user: setattr(user, "locale", "en"))
    page = client.get(f"/evaluations/sessions/{sid}").text
    assert 'Classification: <span class="grade">Poor</span>' in page and "<td>66.7%</td>" in page
    weights = {f"weight_{k}": "0" for k in ("attendance", "documents", "discussion", "conclusion", "ratings")}
    lines = {
        "line_attendance": "85",
        "line_documents": "1",
        "line_discussion": "50",
        "line_duration": "90",
        "line_ratings": "3,5",
    }
    form = {**weights, **lines, "weight_duration": "1", "scale": "Tốt 80; Khá 65; Trung bình 50; Kém 0"}
    login("bithu")
    refused = client.post(
        "/evaluations/settings/classification", data={**form, "line_attendance": "120"}, follow_redirects=True
    )
    assert "Từ 0 đến 100." in refused.text
    client.post("/evaluations/settings/classification", data=form)
    assert 'Xếp loại: <span class="grade">Tốt</span>' in client.get(f"/evaluations/sessions/{sid}").text
    assert ">Tốt</a>" in client.get(f"/evaluations/review?year={when.year}").text
    with app.app_context():
        settings = db.session.get(EvaluationOfficeSettings, _office().id)
        assert settings.classification["weights"]["duration"] == 1 and settings.classification["scale"] is None
        assert settings.classification["lines"]["ratings"] == 3.5


@pytest.mark.parametrize("username, status", [("khach", 403), ("distadmin", 403), ("othermember", 404)])
def test_people_outside_the_cell_are_kept_out(app, client, qcell, login, username, status):
    sid = _held(app)
    login(username)
    assert client.get(f"/evaluations/sessions/{sid}").status_code == status
    assert (
        client.post(
            f"/evaluations/sessions/{sid}/rate", data={"preparation": "5", "content": "5", "discussion": "5"}
        ).status_code
        == status
    )


def test_demo_year_has_signed_minutes_and_a_review(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        office = _office("VKS-PD")
        closed = db.session.scalars(select(Document).where(Document.kind == "minutes")).all()
        assert closed and all(d.signed_at for d in closed)
        year = datetime.now(UTC).year
        figures = review.review(office.id, year, None, date.today())
        assert figures.held_thematic >= 3 and figures.attendance_rate and figures.rating_content
        assert figures.commendations >= 1 and figures.reminders == 1
        records = participation.cell_records(office.id, *review.period(year, None), None)
        assert sum(len(r.lines) for r in records) > 0


def test_the_next_minutes_review_overdue_tasks_of_earlier_resolutions(app, client, qcell, login):
    earlier = _held(app, when=datetime.now(UTC) - timedelta(days=60))
    with app.test_request_context():
        services.add_task(
            _meeting(earlier),
            _user("bithu"),
            what="Báo cáo kết quả học tập",
            owner=_user("member1"),
            due=date.today() - timedelta(days=20),
        )
        db.session.commit()
    later = _held(app, kind=SessionKind.REGULAR, when=datetime.now(UTC) - timedelta(days=1))
    login("bithu")
    client.post(f"/evaluations/sessions/{later}/minutes")
    with app.app_context():
        agenda = shelf.current(_meeting(later), "minutes").content["sections"][2]["text"]
    assert "nhiệm vụ theo nghị quyết trước đã quá hạn" in agenda and "Báo cáo kết quả học tập (Member1" in agenda


def test_silence_is_judged_only_where_speaking_was_recorded(app, qcell):
    """Three meetings in the hall without the queue: nobody recorded who spoke, so nobody is silent."""
    when = datetime.now(UTC).replace(day=1) - timedelta(days=1)
    for ago in (5, 3, 1):
        _held(app, kind=SessionKind.REGULAR, when=when - timedelta(days=ago), absent=())
    with app.test_request_context():
        records = participation.cell_records(_office().id, *review.period((when - timedelta(days=5)).year, None), None)
    assert [r.passive_reasons for r in records if r.passive_reasons] == []


def test_roles_and_the_hall_count_as_participation_and_excused_as_neither(app, data, qcell):
    """The queue was used at each meeting, yet the chair, the minute-taker, the presenting group and a
    member who spoke in the hall took part; the member excused each time is neither passive nor active."""
    data.user("member4", "DIST", full_name="Đảng Viên Bốn")
    when = datetime.now(UTC).replace(day=1) - timedelta(days=1)
    for ago in (5, 3, 1):
        sid = _held(app, when=when - timedelta(days=ago), absent=(), close=False)
        with app.test_request_context():
            meeting, secretary = _meeting(sid), _user("bithu")
            services.save_record(
                meeting, secretary, chair=secretary, taker=_user("chiuy"), conclusion="Kết luận", final=True
            )
            turn = queue.add_hall_speaker(meeting, _user("member4"), secretary)
            queue.give_floor(turn, secretary)
            queue.finish(turn, secretary)
            scheduling.advance(meeting, SessionStatus.CLOSED, None)
            db.session.commit()
    with app.test_request_context():
        records = participation.cell_records(_office().id, *review.period((when - timedelta(days=5)).year, None), None)
    passive = {r.user.username: r.passive_reasons for r in records if r.passive_reasons}
    assert list(passive) == ["member3"]  # present, silent, no role: the only one the rule names
    excused = next(r for r in records if r.user.username == "member2")
    assert excused.count("excused") == 3 and not any(line.took_part for line in excused.lines)


def _held_with_discussion(app, when) -> None:
    """A meeting held with the question queue used (a question asked, a member given the floor) and its
    chair and minute-taker recorded."""
    sid = _held(app, when=when, close=False)
    with app.test_request_context():
        meeting = _meeting(sid)
        queue.ask(meeting, _user("member1"), "Câu hỏi trong buổi họp?")
        turn = queue.raise_hand(meeting, _user("phobithu"))
        queue.give_floor(turn, _user("bithu"))
        queue.finish(turn, _user("bithu"))
        services.save_record(
            meeting, _user("bithu"), chair=_user("bithu"), taker=_user("chiuy"), conclusion="Kết luận", final=True
        )
        scheduling.advance(meeting, SessionStatus.CLOSED, None)
        db.session.commit()


def _statements(app, client, url) -> int:
    from sqlalchemy import event

    with app.app_context():
        engine = db.engine
    client.get(f"{url}?year={PAST.year}")  # a warm page: the bell's count is kept until it changes
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        page = client.get(f"{url}?year={PAST.year}")
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert page.status_code == 200
    return len(statements)


@pytest.mark.parametrize("username, url", [("member1", "/evaluations/review"), ("bithu", "/evaluations/participation")])
def test_the_review_costs_the_same_statements_whatever_the_number_of_meetings(app, client, qcell, login, username, url):
    login(username)
    for day in range(2):
        _held_with_discussion(app, PAST - timedelta(days=day))
    with_two = _statements(app, client, url)
    for day in range(2, 8):
        _held_with_discussion(app, PAST - timedelta(days=day))
    assert _statements(app, client, url) == with_two
