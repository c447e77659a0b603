"""The minutes, resolution and tally reports as .docx, in the party's layout (``intranet.party_docx``): the header,
the title, the sections with their tables, the signatures — and, for the resolution, the number
and the recipients."""

from __future__ import annotations

from datetime import date

from docx import Document as Docx

from intranet import party_docx as layout

ATTENDANCE_HEADER = ["Họ và tên", "Đảng viên", "Điểm danh", "Lý do"]
TASKS_HEADER = ["TT", "Nhiệm vụ", "Người thực hiện", "Thời hạn"]


def build(document, office) -> Docx:
    content = document.content
    office_layout = layout.layout_of(office)
    resolution = document.kind.value == "resolution"
    doc = layout.new_document()
    layout.header(
        doc,
        office_layout,
        date.fromisoformat(content["date"]),
        kind_code="NQ" if resolution else None,
        number=document.number,
    )
    layout.title(doc, document.title, content["subtitle"])
    for section in content["sections"]:
        centred = section.get("align") == "center"  # "CHI BỘ … QUYẾT NGHỊ:", a line of its own
        if section["heading"]:
            layout.paragraph(doc, section["heading"], bold=True, center=centred, space_before=6)
        for line in section["text"].splitlines() or ([] if centred else [""]):
            layout.paragraph(doc, line, justify=True)
        if section["table"] == "attendance" and content.get("attendance"):
            layout.table(doc, ATTENDANCE_HEADER, content["attendance"]["rows"])
        elif section["table"] == "tasks" and content.get("tasks"):
            layout.table(doc, TASKS_HEADER, content["tasks"])
    if document.correction_reason:
        layout.paragraph(
            doc,
            f"(Bản đính chính lần {document.version - 1}: {document.correction_reason})",
            italic=True,
            space_before=6,
        )
    signers = content["signers"]
    if resolution:
        layout.signatures(doc, right=tuple(signers["right"]), recipients=office_layout.recipients)
    else:
        left = signers.get("left")  # a tally report's committee may be its head alone
        layout.signatures(doc, left=tuple(left) if left else None, right=tuple(signers["right"]))
    return doc
