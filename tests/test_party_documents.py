"""Documents in the party's layout (Hướng dẫn 36-HD/VPTW), shared by every kind the intranet issues:
the demo's minutes and resolution, the yearly programme and the review, checked in the .docx and, when
LibreOffice is installed, in the PDF it renders (header, number, signature, recipients, page numbers);
the office's layout set by its admin."""

from __future__ import annotations

import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import docx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from flask import current_app
from pypdf import PdfReader
from sqlalchemy import select

from intranet import party_docx
from intranet.extensions import db
from intranet.models import Office
from intranet_evaluations import documents, review
from intranet_evaluations.models import CellDocument, DocumentKind
from intranet_scheduling import programme_document
from intranet_scheduling import services as scheduling

COMMITTEE = "ĐẢNG BỘ VIỆN KIỂM SÁT NHÂN DÂN THÀNH PHỐ CẦN THƠ"
CELL = "CHI BỘ VIỆN KIỂM SÁT NHÂN DÂN HUYỆN PHONG ĐIỀN"
SECRETARY = "Nguyễn Văn Hùng"
SUPERIOR = "- Đảng ủy Viện kiểm sát nhân dân thành phố Cần Thơ (để báo cáo),"


def test_summary_line_lowers_the_titles_first_word_but_not_a_name():
    assert party_docx.summary_case("Nâng cao chất lượng sinh hoạt") == "nâng cao chất lượng sinh hoạt"
    assert (
        party_docx.summary_case("Học tập và làm theo tư tưởng Hồ Chí Minh")
        == "học tập và làm theo tư tưởng Hồ Chí Minh"
    )
    assert party_docx.summary_case("Hồ Chí Minh với công tác kiểm sát") == "Hồ Chí Minh với công tác kiểm sát"
    assert party_docx.summary_case("HĐND và công tác giám sát") == "HĐND và công tác giám sát"


def test_columns_are_sized_by_their_content():
    rows = [
        ["TT", "Nhiệm vụ", "Người thực hiện", "Thời hạn"],
        [
            "1",
            "Hoàn thiện quy chế làm việc của chi bộ và gửi các đảng viên góp ý trước kỳ sinh hoạt tới",
            "Nguyễn Văn Hùng",
            "30/06/2027",
        ],
    ]
    number, task, owner, due = party_docx.column_widths(rows)
    assert abs(number + task + owner + due - party_docx.TEXT_WIDTH_CM) < 0.01
    assert number < 1.5 and task > 7 and task > owner > number
    assert owner >= party_docx._text_cm("Nguyễn Văn Hùng") and due >= party_docx._text_cm("30/06/2027")  # one line


def _demo(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


def _demo_documents() -> dict[str, bytes]:
    """The demo's newest signed minutes and resolution (one thematic meeting), its programme, its review."""
    office = db.session.scalar(select(Office).where(Office.code == "VKS-PD"))
    resolution = db.session.scalars(
        select(CellDocument)
        .where(CellDocument.office_id == office.id, CellDocument.kind == DocumentKind.RESOLUTION)
        .order_by(CellDocument.id.desc())
    ).first()
    minutes = db.session.scalars(
        select(CellDocument)
        .where(CellDocument.session_id == resolution.session_id, CellDocument.kind == DocumentKind.MINUTES)
        .order_by(CellDocument.version.desc())
    ).first()
    tz = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    today = datetime.now(tz).date()
    return {
        "bien-ban": documents.to_docx(minutes),
        "nghi-quyet": documents.to_docx(resolution),
        "chuong-trinh": programme_document.to_docx(scheduling.programme_for(office.id, today.year)),
        "bao-cao": review.to_docx(office, review.review(office.id, today.year, None, today), today),
    }


def test_the_demo_resolution_docx_follows_the_layout(app):
    _demo(app)
    with app.test_request_context():
        made = _demo_documents()
    opened = docx.Document(io.BytesIO(made["nghi-quyet"]))
    paragraphs = opened.paragraphs
    kind = next(i for i, p in enumerate(paragraphs) if p.text == "NGHỊ QUYẾT")
    summary = paragraphs[kind + 1].text
    assert summary.startswith("về ") and summary[3].islower(), summary  # "về nâng cao…", not "về Nâng cao…"
    resolves = next(p for p in paragraphs if p.text.endswith("NGHỊ:"))
    assert resolves.text == f"{CELL} QUYẾT\u00a0NGHỊ:"  # a line of its own…
    assert resolves.alignment == WD_ALIGN_PARAGRAPH.CENTER and resolves.runs[0].bold  # …centred, bold
    recipients = opened.tables[-1].rows[0].cells[0].paragraphs
    assert recipients[0].text == "Nơi nhận:" and recipients[0].runs[0].underline
    assert recipients[0].alignment == WD_ALIGN_PARAGRAPH.LEFT
    assert recipients[1].text == SUPERIOR and recipients[-1].text == "- Lưu chi bộ."
    tasks = next(t for t in opened.tables if t.rows[0].cells[0].text == "TT")
    grid = [int(c.get(qn("w:w"))) for c in tasks._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert grid[0] < grid[2] < grid[1]  # "TT" narrow, "Nhiệm vụ" wide
    header_xml = opened.sections[0].header._element.xml
    assert "PAGE" in header_xml and opened.sections[0].different_first_page_header_footer
    fonts = next(p for p in opened.part.package.parts if str(p.partname) == "/word/fontTable.xml").blob.decode()
    assert re.search(r'w:name="Times New Roman"><w:altName w:val="Liberation Serif"', fonts)
    assert opened.styles["Normal"].font.name == "Times New Roman"


def _columns(page) -> tuple[str, str, str]:
    """A page's text in its left and right halves (the header and signature tables have two columns,
    which plain extraction would interleave), and all of it."""
    left, right = [], []
    middle = float(page.mediabox.width) / 2

    def visit(text, cm, tm, font, size):
        if text.strip():
            x = tm[4] * cm[0] + cm[4]
            (left if x < middle else right).append(text)

    page.extract_text(visitor_text=visit)
    squash = lambda parts: re.sub(r"\s+", " ", " ".join(parts)).strip()  # noqa: E731
    return squash(left), squash(right), re.sub(r"\s+", " ", page.extract_text())


def test_every_document_type_renders_to_pdf_in_the_layout(app):
    if not party_docx.pdf_available():
        pytest.skip(
            "LibreOffice is not installed (no `soffice` or `libreoffice` on PATH): "
            "the PDF layout is not checked; install libreoffice-writer-nogui"
        )
    _demo(app)
    with app.test_request_context():
        made = _demo_documents()
    pdfs = party_docx.to_pdfs(made)  # one LibreOffice run for all four
    signed_by = {
        "bien-ban": ("THƯ KÝ", "CHỦ TRÌ"),
        "nghi-quyet": ("T/M CHI BỘ BÍ THƯ", SECRETARY),
        "chuong-trinh": ("T/M CHI BỘ BÍ THƯ", SECRETARY),
        "bao-cao": ("T/M CHI BỘ BÍ THƯ", SECRETARY),
    }
    numbers = {"nghi-quyet": r"Số \d{2}-NQ/CB", "chuong-trinh": r"Số\s+-CTr/CB", "bao-cao": r"Số\s+-BC/CB"}
    for name, pdf in pdfs.items():
        pages = PdfReader(io.BytesIO(pdf)).pages
        assert 1 <= len(pages) <= 8, (name, len(pages))
        left, right, first = _columns(pages[0])
        assert left.startswith(f"{COMMITTEE} {CELL} *"), (name, left)
        assert right.startswith("ĐẢNG CỘNG SẢN VIỆT NAM Phong Điền, ngày "), (name, right)
        if name in numbers:
            assert re.search(numbers[name], left), (name, left)
        assert not first.strip().startswith("1 ")  # the first page carries no number
        for number, page in enumerate(pages[1:], start=2):
            assert page.extract_text().strip().startswith(str(number)), (name, number)  # centred at the top
        last_left, last_right, _ = _columns(pages[-1])
        capacity, signer = signed_by[name]
        if name == "bien-ban":
            assert capacity in last_left and signer in last_right, (name, last_left, last_right)
        else:
            assert last_right.endswith(f"{capacity} {SECRETARY}"), (name, last_right)
            assert f"Nơi nhận: {SUPERIOR}" in last_left and last_left.endswith("- Lưu chi bộ."), (name, last_left)
    assert len(PdfReader(io.BytesIO(pdfs["bien-ban"])).pages) >= 2  # the page numbers were really exercised


def test_the_admin_sets_the_offices_layout(app, client, login, cell):
    with app.app_context():
        office = db.session.scalar(select(Office).where(Office.code == "DIST"))
        office_id, parent_id = office.id, office.parent_id
    login("distadmin")
    page = client.get(f"/admin/offices/{office_id}")
    assert "Đảng ủy City procuracy (để báo cáo)" in page.text  # the default recipients, as the placeholder
    form = {
        "code": "DIST",
        "name": "District",
        "parent_id": str(parent_id),
        "party_committee": COMMITTEE,
        "cell_name": CELL,
        "document_place": "Phong Điền",
        "document_number_suffix": "CB/ĐU",
        "document_recipients": "Đảng ủy Khối (để báo cáo)\nLưu chi bộ",
    }
    refused = client.post(f"/admin/offices/{office_id}", data={**form, "document_number_suffix": "C B"})
    assert refused.status_code == 200 and "Không có khoảng trắng" in refused.text
    assert client.post(f"/admin/offices/{office_id}", data=form).status_code == 302
    with app.app_context():
        layout = party_docx.layout_of(db.session.get(Office, office_id))
    assert (layout.place, layout.number_suffix, layout.recipients) == (
        "Phong Điền",
        "CB/ĐU",
        ["Đảng ủy Khối (để báo cáo)", "Lưu chi bộ"],
    )


def test_members_download_the_programme_and_the_review_of_their_own_cell(client, login, cell):
    assert client.get("/scheduling/programme/2027.docx").status_code == 302  # to the sign-in page
    login("member1")
    programme = docx.Document(io.BytesIO(client.get("/scheduling/programme/2027.docx").data))
    texts = [p.text for p in programme.paragraphs]
    left = programme.tables[0].rows[0].cells[0].text
    assert "sinh hoạt chuyên đề năm 2027" in texts and left.endswith("DỰ THẢO")  # not approved yet
    assert "CHI BỘ DISTRICT PROCURACY" in left  # the member's own cell
    review_doc = docx.Document(io.BytesIO(client.get("/evaluations/review.docx?year=2027").data))
    assert "kết quả sinh hoạt chi bộ năm 2027" in [p.text for p in review_doc.paragraphs]
    assert client.get("/scheduling/programme/1800.docx").status_code == 404
    assert client.get("/scheduling/programme/2027.odt").status_code == 404
