"""Uploads under attack (issue 11, items 1, 17, 18): zip bombs refused from the zip directory with the
worker's memory measured, previews cut at a bound, file types checked by their structure, every file
sent with nosniff and a safe Content-Disposition, version numbers unique under concurrent uploads."""

from __future__ import annotations

import functools
import io
import json
import os
import random
import struct
import subprocess
import sys
import threading
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import docx
import pytest
from PIL import Image
from pypdf import PdfWriter
from sqlalchemy import func, select
from test_scheduling_documents import upload  # the one upload helper of the documents tests

from intranet.extensions import db
from intranet.models import Office, User
from intranet_scheduling import services
from intranet_scheduling.models import Document, DocumentKind, Meeting, SessionKind, SessionMode

ROOT = Path(__file__).resolve().parent.parent
MiB = 1024 * 1024


# --- files made for the tests --------------------------------------------------------------------


def docx_with_body(paragraphs, level: int = 6) -> bytes:
    """A real .docx (python-docx's skeleton) whose body is ``paragraphs`` (an iterable of XML byte
    strings), written as a stream so that a file of hundreds of MiB unpacked needs no memory here."""
    skeleton = io.BytesIO()
    docx.Document().save(skeleton)
    source = zipfile.ZipFile(skeleton)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                archive.writestr(info, source.read(info))
                continue
            head, tail = source.read(info).split(b"<w:body>")
            with archive.open("word/document.xml", "w") as part:
                part.write(head + b"<w:body>")
                for paragraph in paragraphs:
                    part.write(paragraph)
                part.write(tail)
    return out.getvalue()


def paragraph(text: str) -> bytes:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>".encode()


@functools.cache
def zip_bomb(mib: int = 256) -> bytes:
    """The review's bomb: many 64 KiB paragraphs of one letter, ``mib`` MiB unpacked, well under 1 MiB packed."""
    block = paragraph("A" * 65536) * 16
    return docx_with_body(block for _ in range(mib))


def long_docx(characters: int) -> bytes:
    """A document within every bound (text packs 3-4 times) with ``characters`` of varied words."""
    words = "chi bộ đảng viên nghị quyết báo cáo sinh hoạt chuyên đề kiểm điểm phát biểu thảo luận".split()
    rng = random.Random(11)
    pool = [paragraph(" ".join(rng.choice(words) for _ in range(60))) for _ in range(2000)]
    return docx_with_body((rng.choice(pool) for _ in range(characters // 300 + 1)), level=1)


def make_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def make_image(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), "red").save(buffer, fmt)
    return buffer.getvalue()


def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def make_mp4() -> bytes:
    """ftyp, moov with its movie header, mdat: the boxes ISO/IEC 14496-12 asks for."""
    return (
        box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
        + box(b"moov", box(b"mvhd", bytes(100)))
        + box(b"mdat", bytes(64))
    )


def element(ident: bytes, payload: bytes) -> bytes:
    return ident + (1 << 56 | len(payload)).to_bytes(8, "big") + payload


def make_webm() -> bytes:
    """An EBML header of doctype webm, then a Segment with Info and Tracks (RFC 9559)."""
    header = element(
        b"\x1a\x45\xdf\xa3",
        element(b"\x42\x86", b"\x01")
        + element(b"\x42\x82", b"webm")
        + element(b"\x42\x87", b"\x04")
        + element(b"\x42\x85", b"\x02"),
    )
    info = element(b"\x15\x49\xa9\x66", element(b"\x2a\xd7\xb1", b"\x0f\x42\x40"))
    tracks = element(b"\x16\x54\xae\x6b", element(b"\xae", element(b"\xd7", b"\x01")))
    return header + element(b"\x18\x53\x80\x67", info + tracks)


HTML_AS_MP4 = b"<!--ftyp--><html><body><script>alert(document.cookie)</script></body></html>"


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture
def meeting(app, data, cell):
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
        member = db.session.scalar(select(User).where(User.username == "member1"))
        services.set_group(
            session, [member, db.session.scalar(select(User).where(User.username == "bithu"))], member, None, None
        )
        db.session.commit()
        return session.id


def stored(app) -> list[Document]:
    with app.app_context():
        documents = db.session.scalars(select(Document).order_by(Document.id)).all()
        db.session.expunge_all()
        return documents


def upload_dir_files(app) -> list[Path]:
    folder = Path(app.instance_path) / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


# --- item 1: zip bombs and bounded previews ----------------------------------------------------------


def test_a_zip_bomb_is_refused_from_its_directory_and_nothing_is_stored(app, client, meeting, login):
    bomb = zip_bomb(256)
    assert len(bomb) < MiB and sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(bomb)).infolist()) > 256 * MiB
    before = upload_dir_files(app)
    login("member1")
    page = upload(client, meeting, bomb, "bao-cao.docx")
    assert page.status_code == 200 and "có thể là “bom nén”" in page.text and "tối đa 100 MB" in page.text
    assert stored(app) == [] and upload_dir_files(app) == before
    client.post("/lang/en", headers={"Referer": "http://localhost/"})
    assert "it may be a “zip bomb”" in upload(client, meeting, bomb, "bao-cao.docx").text


def test_a_long_document_is_previewed_up_to_the_bound_and_marked_cut(app, client, meeting, login):
    login("member1")
    page = upload(client, meeting, long_docx(2_500_000), "dai.docx")
    assert "phiên bản 1" in page.text
    (document,) = stored(app)
    # Cut at the bound; the stored-text rule then strips each paragraph's ends (spaces where Word kept them).
    assert document.preview_cut and 990_000 <= sum(map(len, document.preview)) <= 1_000_000
    assert document.preview[0].startswith(
        (
            "chi",
            "bộ",
            "đảng",
            "viên",
            "nghị",
            "quyết",
            "báo",
            "cáo",
            "sinh",
            "hoạt",
            "chuyên",
            "đề",
            "kiểm",
            "điểm",
            "phát",
            "biểu",
            "thảo",
            "luận",
        )
    )
    preview = client.get(f"/scheduling/documents/{document.id}/preview").text
    assert 'id="preview-cut"' in preview and "Bản xem trước dừng ở đây" in preview
    short = upload(client, meeting, docx_with_body([paragraph("Ngắn gọn")]), "ngan.docx")
    assert "phiên bản 2" in short.text
    newest = stored(app)[-1]
    assert newest.preview == ["Ngắn gọn"] and not newest.preview_cut
    assert 'id="preview-cut"' not in client.get(f"/scheduling/documents/{newest.id}/preview").text


def test_a_paragraph_larger_than_the_bound_is_cut_while_it_is_read(app):
    """One paragraph of 5 MB of text (within the zip bounds, it is varied) ends the preview at the bound."""
    from intranet import previews
    from intranet.filetypes import DOCX

    rng = random.Random(5)
    text = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz ") for _ in range(5_000_000))
    data = docx_with_body([paragraph(text)])
    with app.app_context():
        preview = previews.extract(DOCX, data)
    assert preview.cut and preview.blocks == [text[:1_000_000]]


CHILD = r"""
import gc, io, json, resource, sys, tempfile
from pathlib import Path

resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, 3 * 1024 ** 3))  # the old code would take the machine
sys.path.insert(0, "tests")
import flask_migrate
from support import app_config
from intranet import MIGRATIONS, create_app
from intranet.extensions import db

folder = Path(tempfile.mkdtemp())
app = create_app(app_config(f"sqlite:///{folder / 'child.sqlite3'}", folder))
with app.app_context():
    flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
    from datetime import datetime, timedelta, timezone
    from intranet.admin.services import create_office, create_user
    from intranet.models import PartyStatus, Role
    from intranet_scheduling import services
    from intranet_scheduling.models import SessionKind, SessionMode
    office = create_office(code="DIST", name="District", parent=None)
    user, _ = create_user(username="lead", full_name="Lead", office=office, roles=(Role("secretary"), Role("member")),
                          party_status=PartyStatus("official"), password="correct horse battery")
    session = services.create_session(office, kind=SessionKind.THEMATIC, title="T",
                                      starts_at=datetime.now(timezone.utc) + timedelta(days=9),
                                      duration_minutes=60, place="", mode=SessionMode.IN_PERSON)
    db.session.commit()
    session_id = session.id
client = app.test_client()
assert client.post("/login", data={"username": "lead", "password": "correct horse battery"}).status_code == 302
body = Path(sys.argv[1]).read_bytes()


def peak_kib():
    # This process's own peak RSS (VmHWM). ru_maxrss would do, but Linux keeps it across execve, so a
    # child forked from a large pytest would report the parent's size.
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmHWM:")[1].split()[0])


gc.collect()
Path("/proc/self/clear_refs").write_text("5")  # Linux: the peak starts again from the current RSS
before = peak_kib()
page = client.post(f"/scheduling/sessions/{session_id}/documents", content_type="multipart/form-data",
                   data={"kind": "report", "file": (io.BytesIO(body), "tai-lieu.docx")}, follow_redirects=True)
after = peak_kib()
print(json.dumps({"before_kib": before, "after_kib": after, "status": page.status_code, "page": page.text}))
"""
# The bound docs/security/uploads.md states: checking and previewing one upload raises the worker's
# peak memory by less than this, whatever the file unpacks to.
EXTRACTION_BOUND_MIB = 64


@pytest.mark.parametrize(
    "name,make,expect",
    [
        ("bomb", lambda: zip_bomb(256), "có thể là “bom nén”"),
        ("long", lambda: long_docx(10_000_000), "phiên bản 1"),
    ],
)
def test_the_workers_memory_stays_bounded_whatever_the_document_unpacks_to(tmp_path, name, make, expect):
    """A real upload through the route, in a child process whose own peak RSS is reset just before and
    read just after (the old code took the bomb past the child's 3 GiB address-space limit)."""
    path = tmp_path / f"{name}.docx"
    path.write_bytes(make())
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    grown_mib = (measured["after_kib"] - measured["before_kib"]) / 1024
    print(
        f"{name}: {path.stat().st_size / MiB:.1f} MiB file, peak RSS {measured['before_kib'] / 1024:.0f} → "
        f"{measured['after_kib'] / 1024:.0f} MiB (+{grown_mib:.1f})"
    )
    assert measured["status"] == 200 and expect in measured["page"]
    assert grown_mib < EXTRACTION_BOUND_MIB


def test_the_zip_directory_is_read_before_any_part(app):
    """The decision comes from the directory's sizes alone: the same small archive is refused once its
    directory claims more than MAX_UNPACKED."""
    from intranet.archives import DecompressionBomb, open_archive

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
    data = bytearray(out.getvalue())
    assert open_archive(bytes(data)).namelist() == ["[Content_Types].xml"]
    struct.pack_into("<L", data, data.rfind(b"PK\x01\x02") + 24, 150 * MiB)  # its uncompressed size
    with pytest.raises(DecompressionBomb):
        open_archive(bytes(data))


def test_an_archive_of_a_huge_directory_is_refused_before_zipfile_reads_it(app):
    from intranet.archives import DecompressionBomb, open_archive

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for number in range(12_000):
            archive.writestr(f"x/{number}", b"")
    with pytest.raises(DecompressionBomb):
        open_archive(out.getvalue())


# --- item 17: real structure, not a magic number ---------------------------------------------------------


def test_html_with_ftyp_at_byte_4_is_refused_not_served_as_video(app, client, meeting, login):
    login("member1")
    page = upload(client, meeting, HTML_AS_MP4, "video.mp4", kind="video")
    assert "Tệp bị hỏng, không mở được." in page.text
    assert stored(app) == []


@pytest.mark.parametrize(
    "content,kind,content_type",
    [
        (make_mp4(), "video", "video/mp4"),
        (make_webm(), "video", "video/webm"),
        (make_pdf(), "report", "application/pdf"),
        (make_image("PNG"), "image", "image/png"),
        (make_image("JPEG"), "image", "image/jpeg"),
        (make_image("GIF"), "image", "image/gif"),
        (make_image("WEBP"), "image", "image/webp"),
    ],
)
def test_each_accepted_type_is_recognised_by_its_structure(app, client, meeting, login, content, kind, content_type):
    login("member1")
    assert "phiên bản 1" in upload(client, meeting, content, "tep", kind=kind).text
    (document,) = stored(app)
    assert document.content_type == content_type


def _broken_png() -> bytes:
    data = bytearray(make_image("PNG"))
    data[-20] ^= 0xFF  # inside the image data chunk: its CRC no longer matches
    return bytes(data)


@pytest.mark.parametrize(
    "content,kind,why",
    [
        (make_mp4()[:-10], "video", "an mp4 whose last box runs past the end"),
        (box(b"ftyp", b"isom\0\0\0\0") + box(b"mdat", bytes(16)), "video", "an mp4 without moov"),
        (make_webm()[:-3], "video", "a truncated webm"),
        (make_webm().replace(b"webm", b"html"), "video", "EBML of another doctype"),
        (b"%PDF-1.7\n<script>alert(1)</script>\n", "report", "a PDF header without a PDF"),
        (make_pdf().replace(b"/Catalog", b"/Catalug"), "report", "a PDF without a catalogue"),
        (_broken_png(), "image", "a PNG with a broken chunk"),
        (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", "image", "a PNG signature before HTML"),
        (b"GIF89a<script>alert(1)</script>", "image", "a GIF signature before script"),
    ],
)
def test_a_magic_number_alone_is_not_enough(app, client, meeting, login, content, kind, why):
    login("member1")
    page = upload(client, meeting, content, "tep", kind=kind)
    assert "Tệp bị hỏng, không mở được." in page.text, why
    assert stored(app) == []


def test_a_macro_enabled_document_is_not_a_docx(app, client, meeting, login):
    data = docx_with_body([paragraph("Macro")])
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "[Content_Types].xml":
                body = body.replace(b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")
            archive.writestr(info, body)
    login("member1")
    assert "Không nhận loại tệp này" in upload(client, meeting, out.getvalue(), "bao-cao.docx").text
    assert stored(app) == []


# --- item 17: every file leaves through one helper -----------------------------------------------------


def test_documents_are_sent_with_nosniff_and_a_safe_disposition(app, client, meeting, login):
    login("member1")
    upload(client, meeting, make_pdf(), "Báo cáo quý 1;.pdf")
    upload(client, meeting, docx_with_body([paragraph("Nội dung")]), "bao-cao.docx")
    pdf, report = stored(app)
    shown = client.get(f"/scheduling/documents/{pdf.id}")
    assert shown.headers["X-Content-Type-Options"] == "nosniff" and shown.mimetype == "application/pdf"
    assert shown.headers["Content-Disposition"] == (
        "inline; filename=\"Bao cao quy 1_.pdf\"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o%20qu%C3%BD%201%3B.pdf"
    )
    assert "private" in shown.headers["Cache-Control"] and "public" not in shown.headers["Cache-Control"]
    sent = client.get(f"/scheduling/documents/{report.id}")
    assert sent.headers["X-Content-Type-Options"] == "nosniff"
    assert sent.headers["Content-Disposition"].startswith('attachment; filename="bao-cao.docx"')
    ranged = client.get(f"/scheduling/documents/{pdf.id}", headers={"Range": "bytes=0-3"})
    assert ranged.status_code == 206 and ranged.data == b"%PDF"


@pytest.mark.parametrize(
    "name,inline,expected",
    [
        (
            "a\r\nSet-Cookie: x=1.pdf",
            True,
            "inline; filename=\"aSet-Cookie_ x_1.pdf\"; filename*=UTF-8''aSet-Cookie%3A%20x%3D1.pdf",
        ),
        ('say "hi".pdf', False, "attachment; filename=\"say _hi_.pdf\"; filename*=UTF-8''say%20%22hi%22.pdf"),
        ("../../etc/passwd", False, "attachment; filename=\"passwd\"; filename*=UTF-8''passwd"),
        ("..\\..\\boot.ini", False, "attachment; filename=\"boot.ini\"; filename*=UTF-8''boot.ini"),
        ("\u202egpj.exe", False, "attachment; filename=\"gpj.exe\"; filename*=UTF-8''gpj.exe"),
        (
            "Nghị quyết.docx",
            False,
            "attachment; filename=\"Nghi quyet.docx\"; filename*=UTF-8''Ngh%E1%BB%8B%20quy%E1%BA%BFt.docx",
        ),
        ("", False, "attachment; filename=\"file\"; filename*=UTF-8''file"),
    ],
)
def test_content_disposition_names(name, inline, expected):
    from intranet.files import content_disposition

    assert content_disposition(name, inline) == expected


def test_every_other_download_goes_through_the_helper(app, client, meeting, login, data):
    """The calendar feed, the CSV template and the evaluations' review: nosniff and an attachment."""
    login("distadmin")
    template = client.get("/admin/users/import/template.csv")
    login("bithu")
    review = client.get("/evaluations/review.docx")
    token_page = client.post("/scheduling/calendar/issue").text
    feed_url = token_page.split("/scheduling/calendar/", 1)[1].split(".ics", 1)[0]
    feed = client.get(f"/scheduling/calendar/{feed_url}.ics")
    for response, name in ((template, "users-template.csv"), (review, ".docx"), (feed, "lich-hop.ics")):
        assert response.status_code == 200, name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        disposition = response.headers["Content-Disposition"]
        assert (
            disposition.startswith("attachment; filename=")
            and name in disposition
            and "filename*=UTF-8''" in disposition
        )
    assert set(feed.headers["Cache-Control"].split(", ")) == {"private", "max-age=300"}


def test_no_view_builds_a_file_response_itself():
    """One helper (intranet/files.py) sends files: no other module calls send_file or writes the header."""
    offenders = []
    for path in [*ROOT.glob("intranet/**/*.py"), *ROOT.glob("plugins/**/*.py")]:
        if path == ROOT / "intranet/files.py":
            continue
        text = path.read_text(encoding="utf-8")
        if any(marker in text for marker in ("send_file", "send_from_directory", "Content-Disposition")):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


# --- item 18: version numbers under concurrency ---------------------------------------------------------


def test_concurrent_uploads_get_distinct_versions(app, meeting, cell):
    """Uploads of one kind released together (threads, each its own connection, on SQLite or on
    PostgreSQL with INTRANET_TEST_DATABASE_URL) end numbered 1..n with nothing lost."""
    from intranet_scheduling import documents

    uploads, pdf = 8, make_pdf()
    gate, errors, files_before = threading.Barrier(uploads), [], len(upload_dir_files(app))

    def send(number):
        try:
            with app.test_request_context():
                session = db.session.get(Meeting, meeting)
                actor = db.session.get(User, cell["member"])
                gate.wait()
                documents.upload(session, DocumentKind.REPORT, f"v{number}.pdf", pdf, actor)
                db.session.commit()
        except Exception as exc:  # reported below with the versions
            errors.append(repr(exc))

    for _ in range(3):
        threads = [threading.Thread(target=send, args=(n,)) for n in range(uploads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    with app.app_context():
        versions = db.session.scalars(select(Document.version).order_by(Document.version)).all()
        files = db.session.scalar(select(func.count()).select_from(Document))
    assert errors == [] and versions == list(range(1, 3 * uploads + 1)), (errors[:2], versions)
    assert len(upload_dir_files(app)) - files_before == files


def test_the_migration_numbers_duplicate_versions_again_in_upload_order(tmp_path):
    """A database that concurrent uploads left with versions 1,1,2,2,3 upgrades to 1..5 (and a series
    without duplicates keeps its numbers), so the new unique constraint can hold."""
    import flask_migrate
    from sqlalchemy import text
    from support import app_config

    from intranet import MIGRATIONS, create_app

    app = create_app(app_config(f"sqlite:///{tmp_path / 'old.sqlite3'}", tmp_path))
    with app.app_context():
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="0010")
        now = "2026-11-01 08:00:00+00:00"
        db.session.execute(
            text(
                "INSERT INTO office (id, code, name, party_committee, cell_name, created_at) "
                "VALUES (1, 'D', 'D', '', '', :now)"
            ),
            {"now": now},
        )
        db.session.execute(
            text(
                "INSERT INTO scheduling_session (id, office_id, kind, title, starts_at, duration_minutes, "
                "place, mode, status, created_at) VALUES (1, 1, 'thematic', 'T', :now, 60, '', "
                "'in_person', 'planned', :now)"
            ),
            {"now": now},
        )
        rows = [
            (1, "report", 1),
            (2, "report", 1),
            (3, "report", 2),
            (4, "slides", 1),
            (5, "report", 2),
            (6, "report", 3),
            (7, "slides", 2),
        ]
        for ident, kind, version in rows:
            db.session.execute(
                text(
                    "INSERT INTO scheduling_document (id, office_id, session_id, kind, version, filename, "
                    "stored_name, content_type, size, preview_text, uploaded_at) VALUES (:id, 1, 1, "
                    ":kind, :version, 'f', :name, 'application/pdf', 1, '', :now)"
                ),
                {"id": ident, "kind": kind, "version": version, "name": f"s{ident}", "now": now},
            )
        db.session.commit()
        flask_migrate.upgrade(directory=str(MIGRATIONS), revision="heads")
        after = db.session.execute(text("SELECT id, version, preview_cut FROM scheduling_document ORDER BY id")).all()
    assert [(i, v) for i, v, _ in after] == [(1, 1), (2, 2), (3, 3), (4, 1), (5, 4), (6, 5), (7, 2)]
    assert all(not cut for _, _, cut in after)
