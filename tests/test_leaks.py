"""Information leaks to members: a right is checked before anything is looked up, and what a member may
not know of is answered exactly as what does not exist — a refusal never tells whether an account
exists, nor the state of a question the member cannot see."""

from __future__ import annotations

import re

import pytest
from test_meetings import _configure, _online
from test_questions import _as, _ask, _meeting, _settings, _user

from intranet.extensions import db
from intranet.refusals import ServiceError
from intranet_questions import services as queue
from intranet_questions.models import Question


def _answer(response) -> tuple[int, str]:
    """What the member learns: the status and the page or message (the page's fresh CSRF token aside)."""
    return response.status_code, re.sub(r"[\w.-]{60,}", "", response.text)


def test_inviting_a_guest_says_nothing_of_accounts_to_a_member(app, client, qcell, login):
    _configure(app)
    sid = _online(app)
    login("member1")
    existing = client.post(f"/meetings/sessions/{sid}/guests", data={"username": "othermember"}, follow_redirects=True)
    missing = client.post(f"/meetings/sessions/{sid}/guests", data={"username": "nobody-here"}, follow_redirects=True)
    assert "Chỉ bí thư mới mời khách" in existing.text and "Chỉ bí thư mới mời khách" in missing.text
    assert "Không có tài khoản" not in missing.text
    login("bithu")  # the secretary, who invites, is told
    told = client.post(f"/meetings/sessions/{sid}/guests", data={"username": "nobody-here"}, follow_redirects=True)
    assert "Không có tài khoản nào có tên đăng nhập này" in told.text


@pytest.mark.parametrize("action", ["approve", "pin", "answer", "reopen"])
def test_moderation_refusals_do_not_reveal_questions_a_member_cannot_see(app, client, qcell, login, action):
    sid = _meeting(app)
    _settings(app, sid, premoderation=True)
    pending = _ask(app, sid, "member2", "Đang chờ duyệt")
    hidden = _ask(app, sid, "member3", "Sẽ bị ẩn")
    _as(app, "bithu", lambda u: queue.approve(db.session.get(Question, hidden), u))
    _as(app, "bithu", lambda u: queue.hide(db.session.get(Question, hidden), u, "Trùng"))
    shown = _ask(app, sid, "chiuy", "Đã duyệt")
    _as(app, "bithu", lambda u: queue.approve(db.session.get(Question, shown), u))
    login("member1")
    client.get("/")  # the sign-in's flash is shown there, not in the answers compared below
    hx = {"HX-Request": "true"}
    nothing = _answer(client.post(f"/questions/questions/999999/{action}", headers=hx))
    assert nothing[0] == 404
    for qid in (pending, hidden):  # the same answer as a question that does not exist
        assert _answer(client.post(f"/questions/questions/{qid}/{action}", headers=hx)) == nothing
        assert _answer(client.post(f"/questions/questions/{qid}/vote", data={"on": "1"}, headers=hx)) == nothing
        assert _answer(client.post(f"/questions/sessions/{sid}/hand", data={"question_id": qid}, headers=hx)) == nothing
    # A question the member sees: refused for want of the right, whatever its state.
    refused = client.post(f"/questions/questions/{shown}/{action}", headers=hx)
    assert refused.status_code == 422 and "Chỉ người chủ trì" in refused.text
    with app.app_context():
        assert db.session.get(Question, pending).status.value == "pending"


def test_the_chair_right_is_checked_before_the_question_state(app, qcell):
    sid = _meeting(app)
    qid = _ask(app, sid, "member2", "Đang mở")
    with app.test_request_context():
        question, member = db.session.get(Question, qid), _user("member1")
        for change in (
            lambda: queue.approve(question, member),
            lambda: queue.reopen(question, member),
            lambda: queue.hide(question, member, ""),
            lambda: queue.edit(question, member, ""),
            lambda: queue.merge(question, None, member),
        ):
            with pytest.raises(ServiceError) as refused:
                change()
            assert str(refused.value) == "Chỉ người chủ trì buổi sinh hoạt mới làm được việc này."


def test_a_member_without_the_right_gets_403_before_any_lookup(app, client, qcell, login):
    sid = _meeting(app)
    qid = _ask(app, sid, "member1", "Có thật")
    login("khach")  # a guest role in the office: no part in the cell's queue
    for url in (
        f"/questions/questions/{qid}/vote",
        "/questions/questions/999999/vote",
        f"/questions/sessions/{sid}/hand",
        "/questions/sessions/999999/hand",
    ):
        assert client.post(url, data={"on": "1"}).status_code == 403, url
    login("member1")
    for url in ("/admin/users/1/roles/1/delete", "/admin/users/999999/roles/1/delete"):
        assert client.post(url).status_code == 403, url
    assert client.post(f"/evaluations/members/{qcell['m2']}/reminder").status_code == 403
    assert client.post("/evaluations/members/999999/reminder").status_code == 403
