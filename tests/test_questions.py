"""Questions plugin: the queue, anonymity, votes, moderation, speakers list, live regions, exports, hooks."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from support import sql_statements

from intranet.extensions import db
from intranet.idempotency import IdempotencyKey
from intranet.models import Office, User
from intranet.plugins import manager
from intranet.refusals import ServiceError
from intranet_questions import services
from intranet_questions.models import Anonymity, Question, QuestionStatus, Sort, Speaker, SpeakerState, Vote
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionKind, SessionMode, SessionStatus


def _office(code: str) -> Office:
    return db.session.scalar(select(Office).where(Office.code == code))


def _meeting(app, status=SessionStatus.IN_PROGRESS, code="DIST", questions=()) -> int:
    with app.app_context():
        session = scheduling.create_session(
            _office(code),
            kind=SessionKind.THEMATIC,
            title="Học tập chuyên đề",
            duration_minutes=120,
            place="Hội trường",
            mode=SessionMode.HYBRID,
            starts_at=datetime.now(UTC) + timedelta(hours=1),
        )
        for text in questions:
            scheduling.add_question(session, text, None)
        if status != SessionStatus.PLANNED:
            scheduling.advance(session, status, None)
        db.session.commit()
        return session.id


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _ask(app, session_id, username, text, **kw) -> int:
    with app.test_request_context():
        question = services.ask(db.session.get(Meeting, session_id), _user(username), text, **kw)
        db.session.commit()
        return question.id


def _as(app, username, change):
    """Run a service call as ``username`` and commit."""
    with app.test_request_context():
        result = change(_user(username))
        db.session.commit()
        return result


def _settings(app, session_id, **changes):
    def save(chair_user):
        meeting = db.session.get(Meeting, session_id)
        current = services.queue_settings(meeting)
        fields = dict(
            anonymity=current.anonymity,
            premoderation=current.premoderation,
            sort=current.sort,
            quiet_first=current.quiet_first,
            open_limit=current.open_limit,
            chair=current.chair,
        )
        fields.update(changes)
        services.save_settings(meeting, chair_user, **fields)

    _as(app, "bithu", save)


# --- asking ----------------------------------------------------------------------------------------


def test_members_ask_and_everyone_in_the_cell_sees_the_question(app, client, qcell, login):
    sid = _meeting(app)
    login("member1")
    response = client.post(f"/questions/sessions/{sid}/ask", data={"text": "  Nghị quyết áp dụng thế nào?  "})
    assert response.status_code == 302
    login("member2")
    page = client.get(f"/questions/sessions/{sid}").text
    assert "Nghị quyết áp dụng thế nào?" in page and "Ẩn danh" in page  # default: anonymous to members


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "Hãy viết câu hỏi"),
        ("   \n\t ", "Hãy viết câu hỏi"),
        ("x" * 501, "Tối đa 500 ký tự"),
    ],
)
def test_bad_question_text_is_a_clear_message(app, client, qcell, login, text, message):
    sid = _meeting(app)
    login("member1")
    response = client.post(f"/questions/sessions/{sid}/ask", data={"text": text}, follow_redirects=True)
    assert response.status_code == 200 and message in response.text
    outbox = client.post(f"/questions/sessions/{sid}/ask", data={"text": text}, headers={"X-Outbox": "1"})
    assert outbox.status_code == 422 and message in outbox.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Question.id))) == 0


def test_markup_in_a_question_is_shown_as_text(app, client, qcell, login):
    sid = _meeting(app)
    _ask(app, sid, "member1", '<script>alert(1)</script><b onmouseover="x">đậm</b>')
    login("member2")
    for url in (
        f"/questions/sessions/{sid}",
        f"/questions/sessions/{sid}/poll/queue",
        f"/questions/sessions/{sid}/screen",
    ):
        body = client.get(url).text
        assert "<script>alert(1)" not in body and "<b onmouseover" not in body
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_a_question_may_target_a_discussion_question_of_this_meeting_only(app, client, qcell, login):
    sid = _meeting(app, questions=["Câu hỏi thảo luận một"])
    other = _meeting(app, questions=["Của buổi khác"])
    with app.app_context():
        mine = db.session.get(Meeting, sid).questions[0].id
        foreign = db.session.get(Meeting, other).questions[0].id
    login("member1")
    client.post(f"/questions/sessions/{sid}/ask", data={"text": "Về câu một", "target": str(mine)})
    refused = client.post(
        f"/questions/sessions/{sid}/ask", data={"text": "Lạc chỗ", "target": str(foreign)}, follow_redirects=True
    )
    assert "Hãy chọn một câu hỏi thảo luận của buổi này" in refused.text
    garbage = client.post(
        f"/questions/sessions/{sid}/ask", data={"text": "Rác", "target": "abc"}, follow_redirects=True
    )
    assert garbage.status_code == 200
    with app.app_context():
        assert [(q.text, q.discussion_question_id) for q in db.session.scalars(select(Question))] == [
            ("Về câu một", mine)
        ]
    assert "Về: Câu hỏi thảo luận một" in client.get(f"/questions/sessions/{sid}").text


def test_open_question_limit_keeps_one_voice_from_flooding(app, client, qcell, login):
    sid = _meeting(app)
    _settings(app, sid, open_limit=2)
    first = _ask(app, sid, "member1", "Một")
    _ask(app, sid, "member1", "Hai")
    with pytest.raises(ServiceError, match="2 câu hỏi đang chờ"):
        _ask(app, sid, "member1", "Ba")
    _as(app, "bithu", lambda u: services.mark_answered(db.session.get(Question, first), u))
    _ask(app, sid, "member1", "Ba")  # an answered question frees a place
    _ask(app, sid, "member2", "Người khác vẫn hỏi được")


def test_closed_meeting_takes_no_questions_votes_or_hands(app, client, qcell, login):
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Trước khi kết thúc")
    _as(app, "bithu", lambda u: scheduling.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, u))
    login("member2")
    for url, data in (
        (f"/questions/sessions/{sid}/ask", {"text": "Muộn"}),
        (f"/questions/questions/{qid}/vote", {"on": "1"}),
        (f"/questions/sessions/{sid}/hand", {}),
    ):
        response = client.post(url, data=data, headers={"HX-Request": "true"})
        assert response.status_code == 422 and "Buổi sinh hoạt đã kết thúc" in response.text
    with app.app_context():
        assert db.session.scalar(select(func.count(Vote.user_id))) == 0


def test_questions_about_the_report_arrive_in_the_queue_through_the_hook(app, client, qcell, login):
    sid = _meeting(app, status=SessionStatus.DOCUMENTS_SENT)
    login("member1")
    client.post(f"/scheduling/sessions/{sid}/ask", data={"ask-text": "Báo cáo trang 3 nói gì?"})
    with app.app_context():
        question = db.session.scalar(select(Question))
        assert (
            question.text == "Báo cáo trang 3 nói gì?"
            and question.from_report
            and question.author_id == qcell["member"]
        )
    assert "Gửi kèm tài liệu" in client.get(f"/questions/sessions/{sid}").text


# --- anonymity -------------------------------------------------------------------------------------


def _texts(app, client, sid):
    """Every surface an author could leak through, as one string per surface."""
    surfaces = {}
    for region in ("queue", "screen", "moderation", "mine"):
        response = client.get(f"/questions/sessions/{sid}/poll/{region}")
        surfaces[f"poll:{region}"] = response.text if response.status_code == 200 else ""
    surfaces["member"] = client.get(f"/questions/sessions/{sid}").text
    surfaces["screen"] = client.get(f"/questions/sessions/{sid}/screen").text
    chair = client.get(f"/questions/sessions/{sid}/chair")
    surfaces["chair"] = chair.text if chair.status_code == 200 else ""
    export = client.get(f"/questions/sessions/{sid}/queue.csv")
    surfaces["csv"] = export.data.decode("utf-8-sig") if export.status_code == 200 else ""
    stream = client.get(
        f"/questions/sessions/{sid}/stream?page=chair"
        if chair.status_code == 200
        else f"/questions/sessions/{sid}/stream",
        buffered=False,
    )
    frames = iter(stream.response)
    surfaces["sse"] = "".join(next(frames).decode() for _ in range(3))
    stream.close()
    # The chair's lists of members (to name a chair, to add a hall speaker) name everyone by design.
    return {k: re.sub(r"<select.*?</select>", "", v, flags=re.S) for k, v in surfaces.items()}


@pytest.mark.parametrize(
    "mode, member_sees, chair_sees",
    [
        (Anonymity.NAMED, True, True),
        (Anonymity.CHAIR_ONLY, False, True),
        (Anonymity.ANONYMOUS, False, False),
    ],
)
def test_who_sees_the_author_in_each_mode(app, client, qcell, login, mode, member_sees, chair_sees):
    sid = _meeting(app)
    _settings(app, sid, anonymity=mode)
    _ask(app, sid, "member2", "Ai hỏi câu này?")
    login("member1")
    for surface, text in _texts(app, client, sid).items():
        if "screen" not in surface and surface != "poll:mine":  # the projector names only the one on screen
            assert ("Đảng Viên Hai" in text) == (member_sees and bool(text)), surface
        assert member_sees or "Đảng Viên Hai" not in text, surface
    login("bithu")
    for surface, text in _texts(app, client, sid).items():
        if surface == "poll:mine" or "screen" in surface or not text:
            continue
        shown = chair_sees if surface in ("chair", "csv", "poll:moderation", "sse") else member_sees
        assert ("Đảng Viên Hai" in text) == shown, surface
    # The author still finds it among "my questions", whatever the mode.
    login("member2")
    mine = client.get(f"/questions/sessions/{sid}/poll/mine").text
    assert "Ai hỏi câu này?" in mine


def _hooks(app, sid, viewer: str | None = "bithu"):
    """What the evaluations plugin will read: (authors by question text, participation by user id as
    ``viewer`` may know it)."""
    with app.test_request_context():
        meeting = db.session.get(Meeting, sid)
        hooks = manager().for_office(meeting.office_id)
        discussion = next(d for d in hooks.intranet_session_discussion(session=meeting) if d is not None)
        reader = _user(viewer) if viewer else None
        participation = next(p for p in hooks.intranet_session_participation(sessions=[meeting], viewer=reader) if p)
    return {q["text"]: q["author"] for q in discussion["questions"]}, participation[sid]


def test_minutes_and_participation_hooks_respect_anonymity(app, qcell):
    sid = _meeting(app)
    _settings(app, sid, anonymity=Anonymity.NAMED)
    _ask(app, sid, "member1", "Có tên")
    _ask(app, sid, "member2", "Qua chủ trì", through_chair=True)
    authors, participation = _hooks(app, sid)
    # The minutes name only what the meeting showed; the chair's participation counts what the chair knew.
    assert authors == {"Có tên": "Member1", "Qua chủ trì": None}
    assert participation[qcell["member"]]["questions_asked"] == 1
    assert participation[qcell["m2"]]["questions_asked"] == 1
    for reader in ("chiuy", None):  # a member who does not chair, and figures anyone may read
        assert _hooks(app, sid, reader)[1][qcell["m2"]]["questions_asked"] == 0
    assert _hooks(app, sid, "member2")[1][qcell["m2"]]["questions_asked"] == 1  # the author's own
    _settings(app, sid, anonymity=Anonymity.ANONYMOUS)
    _ask(app, sid, "member3", "Ẩn danh hoàn toàn")
    authors, participation = _hooks(app, sid)
    # Turning the meeting fully anonymous hides every author from then on, earlier ones included.
    assert authors == {"Có tên": None, "Qua chủ trì": None, "Ẩn danh hoàn toàn": None}
    assert {r["questions_asked"] for r in participation.values()} == {0}
    assert qcell["m3"] in participation  # every member is reported, the silent ones with zeros
    assert _hooks(app, sid, "member3")[1][qcell["m3"]]["questions_asked"] == 1  # the author counts their own


def test_a_more_open_setting_never_reveals_an_earlier_author(app, client, qcell, login):
    sid = _meeting(app)
    _settings(app, sid, anonymity=Anonymity.ANONYMOUS)
    _ask(app, sid, "member2", "Hỏi khi ẩn danh")
    _settings(app, sid, anonymity=Anonymity.NAMED)
    _ask(app, sid, "member3", "Hỏi khi có tên")
    login("bithu")
    chair = re.sub(r"<select.*?</select>", "", client.get(f"/questions/sessions/{sid}/chair").text, flags=re.S)
    assert "Đảng Viên Ba" in chair and "Đảng Viên Hai" not in chair


def test_through_the_chair_hides_the_name_from_members_and_flags_it(app, client, qcell, login):
    sid = _meeting(app)
    _settings(app, sid, anonymity=Anonymity.NAMED)
    _ask(app, sid, "member2", "Nhờ đọc hộ", through_chair=True)
    login("member1")
    page = client.get(f"/questions/sessions/{sid}").text
    assert "Nhờ đọc hộ" in page and "Chủ trì đọc thay" in page and "Đảng Viên Hai" not in page
    login("bithu")
    assert "Đảng Viên Hai" in client.get(f"/questions/sessions/{sid}/chair").text


# --- votes -----------------------------------------------------------------------------------------


def test_a_vote_is_set_or_taken_back_never_toggled(app, client, qcell, login):
    """The form says the state wanted: the same request twice (a retry after a lost reply, with or
    without its key) leaves that state, where a toggle would have taken the vote back."""
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Bình chọn")
    login("member2")
    hx = {"HX-Request": "true"}
    for _ in range(2):
        on = client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}, headers=hx)
        assert on.status_code == 204 and '"on": true' in on.headers["HX-Trigger"]
        with app.app_context():
            assert db.session.get(Question, qid).votes == 1
    for _ in range(2):
        off = client.post(f"/questions/questions/{qid}/vote", data={"on": "0"}, headers=hx)
        assert '"on": false' in off.headers["HX-Trigger"]
        with app.app_context():
            assert db.session.get(Question, qid).votes == 0
    unsaid = client.post(f"/questions/questions/{qid}/vote", headers=hx)
    assert unsaid.status_code == 422 and "Hãy cho biết" in unsaid.text
    page = client.get(f"/questions/sessions/{sid}").text  # the shared render asks for a vote...
    assert 'name="on" value="1"' in page and 'data-my-votes="[]"' in page
    client.post(f"/questions/questions/{qid}/vote", data={"on": "1"})
    # ...and the page names the member's votes, from which questions.js asks for the other state.
    assert f'data-my-votes="[{qid}]"' in client.get(f"/questions/sessions/{sid}").text


def test_a_vote_sent_again_with_its_key_counts_once(app, client, qcell, login):
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Gửi lại")
    login("member2")
    key = {"HX-Request": "true", "Idempotency-Key": "vote-0123456789abcdef"}
    first = client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}, headers=key)
    again = client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}, headers=key)
    assert first.status_code == again.status_code == 204 and again.headers["Idempotent-Replayed"] == "true"
    with app.app_context():
        assert db.session.get(Question, qid).votes == 1


def test_an_idempotency_key_is_bound_to_its_endpoint_and_body(app, client, qcell, login):
    """A key used for a question and sent again with a vote is the client's mistake: refused with a
    message (422), not "replayed" — which answered success and dropped the vote."""
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Câu để bình chọn")
    login("member2")
    key = {"X-Outbox": "1", "Idempotency-Key": "shared-key-0123456789"}
    assert client.post(f"/questions/sessions/{sid}/ask", data={"text": "Câu của tôi"}, headers=key).status_code == 204
    reused = client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}, headers=key)
    assert (
        reused.status_code == 422 and "Idempotency-Key" in reused.text and "Idempotent-Replayed" not in reused.headers
    )
    other_body = client.post(f"/questions/sessions/{sid}/ask", data={"text": "Câu khác hẳn"}, headers=key)
    assert other_body.status_code == 422
    other_question = client.post(
        f"/questions/sessions/{sid}/ask",
        data={"text": "Câu của tôi"},
        headers={**key, "Idempotency-Key": "fresh-key-0123456789"},
    )
    assert other_question.status_code == 204
    with app.app_context():
        assert db.session.get(Question, qid).votes == 0
        assert sorted(db.session.scalars(select(Question.text).where(Question.author_id == qcell["m2"]))) == [
            "Câu của tôi",
            "Câu của tôi",
        ]
    # The same key and body after a new CSRF token (a reload) is still the same request: replayed.
    again = client.post(
        f"/questions/sessions/{sid}/ask", data={"text": "Câu của tôi", "csrf_token": "new"}, headers=key
    )
    assert again.status_code == 204 and again.headers["Idempotent-Replayed"] == "true"


def test_votes_refused_on_own_question_other_office_and_hidden(app, client, data, qcell, login):
    sid = _meeting(app)
    _settings(app, sid, anonymity=Anonymity.ANONYMOUS)
    qid = _ask(app, sid, "member1", "Của tôi, ẩn danh")
    login("member1")
    own = client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}, headers={"HX-Request": "true"})
    assert own.status_code == 422 and "không thể bình chọn cho câu hỏi của mình" in own.text
    login("othermember")
    assert client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}).status_code == 404
    _as(app, "bithu", lambda u: services.hide(db.session.get(Question, qid), u, "Trùng"))
    login("member2")  # a hidden question is, for a member, one that does not exist
    assert (
        client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}, headers={"HX-Request": "true"}).status_code
        == 404
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Vote.user_id))) == 0


def test_a_twin_vote_request_counts_once(app, qcell):
    """The member's twin request inserted the vote first: the primary key refuses the second row and
    the count stays one, without an error."""
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Đua")
    with app.test_request_context():
        question, user = db.session.get(Question, qid), _user("member2")
        db.session.add(Vote(question_id=qid, user_id=user.id, office_id=question.office_id, session_id=sid))
        db.session.commit()
        assert services.set_vote(question, user, True) is True
        db.session.commit()
        assert db.session.get(Question, qid).votes == 1


def test_queue_sorts_by_votes_or_time(app, client, qcell, login):
    sid = _meeting(app)
    old = _ask(app, sid, "member1", "Hỏi sớm")
    popular = _ask(app, sid, "member2", "Nhiều phiếu")
    for voter in ("member3", "phobithu"):
        _as(app, voter, lambda u: services.set_vote(db.session.get(Question, popular), u, True))
    login("member3")
    by_votes = client.get(f"/questions/sessions/{sid}?sort=votes").text
    by_time = client.get(f"/questions/sessions/{sid}?sort=time").text
    assert by_votes.index("Nhiều phiếu") < by_votes.index("Hỏi sớm")
    assert by_time.index("Hỏi sớm") < by_time.index("Nhiều phiếu")
    assert old


# --- moderation ------------------------------------------------------------------------------------


def test_premoderation_shows_a_question_only_after_approval(app, client, qcell, login):
    sid = _meeting(app)
    _settings(app, sid, premoderation=True)
    qid = _ask(app, sid, "member1", "Chờ duyệt nhé")
    login("member2")
    assert "Chờ duyệt nhé" not in client.get(f"/questions/sessions/{sid}").text
    login("member1")
    assert "Chờ chủ trì duyệt" in client.get(f"/questions/sessions/{sid}/poll/mine").text
    login("bithu")
    assert "Chờ duyệt nhé" in client.get(f"/questions/sessions/{sid}/chair").text
    client.post(f"/questions/questions/{qid}/approve")
    login("member2")
    assert "Chờ duyệt nhé" in client.get(f"/questions/sessions/{sid}").text


def test_chair_pins_answers_hides_edits_and_merges(app, client, qcell, login):
    sid = _meeting(app)
    a = _ask(app, sid, "member1", "Câu hoi có lỗi chính tả")
    b = _ask(app, sid, "member2", "Câu hỏi trùng")
    c = _ask(app, sid, "member3", "Câu hỏi trùng (viết khác)")
    _as(app, "phobithu", lambda u: services.set_vote(db.session.get(Question, c), u, True))
    login("bithu")
    client.post(f"/questions/questions/{a}/pin")
    screen = client.get(f"/questions/sessions/{sid}/screen").text
    assert screen.index("Đang thảo luận") < screen.index("Câu hoi có lỗi chính tả")
    client.post(f"/questions/questions/{a}/moderate", data={"action": "edit", "edit-text": "Câu hỏi có lỗi chính tả"})
    client.post(f"/questions/questions/{a}/answer")
    client.post(f"/questions/questions/{c}/moderate", data={"action": "merge", "merge-into": str(b)})
    client.post(f"/questions/questions/{b}/moderate", data={"action": "hide", "hide-reason": ""})  # refused: no reason
    with app.app_context():
        qa, qb, qc = (db.session.get(Question, i) for i in (a, b, c))
        assert (qa.status, qa.text, qa.original_text) == (
            QuestionStatus.ANSWERED,
            "Câu hỏi có lỗi chính tả",
            "Câu hoi có lỗi chính tả",
        )
        assert services.queue_settings(db.session.get(Meeting, sid)).current_question_id is None
        assert qc.status == QuestionStatus.MERGED and qc.merged_into_id == b
        # The duplicate's vote and its author's support moved across.
        assert qb.status == QuestionStatus.OPEN and qb.votes == 2
    client.post(f"/questions/questions/{b}/moderate", data={"action": "hide", "hide-reason": "Ngoài chủ đề"})
    login("member2")
    mine = client.get(f"/questions/sessions/{sid}/poll/mine").text
    assert "Ngoài chủ đề" in mine and "Bị chủ trì ẩn" in mine
    assert "Câu hỏi trùng" not in client.get(f"/questions/sessions/{sid}/poll/queue").text
    login("member1")
    assert "Bạn đã viết: Câu hoi có lỗi chính tả" in client.get(f"/questions/sessions/{sid}/poll/mine").text


@pytest.mark.parametrize(
    "username, chairs",
    [
        ("bithu", True),
        ("phobithu", True),
        ("chiuy", False),
        ("member1", False),
        ("member2", True),
    ],
)
def test_only_the_chair_moderates(app, client, qcell, login, username, chairs):
    sid = _meeting(app)
    _as(
        app,
        "bithu",
        lambda u: services.save_settings(  # the secretary names member2 to chair this meeting
            db.session.get(Meeting, sid),
            u,
            anonymity=Anonymity.CHAIR_ONLY,
            premoderation=False,
            sort=Sort.VOTES,
            quiet_first=True,
            open_limit=3,
            chair=_user("member2"),
        ),
    )
    qid = _ask(app, sid, "member3", "Ai điều hành?")
    login(username)
    assert client.get(f"/questions/sessions/{sid}/chair").status_code == (200 if chairs else 403)
    assert client.get(f"/questions/sessions/{sid}/queue.csv").status_code == (200 if chairs else 403)
    response = client.post(f"/questions/questions/{qid}/pin", headers={"HX-Request": "true"})
    assert response.status_code == (204 if chairs else 422)


def test_only_the_secretary_names_the_chair(app, client, qcell, login):
    sid = _meeting(app)
    login("phobithu")
    client.post(
        f"/questions/sessions/{sid}/settings",
        data={"anonymity": "named", "sort": "votes", "open_limit": "3", "chair_id": str(qcell["m2"])},
    )
    with app.app_context():
        assert services.queue_settings(db.session.get(Meeting, sid)).chair_id is None
    page = client.post(
        f"/questions/sessions/{sid}/settings",
        data={"anonymity": "named", "sort": "votes", "open_limit": "99", "chair_id": "0"},
        follow_redirects=True,
    ).text
    assert "Từ 1 đến 20" in page


@pytest.mark.parametrize("username, status", [("khach", 403), ("distadmin", 403), ("othermember", 404)])
def test_people_outside_the_meeting_are_kept_out(app, client, qcell, login, username, status):
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Riêng chi bộ")
    login(username)
    for url in (
        f"/questions/sessions/{sid}",
        f"/questions/sessions/{sid}/screen",
        f"/questions/sessions/{sid}/stream",
        f"/questions/sessions/{sid}/poll/queue",
        f"/questions/sessions/{sid}/queue.csv",
    ):
        assert client.get(url).status_code == status, url
    assert client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}).status_code == status


# --- speakers list ---------------------------------------------------------------------------------


def test_speakers_list_gives_the_floor_and_records_time(app, client, qcell, login):
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Ai trả lời?")
    login("member2")
    client.post(f"/questions/sessions/{sid}/hand")
    again = client.post(f"/questions/sessions/{sid}/hand", headers={"HX-Request": "true"})
    assert again.status_code == 422 and "đã có tên trong danh sách phát biểu" in again.text
    login("member3")
    client.post(f"/questions/sessions/{sid}/hand", data={"question_id": str(qid)})
    login("bithu")
    client.post(f"/questions/sessions/{sid}/speakers", data={"user_id": str(qcell["deputy"])})
    with app.app_context():
        turns = {t.user_id: t for t in db.session.scalars(select(Speaker))}
        assert turns[qcell["m3"]].question_id == qid and turns[qcell["deputy"]].source.value == "hall"
        first = turns[qcell["m2"]].id
    client.post(f"/questions/turns/{first}/floor")
    # Time passes while member2 speaks.
    with app.app_context():
        turn = db.session.get(Speaker, first)
        turn.started_at = turn.started_at - timedelta(seconds=95)
        db.session.commit()
    client.post(f"/questions/turns/{first}/finish")
    speakers_html = client.get(f"/questions/sessions/{sid}/poll/chair-speakers").text
    assert "Đảng Viên Hai" in speakers_html and "1:35" in speakers_html
    login("member2")
    assert "Bạn đã phát biểu 1:35" in client.get(f"/questions/sessions/{sid}/poll/mine").text


def _waiting_order(app, sid):
    with app.test_request_context():
        meeting = db.session.get(Meeting, sid)
        return [t.user_id for t in services.speakers(meeting, services.queue_settings(meeting)).waiting]


def test_quiet_members_first_when_the_chair_wants_it(app, qcell):
    sid = _meeting(app)
    turn = _as(app, "member2", lambda u: services.raise_hand(db.session.get(Meeting, sid), u).id)
    _as(app, "bithu", lambda u: services.give_floor(db.session.get(Speaker, turn), u))
    _as(app, "bithu", lambda u: services.finish(db.session.get(Speaker, turn), u))
    _as(app, "member2", lambda u: services.raise_hand(db.session.get(Meeting, sid), u))  # spoke already, first again
    _as(app, "member3", lambda u: services.raise_hand(db.session.get(Meeting, sid), u))  # never spoke, later
    assert _waiting_order(app, sid) == [qcell["m3"], qcell["m2"]]
    _settings(app, sid, quiet_first=False)
    assert _waiting_order(app, sid) == [qcell["m2"], qcell["m3"]]


def test_closing_the_meeting_ends_the_turns(app, qcell):
    sid = _meeting(app)
    _as(app, "member2", lambda u: services.raise_hand(db.session.get(Meeting, sid), u))
    _as(app, "member3", lambda u: services.raise_hand(db.session.get(Meeting, sid), u))
    _as(
        app,
        "bithu",
        lambda u: services.give_floor(db.session.scalar(select(Speaker).where(Speaker.user_id == qcell["m2"])), u),
    )
    _as(app, "bithu", lambda u: scheduling.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, u))
    with app.app_context():
        states = {t.user_id: t.state for t in db.session.scalars(select(Speaker))}
    assert states == {qcell["m2"]: SpeakerState.DONE, qcell["m3"]: SpeakerState.WITHDRAWN}


def test_every_change_that_moves_a_counter_publishes_the_counters_region(app, qcell):
    """The chair's counters (questions, votes, members who have spoken…) are redrawn when they move,
    whichever kind of change moved them — a speaker's turn as much as a vote."""
    from intranet_questions.views import live_regions

    sid = _meeting(app)
    channel = live_regions.regions["moderation"].channel(sid)  # the region that shows the counters
    bus = app.extensions["intranet_live"]

    def meeting():
        return db.session.get(Meeting, sid)

    def turn_of(username):
        return db.session.scalar(
            select(Speaker)
            .where(Speaker.session_id == sid, Speaker.user_id == _user(username).id)
            .order_by(Speaker.id.desc())
        )

    def question(text):
        return db.session.scalar(select(Question).where(Question.session_id == sid, Question.text == text))

    steps = [
        ("member1", lambda u: services.ask(meeting(), u, "Câu một?")),
        ("member2", lambda u: services.ask(meeting(), u, "Câu hai?")),
        ("member2", lambda u: services.set_vote(question("Câu một?"), u, True)),
        ("member2", lambda u: services.set_vote(question("Câu một?"), u, False)),
        ("member2", lambda u: services.raise_hand(meeting(), u)),
        ("bithu", lambda u: services.give_floor(turn_of("member2"), u)),
        ("bithu", lambda u: services.finish(turn_of("member2"), u)),
        ("bithu", lambda u: services.add_hall_speaker(meeting(), _user("member3"), u)),
        ("bithu", lambda u: services.give_floor(turn_of("member3"), u)),
        ("bithu", lambda u: services.mark_answered(question("Câu một?"), u)),
        ("bithu", lambda u: services.reopen(question("Câu một?"), u)),
        ("bithu", lambda u: services.merge(question("Câu hai?"), question("Câu một?"), u)),
        ("bithu", lambda u: services.hide(question("Câu một?"), u, "Trùng nội dung")),
        ("bithu", lambda u: scheduling.advance(meeting(), SessionStatus.CLOSED, u)),
    ]
    moved = 0
    for username, change in steps:
        with app.test_request_context():
            before, version = services.counters(meeting(), 0), bus.version(channel)
        _as(app, username, change)
        with app.test_request_context():
            after = services.counters(meeting(), 0)
            if after != before:
                moved += 1
                assert bus.version(channel) > version, f"{username}: {before} -> {after} not published"
    assert moved >= 8


# --- live regions, delivery, exports ----------------------------------------------------------------


def test_the_stream_carries_every_region_then_each_change(app, client, qcell, login):
    sid = _meeting(app)
    login("member1")
    poster = app.test_client()
    login("member2", c=poster)
    response = client.get(f"/questions/sessions/{sid}/stream", buffered=False)
    frames = (chunk.decode() for chunk in response.response)
    assert next(frames).startswith("retry:")
    first = [next(frames) for _ in range(3)]
    assert [f.split("\n")[1] for f in first] == ["event: queue", "event: speakers", "event: mine"]
    poster.post(f"/questions/sessions/{sid}/ask", data={"text": "Trực tiếp"})
    update = next(frames)
    assert "event: queue" in update and "Trực tiếp" in update
    response.close()


def test_an_unchanged_poll_costs_no_query_and_a_change_is_seen(app, client, qcell, login):
    sid = _meeting(app)
    login("member1")
    first = client.get(f"/questions/sessions/{sid}/poll/queue")
    etag = first.headers["ETag"]
    with sql_statements(app) as queries:
        assert client.get(f"/questions/sessions/{sid}/poll/queue", headers={"If-None-Match": etag}).status_code == 304
    assert queries == []
    _ask(app, sid, "member2", "Mới")
    changed = client.get(f"/questions/sessions/{sid}/poll/queue", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Mới" in changed.text


def test_the_member_page_reads_each_thing_once(app, client, qcell, login):
    """The page's frame names the office: it comes with the signed-in user; the ask form lists the
    discussion questions: they come with the meeting; unsaved default settings are read once; the
    office's switches and grants are kept by the process while unchanged, and so is the bell's unread
    count while the user's notifications are. Six statements in all (there were twelve)."""
    sid = _meeting(app, questions=("Câu một?", "Câu hai?"))
    login("member1")
    _ask(app, sid, "member1", "Của tôi")
    page = f"/questions/sessions/{sid}"
    assert client.get(page).status_code == 200  # the sign-in's first page marks the session seen
    with sql_statements(app) as statements:
        assert "Câu hai?" in client.get(page).text
    tables = [re.search(r"\bFROM (\w+)", s).group(1) for s in statements]
    assert not {"office", "scheduling_discussion_question", "plugin_state", "permission_grant", "notification"} & set(
        tables
    )
    assert len(statements) == 6, tables


def _regions_in(body: str) -> list[str]:
    return re.findall(r"^event: (\S+)$", body, re.M)


def test_a_page_polls_all_its_regions_in_one_request_and_gets_only_what_changed(app, client, qcell, login):
    sid = _meeting(app)
    login("member1")
    url = f"/questions/sessions/{sid}/poll/queue,speakers,mine?sort=votes"
    first = client.get(url)
    assert first.status_code == 200 and _regions_in(first.text) == ["queue", "speakers", "mine"]
    etag = first.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    _ask(app, sid, "member2", "Chỉ hàng đợi đổi")  # the queue's channel, not member1's own part
    changed = client.get(url, headers={"If-None-Match": etag})
    assert _regions_in(changed.text) == ["queue"] and "Chỉ hàng đợi đổi" in changed.text
    etag = changed.headers["ETag"]
    _ask(app, sid, "member1", "Của tôi")  # the queue and member1's own part
    changed = client.get(url, headers={"If-None-Match": etag})
    assert _regions_in(changed.text) == ["queue", "mine"]
    # A tag this app did not make for this user names nothing: every region comes back.
    versions = changed.headers["ETag"].strip('"').partition("-")[0]
    forged = client.get(url, headers={"If-None-Match": f'"{versions}-{"0" * 24}"'})
    assert _regions_in(forged.text) == ["queue", "speakers", "mine"]
    login("member2")
    assert _regions_in(client.get(url, headers={"If-None-Match": changed.headers["ETag"]}).text) == [
        "queue",
        "speakers",
        "mine",
    ]


def test_a_page_poll_of_a_chair_region_needs_the_chair(app, client, qcell, login):
    sid = _meeting(app)
    login("member1")
    assert client.get(f"/questions/sessions/{sid}/poll/queue,moderation").status_code == 403
    assert client.get(f"/questions/sessions/{sid}/poll/queue,nothing").status_code == 404
    login("bithu")
    assert _regions_in(client.get(f"/questions/sessions/{sid}/poll/moderation,chair-speakers").text) == [
        "moderation",
        "chair-speakers",
    ]


def test_shared_renders_are_made_once_per_change(app, client, qcell, login):
    sid = _meeting(app)
    _ask(app, sid, "member1", "Một lần")
    renders = app.extensions["intranet_live"].renders

    channel = services.queue_channel(sid)

    def made() -> int:  # HTML renders of the queue's current version (each keeps its event lines too)
        version = app.extensions["intranet_live"].version(channel)
        return sum(1 for key in renders._done if key[:2] == (channel, version) and key[-1] != "data")

    before = made()
    for username in ("member2", "member3", "chiuy"):
        login(username)
        assert "Một lần" in client.get(f"/questions/sessions/{sid}/poll/queue").text
    assert made() == before + 1


def test_the_same_idempotency_key_delivers_once(app, client, qcell, login):
    sid = _meeting(app)
    login("member1")
    key = {"Idempotency-Key": "a1b2c3d4e5f6a7b8c9d0", "X-Outbox": "1"}
    first = client.post(f"/questions/sessions/{sid}/ask", data={"text": "Một lần thôi"}, headers=key)
    again = client.post(f"/questions/sessions/{sid}/ask", data={"text": "Một lần thôi"}, headers=key)
    assert first.status_code == again.status_code == 204 and again.headers["Idempotent-Replayed"] == "true"
    other = client.post(
        f"/questions/sessions/{sid}/ask",
        data={"text": "Câu khác"},
        headers={**key, "Idempotency-Key": "ffffeeeeddddccccbbbb"},
    )
    assert other.status_code == 204
    refused = client.post(
        f"/questions/sessions/{sid}/ask", data={"text": ""}, headers={**key, "Idempotency-Key": "0000111122223333"}
    )
    assert refused.status_code == 422
    bad_key = client.post(
        f"/questions/sessions/{sid}/ask", data={"text": "x"}, headers={**key, "Idempotency-Key": "<>"}
    )
    assert bad_key.status_code == 400
    with app.app_context():
        texts = sorted(db.session.scalars(select(Question.text)))
        assert texts == ["Câu khác", "Một lần thôi"]
        assert db.session.scalar(select(func.count(IdempotencyKey.id))) == 2  # the refusal left no key


def test_csv_exports_the_queue_and_the_speakers(app, client, qcell, login):
    sid = _meeting(app)
    _settings(app, sid, anonymity=Anonymity.NAMED)
    qid = _ask(app, sid, "member1", "Xuất, với dấu phẩy")
    _as(app, "member2", lambda u: services.set_vote(db.session.get(Question, qid), u, True))
    _as(app, "member3", lambda u: services.raise_hand(db.session.get(Meeting, sid), u))
    login("bithu")
    response = client.get(f"/questions/sessions/{sid}/queue.csv")
    assert response.mimetype == "text/csv" and response.data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0][:3] == ["#", "Thời điểm hỏi", "Câu hỏi"]
    assert rows[1][2] == "Xuất, với dấu phẩy" and rows[1][4] == "Member1" and rows[1][7] == "1"
    speakers = list(
        csv.reader(io.StringIO(client.get(f"/questions/sessions/{sid}/speakers.csv").data.decode("utf-8-sig")))
    )
    assert speakers[1][0] == "Đảng Viên Ba" and speakers[1][2] == "Chờ phát biểu"


def test_meeting_page_shows_the_queue_panel_only_when_the_plugin_is_on(app, client, data, qcell, login):
    sid = _meeting(app)
    login("member1")
    assert "Mở hàng đợi câu hỏi" in client.get(f"/scheduling/sessions/{sid}").text
    data.enable("questions", "DIST", False)
    assert "Mở hàng đợi câu hỏi" not in client.get(f"/scheduling/sessions/{sid}").text
    assert client.get(f"/questions/sessions/{sid}").status_code == 404


def test_queue_is_listed_in_the_plugin_index(app, client, qcell, login):
    sid = _meeting(app)
    login("member1")
    page = client.get("/questions/").text
    assert f"/questions/sessions/{sid}" in page and re.search(r"Học tập chuyên đề", page)


def test_demo_meetings_have_questions_and_speakers(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.test_request_context():
        thematic = db.session.scalars(select(Meeting).where(Meeting.kind == SessionKind.THEMATIC)).all()
        closed = [m for m in thematic if m.status == SessionStatus.CLOSED]
        assert closed
        for meeting in closed:
            record = services.participation([meeting], None)[meeting.id]
            assert sum(r["times_spoken"] for r in record.values()) >= 3
            assert all(q["answered"] for q in services.discussion(meeting)["questions"])
        upcoming = next(m for m in sorted(thematic, key=lambda m: m.starts_at) if m.status != SessionStatus.CLOSED)
        assert [q.votes for q in services.queue(upcoming, Sort.VOTES)] == [1, 0]
