"""Documents sent ahead: content-checked uploads, versions, preview text, visibility, read receipts."""

import io
import zipfile
from datetime import UTC, datetime, timedelta

import docx
import pytest
from pptx import Presentation
from pypdf import PdfWriter
from sqlalchemy import func, select

from intranet.extensions import db
from intranet.models import Office
from intranet_scheduling import services
from intranet_scheduling.models import Document, DocumentRead, SessionKind, SessionMode


def make_docx(*paragraphs) -> bytes:
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def make_pptx(title, body) -> bytes:
    presentation = Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = title
    slide.placeholders[1].text = body
    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


@pytest.fixture
def meeting(app, data, cell):
    data.user("member2", "DIST")
    data.user("member3", "DIST")
    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        session = services.create_session(
            dist,
            kind=SessionKind.THEMATIC,
            title="Chuyên đề",
            starts_at=datetime.now(UTC) + timedelta(days=9),
            duration_minutes=120,
            place="",
            mode=SessionMode.IN_PERSON,
        )
        people = {u.username: u for u in services.members(dist.id)}
        services.set_group(session, [people["member1"], people["member2"]], people["member1"], None, None)
        db.session.commit()
        return session.id


def upload(client, sid, content: bytes, name: str, kind="report"):
    return client.post(
        f"/scheduling/sessions/{sid}/documents",
        data={"kind": kind, "file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        follow_redirects=True,
    )


def count(app):
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Document))


def test_group_uploads_report_and_slides_with_previews(app, client, meeting, login):
    login("member1")  # the group's lead
    page = upload(client, meeting, make_docx("Báo cáo chuyên đề", "Phần I. Thực trạng"), "bao-cao.docx")
    assert "“bao-cao.docx” đã được tải lên (phiên bản 1)." in page.text
    upload(client, meeting, make_pptx("Tiêu đề trình chiếu", "Ý chính thứ nhất"), "slides.pptx", kind="slides")
    with app.app_context():
        report, slides = db.session.scalars(select(Document).order_by(Document.id)).all()
    preview = client.get(f"/scheduling/documents/{report.id}/preview")
    assert "Phần I. Thực trạng" in preview.text
    assert "Tiêu đề trình chiếu" in client.get(f"/scheduling/documents/{slides.id}/preview").text
    download = client.get(f"/scheduling/documents/{report.id}")
    assert download.data[:2] == b"PK" and len(download.data) == report.size
    assert "attachment" in download.headers["Content-Disposition"]


def test_versions_are_kept(app, client, meeting, login):
    login("member1")
    upload(client, meeting, make_docx("v1"), "r.docx")
    page = upload(client, meeting, make_docx("v2"), "r.docx")
    assert "phiên bản 2" in page.text and "Các phiên bản trước" in page.text
    with app.app_context():
        assert [d.version for d in db.session.scalars(select(Document).order_by(Document.id))] == [1, 2]


def make_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


PDF = make_pdf()


@pytest.mark.parametrize(
    "content,name,kind,message",
    [
        (b"MZ\x90\x00 not a document", "bao-cao.docx", "report", "Không nhận loại tệp này"),
        (PDF, "video.mp4", "video", "Không nhận loại tệp này"),
        (b"", "empty.docx", "report", "Tệp rỗng."),
    ],
)
def test_wrong_files_are_refused_by_content(app, client, meeting, login, content, name, kind, message):
    login("member1")
    assert message in upload(client, meeting, content, name, kind).text
    assert count(app) == 0


def test_corrupt_docx_is_refused_and_nothing_is_stored(app, client, meeting, login):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<broken")
        archive.writestr("word/document.xml", "<not xml")
    from pathlib import Path

    uploads = Path(app.instance_path) / "uploads"
    files_before = len(list(uploads.iterdir())) if uploads.exists() else 0
    login("member1")
    assert "Tệp bị hỏng, không mở được" in upload(client, meeting, buffer.getvalue(), "hong.docx").text
    assert count(app) == 0
    assert (len(list(uploads.iterdir())) if uploads.exists() else 0) == files_before


def test_size_limit(app, client, meeting, login):
    login("member1")
    app.config["SCHEDULING_MAX_UPLOAD"] = 1024
    try:
        assert "lớn hơn" in upload(client, meeting, PDF + b"0" * 2048, "big.pdf").text
    finally:
        app.config["SCHEDULING_MAX_UPLOAD"] = 50 * 1024 * 1024
    assert count(app) == 0


def test_members_see_documents_only_once_sent_and_receipts_follow(app, client, meeting, login):
    login("member1")
    upload(client, meeting, PDF, "bao-cao.pdf")
    with app.app_context():
        doc = db.session.scalar(select(Document.id))
    outsider = app.test_client()
    login("member3", c=outsider)  # a member, not in the group
    assert outsider.get(f"/scheduling/documents/{doc}").status_code == 404
    assert "bao-cao.pdf" not in outsider.get(f"/scheduling/sessions/{meeting}").text
    assert outsider.post(f"/scheduling/sessions/{meeting}/documents", data={"kind": "report"}).status_code == 403
    secretary = app.test_client()
    login("bithu", c=secretary)
    secretary.post(f"/scheduling/sessions/{meeting}/advance")  # send to members
    pdf = outsider.get(f"/scheduling/documents/{doc}")
    assert (
        pdf.status_code == 200 and pdf.mimetype == "application/pdf" and "inline" in pdf.headers["Content-Disposition"]
    )
    outsider.get(f"/scheduling/documents/{doc}")  # a second opening keeps the first time
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(DocumentRead)) == 1  # once, member3's
    receipts = secretary.get(f"/scheduling/sessions/{meeting}").text
    assert "Đã mở: 1/" in receipts
    assert "Member3" in receipts.split('class="receipts"')[1]


def test_another_office_cannot_reach_a_document(app, client, meeting, login):
    login("member1")
    upload(client, meeting, PDF, "bao-cao.pdf")
    with app.app_context():
        doc = db.session.scalar(select(Document.id))
    login_other = app.test_client()
    login("othermember", c=login_other)
    assert login_other.get(f"/scheduling/documents/{doc}").status_code == 404
    assert login_other.get(f"/scheduling/documents/{doc}/preview").status_code == 404


def test_reminders_nudge_members_who_have_not_read(app, client, meeting, login):
    from intranet.notifications import Notification
    from intranet_scheduling.models import Meeting

    login("member1")
    upload(client, meeting, PDF, "bao-cao.pdf")
    with app.app_context():
        session = db.session.get(Meeting, meeting)
        session.starts_at = datetime.now(UTC) + timedelta(days=1)
        db.session.commit()
    secretary = app.test_client()
    login("bithu", c=secretary)
    secretary.post(f"/scheduling/sessions/{meeting}/advance")
    with app.app_context():
        doc = db.session.scalar(select(Document.id))
    client.get(f"/scheduling/documents/{doc}")  # member1 reads it
    result = app.test_cli_runner().invoke(args=["scheduling", "send-reminders"])
    assert result.exit_code == 0
    with app.app_context():
        nudged = set(db.session.scalars(select(Notification.user_id).where(Notification.key == f"unread:{meeting}")))
        from intranet.models import User

        names = {db.session.get(User, i).username for i in nudged}
    assert "member1" not in names and {"member2", "member3", "bithu"} <= names


def test_members_ask_about_the_report_and_the_queue_hears_it(app, client, meeting, login):
    from intranet.hookspecs import hookimpl
    from intranet.plugins import manager

    heard = []

    class Queue:
        @hookimpl
        def intranet_session_question_asked(self, session, user, text, asked_at):
            heard.append((session.id, user.username, text))

    asker = app.test_client()
    login("member3", c=asker)
    early = asker.post(f"/scheduling/sessions/{meeting}/ask", data={"ask-text": "Hỏi sớm?"}, follow_redirects=True)
    assert "khi tài liệu được gửi" in early.text
    secretary = app.test_client()
    login("bithu", c=secretary)
    secretary.post(f"/scheduling/sessions/{meeting}/advance")
    pm = manager(app).pm
    pm.register(Queue(), name="queue-listener")
    try:
        empty = asker.post(f"/scheduling/sessions/{meeting}/ask", data={"ask-text": "   "}, follow_redirects=True)
        assert "Trường này là bắt buộc." in empty.text
        asker.post(f"/scheduling/sessions/{meeting}/ask", data={"ask-text": "<script>alert(1)</script> Số liệu?"})
    finally:
        pm.unregister(name="queue-listener")
    assert heard == [(meeting, "member3", "<script>alert(1)</script> Số liệu?")]
    group_view = client
    login("member1", c=group_view)
    page = group_view.get(f"/scheduling/sessions/{meeting}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Số liệu?" in page and "<script>alert(1)" not in page
    other = app.test_client()
    login("member2", c=other)  # in the group too: sees it
    assert "Số liệu?" in other.get(f"/scheduling/sessions/{meeting}").text
