"""The yearly thematic programme as the cell issues it: a "CHƯƠNG TRÌNH" in the party's layout
(``intranet.party_docx``), dated the day it was approved (a draft: today, marked "DỰ THẢO"), signed
for the cell by its secretary, with the office's recipients. Vietnamese whatever the screen's language:
it is a party document."""

from __future__ import annotations

from intranet import days
from intranet import party_docx as layout

from .models import Programme, ProgrammeStatus

HEADER = ["TT", "Quý", "Chuyên đề", "Nhóm chủ đề", "Phụ trách"]


def to_docx(programme: Programme) -> bytes:
    office = programme.office
    office_layout = layout.layout_of(office)
    approved = programme.status == ProgrammeStatus.APPROVED and programme.approved_at is not None
    doc = layout.new_document()
    layout.header(
        doc,
        office_layout,
        days.day_of(programme.approved_at) if approved else days.today(),
        kind_code="CTr",
        draft=not approved,
    )
    layout.title(doc, "CHƯƠNG TRÌNH", f"sinh hoạt chuyên đề năm {programme.year}")
    layout.paragraph(
        doc,
        f"Căn cứ Điều lệ Đảng và hướng dẫn của cấp ủy cấp trên về sinh hoạt chi bộ, "
        f"{layout.cell_in_text(office)} xây dựng chương trình sinh hoạt chuyên đề năm "
        f"{programme.year} như sau:",
        justify=True,
    )
    layout.paragraph(doc, "I. NỘI DUNG CÁC CHUYÊN ĐỀ", bold=True, space_before=6)
    layout.table(
        doc,
        HEADER,
        [
            [
                str(i),
                str(item.quarter),
                item.title,
                item.topic_group.name,
                item.lead.full_name if item.lead else "Chi ủy",
            ]
            for i, item in enumerate(programme.items, start=1)
        ],
    )
    layout.paragraph(doc, "II. TỔ CHỨC THỰC HIỆN", bold=True, space_before=6)
    layout.paragraph(
        doc,
        "Đồng chí phụ trách mỗi chuyên đề cùng nhóm chuẩn bị xây dựng báo cáo, gửi đảng viên "
        "trước buổi sinh hoạt. Chi ủy theo dõi, đôn đốc việc thực hiện chương trình này.",
        justify=True,
    )
    signer = programme.approved_by.full_name if approved and programme.approved_by else layout.secretary_name(office)
    layout.signatures(doc, right=("T/M CHI BỘ\nBÍ THƯ", signer), recipients=office_layout.recipients)
    return layout.to_bytes(doc)
