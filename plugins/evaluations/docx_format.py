"""The party's document layout in python-docx: A4, Times New Roman 14; a header of two columns — the
party committee and cell names, "*", the number on the left; "ĐẢNG CỘNG SẢN VIỆT NAM" underlined and
the place and date in italics on the right —, the title, the body with its tables, the signatures."""
from __future__ import annotations

from datetime import date

from docx import Document as Docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt

from intranet.text import clean_text

from .formats import cell_name, committee_name, vn_date

FONT = "Times New Roman"
ATTENDANCE_HEADER = ["Họ và tên", "Đảng viên", "Điểm danh", "Lý do"]
TASKS_HEADER = ["TT", "Nhiệm vụ", "Người thực hiện", "Thời hạn"]


def build(document, session, office, settings) -> Docx:
    content = document.content
    doc = Docx()
    set_up_page(doc)
    _header(doc, office, settings, document, date.fromisoformat(content["date"]))
    _title(doc, document.title, content["subtitle"])
    for section in content["sections"]:
        if section["heading"]:
            add_paragraph(doc, section["heading"], bold=True, space_before=6)
        for line in section["text"].splitlines() or [""]:
            add_paragraph(doc, line, justify=True)
        if section["table"] == "attendance" and content.get("attendance"):
            add_table(doc, ATTENDANCE_HEADER, content["attendance"]["rows"], widths=(6, 3, 3.5, 4))
        elif section["table"] == "tasks" and content.get("tasks"):
            add_table(doc, TASKS_HEADER, content["tasks"], widths=(1.2, 9, 4, 2.5))
    if document.correction_reason:
        add_paragraph(doc, f"(Bản đính chính lần {document.version - 1}: {document.correction_reason})",
                      italic=True, space_before=6)
    _signatures(doc, content["signers"])
    return doc


def set_up_page(doc: Docx) -> None:
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)  # Word otherwise falls back for Vietnamese glyphs
    style.paragraph_format.space_after = Pt(0)


def _header(doc: Docx, office, settings, document, day: date) -> None:
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    left, right = table.rows[0].cells
    _cell_line(left, committee_name(office).upper(), first=True)
    _cell_line(left, cell_name(office), bold=True)
    _cell_line(left, "*")
    if document.kind.value == "resolution":
        number = f"{document.number:02d}" if document.number else "…"
        _cell_line(left, f"Số {number}-{settings.resolution_suffix}", size=13)
    _cell_line(right, "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True, underline=True, first=True)
    place = f"{settings.place_name}, " if settings.place_name else ""
    _cell_line(right, f"{place}{vn_date(day)}", italic=True, size=13)


def _cell_line(cell, text: str, *, first: bool = False, bold=False, italic=False, underline=False, size=None) -> None:
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = _run(paragraph, text)
    run.bold, run.italic, run.underline = bold, italic, underline
    if size:
        run.font.size = Pt(size)


def _title(doc: Docx, title: str, subtitle: str) -> None:
    add_paragraph(doc, title, bold=True, center=True, space_before=18, size=15)
    add_paragraph(doc, subtitle, bold=True, center=True)
    add_paragraph(doc, "-----", center=True)


def add_paragraph(doc: Docx, text: str, *, bold=False, italic=False, center=False, justify=False, space_before=0,
                  size=None):
    paragraph = doc.add_paragraph()
    paragraph.alignment = (WD_ALIGN_PARAGRAPH.CENTER if center else
                           WD_ALIGN_PARAGRAPH.JUSTIFY if justify else WD_ALIGN_PARAGRAPH.LEFT)
    paragraph.paragraph_format.space_before = Pt(space_before)
    if justify:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    run = _run(paragraph, text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    return paragraph


def _run(paragraph, text):
    """Every run of text goes through the core cleaner: a text stored before the rule (or a file name,
    a setting) with a control character would otherwise make the XML, and the download, fail."""
    return paragraph.add_run(clean_text(text))


def add_table(doc: Docx, header: list[str], rows: list[list[str]], widths) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text, width in zip(table.rows[0].cells, header, widths):
        cell.width = Cm(width)
        _run(cell.paragraphs[0], text).bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text, width in zip(cells, row, widths):
            cell.width = Cm(width)
            _run(cell.paragraphs[0], text).font.size = Pt(13)


def _signatures(doc: Docx, signers: dict) -> None:
    doc.add_paragraph()
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    for cell, (role, name) in zip(table.rows[0].cells, (signers["left"], signers["right"])):
        heading = role.endswith(":")  # "Nơi nhận:" is a list, not a signature
        for i, line in enumerate(role.splitlines()):
            _cell_line(cell, line, first=i == 0, bold=True)
        if heading:
            for line in name.splitlines():
                paragraph = cell.add_paragraph()
                _run(paragraph, line).font.size = Pt(12)
            continue
        for _ in range(3):  # room to sign
            cell.add_paragraph()
        _cell_line(cell, name, bold=True)


def _no_borders(table) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    table._tbl.tblPr.append(borders)
