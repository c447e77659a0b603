"""The party's document layout (Hướng dẫn 36-HD/VPTW), shared by every document the intranet issues
— minutes, resolution, yearly programme, review — so that each is issuable unedited: A4, Times New
Roman 14 (Liberation Serif as the declared fallback); a two-column header — the superior committee,
the cell in bold, "*", the number on the left; "ĐẢNG CỘNG SẢN VIỆT NAM" and the place and date in
italics on the right —; the kind of document and its summary; the body with tables sized to their
content; page numbers from page two; the signature and the recipients ("Nơi nhận:").

What varies per office is its ``Layout``, set by the office's admin (``office`` columns)."""

from __future__ import annotations

import io
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from docx import Document as Docx
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from lxml import etree
from sqlalchemy import select

from .extensions import db
from .models import Office, Role, RoleAssignment, User
from .text import clean_text

FONT = "Times New Roman"
FALLBACK_FONT = "Liberation Serif"  # metric-compatible: the lines break where Word breaks them
TEXT_WIDTH_CM = 16.5  # A4 less the 3 cm left and 1.5 cm right margins
TABLE_PT = 13
# Times New Roman at 13 pt, for sizing columns: a capital or a digit, another letter; the cell's margins.
CAPITAL_CM, LETTER_CM = 0.31, 0.22
CELL_PADDING_CM = 0.5
UNWRAPPED_CM = 4.0  # a column whose texts are all shorter keeps each on one line (names, dates)
# The header reaches half a centimetre into each margin: the committee's name keeps to two lines and
# "Phong Điền, ngày 20 tháng 11 năm 2026" (14 pt italic) to one.
HEADER_OUTSET_CM = 0.5
HEADER_LEFT_CM, HEADER_RIGHT_CM = 8.0, TEXT_WIDTH_CM + 2 * HEADER_OUTSET_CM - 8.0
DEFAULT_NUMBER_SUFFIX = "CB"


@dataclass
class Layout:
    committee: str  # "ĐẢNG BỘ …", upper case
    cell: str  # "CHI BỘ …", upper case
    place: str
    number_suffix: str  # the issuer's code after the slash: "Số 05-NQ/CB"
    recipients: list[str]


def committee_name(office: Office) -> str:
    if office.party_committee:
        return office.party_committee.upper()
    return f"ĐẢNG BỘ {office.parent.name.upper()}" if office.parent else "ĐẢNG BỘ"


def cell_name(office: Office) -> str:
    """The cell as the header names it (upper case)."""
    return (office.cell_name or f"Chi bộ {office.name}").upper()


def cell_in_text(office: Office) -> str:
    """The cell as a sentence names it: as the office wrote it, or "Chi bộ <office>"."""
    return office.cell_name if office.cell_name and not office.cell_name.isupper() else f"Chi bộ {office.name}"


def default_recipients(office: Office) -> list[str]:
    """Until the admin lists them: the superior committee (named after the parent office, or the
    header's committee), the members, the cell's file."""
    if office.parent is not None:
        superior = f"Đảng ủy {office.parent.name}"
    else:
        rest = committee_name(office).removeprefix("ĐẢNG BỘ").strip()
        superior = f"Đảng ủy {rest.title()}" if rest else "Đảng ủy cấp trên trực tiếp"
    return [f"{superior} (để báo cáo)", "Các đảng viên trong chi bộ", "Lưu chi bộ"]


def layout_of(office: Office) -> Layout:
    recipients = [line.strip(" -,.;") for line in (office.document_recipients or "").splitlines()]
    return Layout(
        committee=committee_name(office),
        cell=cell_name(office),
        place=office.document_place or "",
        number_suffix=office.document_number_suffix or DEFAULT_NUMBER_SUFFIX,
        recipients=[r for r in recipients if r] or default_recipients(office),
    )


def secretary_name(office: Office) -> str:
    """Who signs for the cell ("T/M CHI BỘ / BÍ THƯ"): the office's active secretary."""
    return (
        db.session.scalar(
            select(User.full_name)
            .join(RoleAssignment, RoleAssignment.user_id == User.id)
            .where(RoleAssignment.office_id == office.id, RoleAssignment.role == Role.SECRETARY, User.active.is_(True))
            .order_by(RoleAssignment.id)
            .limit(1)
        )
        or ""
    )


def vn_date(day: date) -> str:
    return f"ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def summary_case(title: str) -> str:
    """A title as it reads after "về …" in a summary line: its first word in lower case, unless the
    title starts with a name (an acronym, or two capitalised words: "Hồ Chí Minh")."""
    words = title.split()
    if not words or not words[0][:1].isupper():
        return title
    acronym = len(words[0]) > 1 and not words[0][1:].islower()
    name = len(words) > 1 and words[1][:1].isupper()
    return title if acronym or name else title[:1].lower() + title[1:]


# --- building ---------------------------------------------------------------------------------------


def new_document() -> Docx:
    doc = Docx()
    section = doc.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    style = doc.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(14)
    fonts = style.element.rPr.rFonts
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):  # Vietnamese glyphs never fall to another font
        fonts.set(qn(attribute), FONT)
    style.paragraph_format.space_after = Pt(0)
    _declare_fallback(doc)
    _page_numbers(section)
    return doc


def _declare_fallback(doc: Docx) -> None:
    """The font table names the fallback a reader without Times New Roman should use (python-docx
    keeps that part as plain bytes, so it is edited as XML)."""
    part = next(p for p in doc.part.package.parts if str(p.partname) == "/word/fontTable.xml")
    fonts = parse_xml(part.blob)
    font = next((f for f in fonts.findall(qn("w:font")) if f.get(qn("w:name")) == FONT), None)
    if font is None:
        font = OxmlElement("w:font")
        font.set(qn("w:name"), FONT)
        fonts.append(font)
    for child in font.findall(qn("w:altName")):
        font.remove(child)
    alt = OxmlElement("w:altName")
    alt.set(qn("w:val"), FALLBACK_FONT)
    font.insert(0, alt)
    part._blob = etree.tostring(fonts, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_numbers(section) -> None:
    """Centred at the top from page two (the first page carries none), as the guide places them."""
    section.different_first_page_header_footer = True
    paragraph = section.header.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = paragraph.add_run()
    for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, None), ("end", None)):
        if kind:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        elif text:
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:t")
            element.text = "2"
        run._r.append(element)


def header(
    doc: Docx,
    layout: Layout,
    day: date,
    *,
    kind_code: str | None = None,
    number: int | None = None,
    draft: bool = False,
) -> None:
    """The header; ``kind_code`` ("NQ", "CTr", "BC") adds the number line, left blank to fill in by hand
    when the document has no number yet; a ``draft`` says "DỰ THẢO" under it."""
    table = doc.add_table(rows=1, cols=2)
    _no_borders(table)
    _widths(table, [HEADER_LEFT_CM, HEADER_RIGHT_CM])
    indent = OxmlElement("w:tblInd")
    indent.set(qn("w:w"), str(-int(HEADER_OUTSET_CM * 567)))  # twips
    indent.set(qn("w:type"), "dxa")
    table._tbl.tblPr.append(indent)
    left, right = table.rows[0].cells
    cell_line(left, layout.committee, first=True)
    cell_line(left, layout.cell, bold=True)
    cell_line(left, "*")
    if kind_code:
        shown = f"{number:02d}" if number else "\u00a0" * 6
        cell_line(left, f"Số {shown}-{kind_code}/{layout.number_suffix}")
    if draft:
        cell_line(left, "DỰ THẢO", bold=True, space_before=6)
    cell_line(right, "ĐẢNG CỘNG SẢN VIỆT NAM", bold=True, underline=True, first=True, size=15)
    place = f"{layout.place}, " if layout.place else ""
    cell_line(right, f"{place}{vn_date(day)}", italic=True, space_before=6)


def title(doc: Docx, kind: str, summary: str) -> None:
    """The kind of document in capitals and the summary ("trích yếu") in bold lower case."""
    paragraph(doc, kind, bold=True, center=True, space_before=18, size=16)
    if summary:
        paragraph(doc, summary, bold=True, center=True)
    paragraph(doc, "-----", center=True)


def paragraph(
    doc: Docx, text: str, *, bold=False, italic=False, center=False, justify=False, space_before=0, size=None
):
    paragraph = doc.add_paragraph()
    paragraph.alignment = (
        WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.JUSTIFY if justify else WD_ALIGN_PARAGRAPH.LEFT
    )
    paragraph.paragraph_format.space_before = Pt(space_before)
    if justify:
        paragraph.paragraph_format.first_line_indent = Cm(1)
    run = _run(paragraph, text)
    run.bold, run.italic = bold, italic
    if size:
        run.font.size = Pt(size)
    return paragraph


def cell_line(
    cell,
    text: str,
    *,
    first: bool = False,
    bold=False,
    italic=False,
    underline=False,
    size=None,
    center=True,
    space_before=0,
):
    paragraph = cell.paragraphs[0] if first else cell.add_paragraph()
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if center else WD_ALIGN_PARAGRAPH.LEFT
    paragraph.paragraph_format.space_before = Pt(space_before)
    run = _run(paragraph, text)
    run.bold, run.italic, run.underline = bold, italic, underline
    if size:
        run.font.size = Pt(size)
    return run


def _run(paragraph, text):
    """Every run of text goes through the core cleaner: a text stored before the rule (or a file name,
    a setting) with a control character would otherwise make the XML, and the download, fail."""
    return paragraph.add_run(clean_text(text))


def table(doc: Docx, header_row: list[str], rows: list[list[str]]) -> None:
    """A bordered table whose columns share the text width by their content: a column of short words
    ("TT", dates) gets what its longest word needs, the rest goes to the columns that wrap."""
    rows = [[str(text) for text in row] for row in rows]
    result = doc.add_table(rows=1, cols=len(header_row))
    result.style = "Table Grid"
    result.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(result.rows[0].cells, header_row):
        cell_line(cell, text, first=True, bold=True, size=TABLE_PT)
    widths = column_widths([header_row, *rows])
    centred = [all(_text_cm(r[i]) + CELL_PADDING_CM <= widths[i] for r in rows) for i in range(len(header_row))]
    for row in rows:
        for cell, text, centre in zip(result.add_row().cells, row, centred):
            cell_line(cell, text, first=True, size=TABLE_PT, center=centre)
    _widths(result, widths)


def _text_cm(text: str) -> float:
    return sum(CAPITAL_CM if c.isupper() or c in "0123456789" else LETTER_CM for c in text)


def column_widths(rows: list[list[str]], total: float = TEXT_WIDTH_CM) -> list[float]:
    """Each column's least width — its longest word, or all of its longest text when that is short
    (a name, a date) — and wanted width (its longest text on one line), in cm: what is left over the
    least widths goes to each column by what it still wants."""
    columns = list(zip(*rows))
    wanted = [max(_text_cm(str(text)) for text in c) + CELL_PADDING_CM for c in columns]
    least = [
        max(
            max(_text_cm(w) for text in c for w in (str(text).split() or [""])) + CELL_PADDING_CM,
            min(want, UNWRAPPED_CM),
        )
        for c, want in zip(columns, wanted)
    ]
    spare = total - sum(least)
    if spare <= 0:
        return [total * w / sum(least) for w in least]
    if sum(wanted) <= total:  # everything fits on one line: share the spare by content
        return [total * w / sum(wanted) for w in wanted]
    extra = [w - m for w, m in zip(wanted, least)]
    return [m + spare * e / sum(extra) for m, e in zip(least, extra)]


def _widths(result, widths: list[float]) -> None:
    """Fixed layout, with the widths in the grid and in every cell: LibreOffice reads the grid, Word
    the cells."""
    result.autofit = False
    for column, width in zip(result.columns, widths):
        column.width = Cm(width)
    for row in result.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = Cm(width)


def signatures(
    doc: Docx, *, right: tuple[str, str], left: tuple[str, str] | None = None, recipients: list[str] | None = None
) -> None:
    """Two columns: the recipients ("Nơi nhận:") or a second signer on the left, the signer on the
    right — the capacity in capitals ("T/M CHI BỘ\\nBÍ THƯ"), room to sign, the name."""
    doc.add_paragraph()
    result = doc.add_table(rows=1, cols=2)
    _no_borders(result)
    _widths(result, [TEXT_WIDTH_CM / 2, TEXT_WIDTH_CM / 2])
    _keep_together(result.rows[0])
    first, second = result.rows[0].cells
    if recipients is not None:
        cell_line(first, "Nơi nhận:", first=True, underline=True, center=False)
        for i, line in enumerate(recipients):
            cell_line(first, f"- {line}{'.' if i == len(recipients) - 1 else ','}", size=12, center=False)
    elif left is not None:
        _signer(first, *left)
    _signer(second, *right)


def _signer(cell, capacity: str, name: str) -> None:
    for i, line in enumerate(capacity.splitlines()):
        cell_line(cell, line, first=i == 0, bold=True)
    for _ in range(3):  # room to sign
        cell.add_paragraph()
    cell_line(cell, name, bold=True)


def _keep_together(row) -> None:
    """A row that never splits across pages: a signer's capacity and name stay on one page."""
    properties = row._tr.get_or_add_trPr()
    properties.append(OxmlElement("w:cantSplit"))


def _no_borders(result) -> None:
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        element = OxmlElement(f"w:{edge}")
        element.set(qn("w:val"), "nil")
        borders.append(element)
    result._tbl.tblPr.append(borders)


def to_bytes(doc: Docx) -> bytes:
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


# --- PDF through LibreOffice ------------------------------------------------------------------------


def _office_binary() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def pdf_available() -> bool:
    return _office_binary() is not None


def to_pdfs(documents: dict[str, bytes]) -> dict[str, bytes]:
    """Several .docx (by a plain file name without extension) to PDF in one LibreOffice run — its
    start-up is most of the cost — with a throwaway profile, so that two runs never share one.
    Callers check ``pdf_available()`` first."""
    with tempfile.TemporaryDirectory() as folder:
        sources = []
        for name, data in documents.items():
            source = Path(folder) / f"{name}.docx"
            source.write_bytes(data)
            sources.append(str(source))
        subprocess.run(
            [
                _office_binary(),
                "--headless",
                f"-env:UserInstallation=file://{folder}/profile",
                "--convert-to",
                "pdf",
                "--outdir",
                folder,
                *sources,
            ],
            check=True,
            capture_output=True,
            timeout=60 + 20 * len(sources),
        )
        return {name: (Path(folder) / f"{name}.pdf").read_bytes() for name in documents}


def to_pdf(data: bytes) -> bytes:
    return to_pdfs({"document": data})["document"]


def send(data: bytes, name: str, extension: str):
    """A document's download: the .docx, or its PDF (404 where LibreOffice is not installed)."""
    from flask import abort

    from . import files
    from .filetypes import DOCX

    if extension != "pdf":
        return files.send(data, content_type=DOCX, filename=f"{name}.docx")
    if not pdf_available():
        abort(404)
    return files.send(to_pdf(data), content_type="application/pdf", filename=f"{name}.pdf", download=True)
