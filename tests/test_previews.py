"""Document previews keep what a reader needs of a .docx's structure: list numbers as Word shows them
(numbered by the paragraph or by its style, several levels, bullets) and tables, cell by cell."""

import io
import zipfile

import docx
from test_scheduling_documents import upload
from test_uploads_hardening import docx_with_body, meeting, stored  # noqa: F401  (meeting is a fixture)

from intranet import previews
from intranet.filetypes import DOCX

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
# Two levels, as a resolution numbers its tasks: "1.", then "a)", "b)" under it.
NUMBERING = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:numbering {W}>
<w:abstractNum w:abstractNumId="0">
  <w:lvl w:ilvl="0"><w:start w:val="1"/><w:numFmt w:val="decimal"/><w:lvlText w:val="%1."/></w:lvl>
  <w:lvl w:ilvl="1"><w:start w:val="1"/><w:numFmt w:val="lowerLetter"/><w:lvlText w:val="%2)"/></w:lvl>
</w:abstractNum>
<w:abstractNum w:abstractNumId="1">
  <w:lvl w:ilvl="0"><w:start w:val="4"/><w:numFmt w:val="upperRoman"/><w:lvlText w:val="Phần %1."/></w:lvl>
</w:abstractNum>
<w:num w:numId="1"><w:abstractNumId w:val="0"/></w:num>
<w:num w:numId="2"><w:abstractNumId w:val="1"/></w:num>
</w:numbering>""".encode()


def numbered(text: str, num: int, level: int = 0) -> str:
    return (
        f'<w:p><w:pPr><w:numPr><w:ilvl w:val="{level}"/><w:numId w:val="{num}"/></w:numPr></w:pPr>'
        f"<w:r><w:t>{text}</w:t></w:r></w:p>"
    )


def with_body(body: str, numbering: bytes | None = None) -> bytes:
    """python-docx's skeleton with ``body`` as the document's body (and ``numbering`` as its list part)."""
    document = zipfile.ZipFile(io.BytesIO(docx_with_body([body.encode()])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in document.infolist():
            archive.writestr(
                info, numbering if numbering and info.filename == "word/numbering.xml" else document.read(info)
            )
    return out.getvalue()


def test_numbered_paragraphs_carry_their_labels_on_every_level():
    body = "".join(
        [
            numbered("Thực trạng", 2),
            numbered("Mục tiêu", 1),
            numbered("Chính trị", 1, 1),
            numbered("Nghiệp vụ", 1, 1),
            numbered("Giải pháp", 1),
            numbered("Tổ chức", 1, 1),
            numbered("Kiến nghị", 2),
        ]
    )
    assert previews.extract(DOCX, with_body(body, NUMBERING)).blocks == [
        "Phần IV. Thực trạng",
        "1. Mục tiêu",
        "a) Chính trị",
        "b) Nghiệp vụ",
        "2. Giải pháp",
        "a) Tổ chức",
        "Phần V. Kiến nghị",
    ]


def test_list_styles_number_and_bullet_paragraphs_as_word_does():
    document = docx.Document()
    document.add_paragraph("Nhiệm vụ")
    for task in ("Học tập", "Rèn luyện", "Công tác"):
        document.add_paragraph(task, style="List Number")
    document.add_paragraph("Ghi chú", style="List Bullet")
    saved = io.BytesIO()
    document.save(saved)
    assert previews.extract(DOCX, saved.getvalue()).blocks == [
        "Nhiệm vụ",
        "1. Học tập",
        "2. Rèn luyện",
        "3. Công tác",
        "• Ghi chú",
    ]


def table_docx() -> bytes:
    document = docx.Document()
    document.add_paragraph("Phân công")
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate(
        [("TT", "Nhiệm vụ", "Người thực hiện"), ("1", "Chuẩn bị báo cáo", "Tổ 1"), ("2", "Gửi tài liệu", "")]
    ):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    table.cell(1, 1).add_paragraph("trước ngày 10")
    inner = table.cell(2, 2).add_table(rows=1, cols=2)
    inner.cell(0, 0).text, inner.cell(0, 1).text = "Bí thư", "Chi ủy"
    document.add_paragraph("Hết")
    saved = io.BytesIO()
    document.save(saved)
    return saved.getvalue()


def test_tables_are_kept_row_by_row_and_cell_by_cell():
    blocks = previews.extract(DOCX, table_docx()).blocks
    assert blocks[0] == "Phân công" and blocks[2] == "Hết"
    assert blocks[1]["rows"] == [
        [["TT"], ["Nhiệm vụ"], ["Người thực hiện"]],
        [["1"], ["Chuẩn bị báo cáo", "trước ngày 10"], ["Tổ 1"]],
        [["2"], ["Gửi tài liệu"], ["Bí thư | Chi ủy"]],  # a table in a cell is flattened into the cell
    ]


def test_a_huge_table_row_still_ends_the_preview_at_the_bound():
    cells = "".join(f"<w:tc><w:p><w:r><w:t>{'chữ ' * 50}</w:t></w:r></w:p></w:tc>" for _ in range(40))
    preview = previews.extract(DOCX, with_body(f"<w:tbl><w:tr>{cells}</w:tr></w:tbl>"), limit=1000)
    assert preview.cut and sum(len(line) for row in preview.blocks[0]["rows"] for cell in row for line in cell) == 1000


def test_the_preview_page_shows_tables_and_numbers(app, client, login, meeting):
    login("member1")
    upload(client, meeting, table_docx(), "phan-cong.docx")
    (document,) = stored(app)
    page = client.get(f"/scheduling/documents/{document.id}/preview").text
    assert "<td>Chuẩn bị báo cáo\ntrước ngày 10</td>" in page and 'class="table-scroll"' in page
    assert "<p>Phân công</p>" in page
