"""What the pages say: meetings named by their titles, headings that fit the meeting's state, one label
per field, Vietnamese for every term, a confirmation before merging, each action saying what it did,
issued texts shown as issued, and a demo whose notices carry the days they came."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask_babel import force_locale, gettext
from sqlalchemy import select
from support import ROOT
from test_evaluations import _held, _meeting, _user
from test_questions import _ask
from test_questions import _meeting as _live_meeting

from intranet.extensions import db
from intranet.notifications import Notification
from intranet_evaluations import services as evaluations
from intranet_questions.models import Question, QuestionStatus
from intranet_scheduling.models import SessionStatus


def _labels(page: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>|\s+", " ", label).strip() for label in re.findall(r"<label[^>]*>(.*?)</label>", page, re.S)
    ]


def _article(page: str, article_id: str) -> str:
    start = page.index(f'<article id="{article_id}"')
    return page[start : page.index("</article>", start)]


def test_overdue_tasks_name_their_meeting_and_a_planned_meeting_has_no_closing(app, client, qcell, login):
    earlier = _held(app, when=datetime.now(UTC) - timedelta(days=60))
    with app.test_request_context():
        evaluations.add_task(
            _meeting(earlier),
            _user("bithu"),
            what="Báo cáo kết quả học tập",
            owner=_user("member1"),
            due=date.today() - timedelta(days=20),
        )
        db.session.commit()
    planned = _live_meeting(app, status=SessionStatus.PLANNED)
    login("bithu")
    panel = _article(client.get(f"/scheduling/sessions/{planned}").text, "evaluations-panel")
    assert "Nhiệm vụ quá hạn của các nghị quyết trước" in panel
    assert "Chuyên đề học tập" in panel and f">#{earlier}<" not in panel  # the meeting's title, not its number
    assert "Kết thúc và đánh giá" not in panel
    assert "Kết thúc và đánh giá" in client.get(f"/scheduling/sessions/{earlier}").text


def test_the_meeting_page_labels_each_field_once(app, client, qcell, login):
    sid = _live_meeting(app, status=SessionStatus.DOCUMENTS_SENT)
    login("bithu")  # plans the meeting and, as a member, may ask the group: both question fields are there
    labels = _labels(client.get(f"/scheduling/sessions/{sid}").text)
    assert "Câu hỏi thảo luận mới" in labels and "Câu hỏi của bạn về báo cáo" in labels
    assert len(labels) == len(set(labels)), labels


def test_admin_terms_are_vietnamese(client, cell, login):
    login("distadmin")
    offices = client.get("/admin/offices").text
    assert "Tên cơ quan" in _labels(offices) and "Họ tên" not in _labels(offices)
    plugins = client.get("/admin/plugins").text
    # (the test plugin's own description may say "Plugin": headings and links may not)
    assert "<th>Phân hệ</th>" in plugins and not re.search(r"<(th|h1|h2|a)\b[^>]*>[^<]*Plugin", plugins)


def test_link_quality_terms_read_naturally(app):
    with app.test_request_context(), force_locale("vi"):
        assert gettext("Low video") == "Chất lượng hình thấp"
        assert gettext("low video") == "hình chất lượng thấp"


def test_merging_needs_a_chosen_question_and_a_confirmation(app, client, qcell, login):
    sid = _live_meeting(app)
    kept = _ask(app, sid, "member1", "Câu hỏi gốc")
    duplicate = _ask(app, sid, "member2", "Câu hỏi lặp lại")
    login("bithu")
    page = client.get(f"/questions/questions/{duplicate}/moderate").text
    merge = page[page.index('value="merge"') - 400 : page.index("</form>", page.index('value="merge"'))]
    assert "data-confirm=" in merge  # intranet.js asks before the form goes
    options = re.findall(r"<option([^>]*)>([^<]*)</option>", merge)
    assert options[0][1] == "— chọn câu hỏi bị trùng —" and 'value="0"' in options[0][0]
    assert not any("selected" in attributes for attributes, _ in options[1:])  # nothing chosen for the chair
    refused = client.post(
        f"/questions/questions/{duplicate}/moderate", data={"action": "merge", "merge-into": "0"}, follow_redirects=True
    )
    assert "Hãy chọn một câu hỏi khác của buổi này." in refused.text
    with app.app_context():
        assert db.session.get(Question, duplicate).status == QuestionStatus.OPEN
    merged = client.post(
        f"/questions/questions/{duplicate}/moderate",
        data={"action": "merge", "merge-into": str(kept)},
        follow_redirects=True,
    )
    assert "Đã gộp câu hỏi vào câu hỏi được chọn" in merged.text


def test_each_action_says_what_it_did(app, client, qcell, login):
    sid = _live_meeting(app)
    question = _ask(app, sid, "member1", "Câu hoi sai chính tả")
    login("bithu")
    said = {
        "Đã sửa nội dung câu hỏi.": lambda: client.post(
            f"/questions/questions/{question}/moderate", data={"action": "edit", "edit-text": "Câu hỏi sai chính tả"}
        ),
        "Đã thay đổi thiết lập hàng đợi câu hỏi.": lambda: client.post(
            f"/questions/sessions/{sid}/settings",
            data={"anonymity": "chair", "sort": "votes", "open_limit": "3", "chair_id": "0"},
        ),
        "Đã lưu quy định về mức độ tham gia.": lambda: client.post(
            "/evaluations/settings", data={"absences_per_quarter": "2", "silent_meetings": "3"}
        ),
    }
    for message, act in said.items():
        response = act()
        assert response.status_code == 302
        assert message in client.get(response.location).text
    login("distadmin")
    response = client.post(
        f"/admin/users/{qcell['member']}",
        data={"full_name": "Member One", "email": "", "office_id": str(_office_id(app)), "party_status": "official"},
    )
    assert "Đã cập nhật thông tin của Member One." in client.get(response.location).text


def test_no_action_says_only_saved():
    sources = [
        *ROOT.glob("intranet/**/*.py"),
        *ROOT.glob("plugins/**/*.py"),
        *ROOT.glob("intranet/templates/**/*.html"),
        *ROOT.glob("plugins/*/templates/**/*.html"),
    ]
    generic = [
        str(path.relative_to(ROOT)) for path in sources if re.search(r"""_\(\s*["']Saved\.["']""", path.read_text())
    ]
    assert not generic, f"say what was saved instead of “Saved.”: {generic}"


def test_an_issued_conclusion_and_evaluation_read_as_issued(app, client, qcell, login):
    sid = _held(app)
    login("bithu")
    client.post(
        f"/evaluations/sessions/{sid}/record",
        data={"chair_id": str(qcell["secretary"]), "taker_id": "0", "conclusion": "Kết luận đã ban hành", "final": "1"},
    )
    client.post(
        f"/evaluations/sessions/{sid}/group",
        data={"strengths": "Chuẩn bị tốt", "weaknesses": "", "rating": "good", "final": "1"},
    )
    for username in ("phobithu", "bithu"):
        login(username)
        page = client.get(f"/evaluations/sessions/{sid}").text
        for article in (_article(page, "record"), _article(page, "group")):
            assert "Lưu nháp" not in article  # no draft of what is issued
        record = _article(page, "record")
        assert '<p class="conclusion">Kết luận đã ban hành</p>' in record
        assert "Chuẩn bị tốt" in _article(page, "group")
    # Only the secretary may still correct them, folded away under a plain summary.
    assert (
        "<summary>Sửa kết luận đã ban hành</summary>" in page and "<summary>Sửa đánh giá đã ban hành</summary>" in page
    )
    login("phobithu")
    assert "Sửa kết luận đã ban hành" not in client.get(f"/evaluations/sessions/{sid}").text


def test_demo_notifications_carry_the_days_they_came(app):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        notices = db.session.scalars(select(Notification)).all()
        times = {n.created_at for n in notices}
        now = datetime.now(UTC)
        assert len(times) >= 6 and max(times) <= now and min(times) < now - timedelta(days=60)
        # what came more than a fortnight ago has been read
        assert all(n.read_at for n in notices if n.created_at < now - timedelta(days=14))
        assert any(n.read_at is None for n in notices)


def _office_id(app) -> int:
    with app.app_context():
        return _user("member1").office_id
