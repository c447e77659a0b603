"""The wording of the cell's minutes and resolution, drafted from the meeting's record. Vietnamese on
purpose: these are party documents, filed and read in Vietnamese whatever the screen's language.

Each returns ``{"title", "subtitle", "date", "sections": [{"heading", "text", "table"}], "attendance",
"tasks", "signers"}``; ``table`` names the table the .docx places after a section's text; a section
with ``"align": "center"`` is a heading line of its own ("CHI BỘ … QUYẾT NGHỊ:"); the section with
``"votes": True`` carries the meeting's vote results and is the only one a late result rewrites.
``tally`` is the counting committee's report (biên bản kiểm phiếu) of one secret ballot."""

from __future__ import annotations

import re

from intranet.days import local
from intranet.models import PartyStatus
from intranet.party_docx import cell_in_text, cell_name, secretary_name, summary_case, vn_date

from .vote_results import latest_on_resolution

MODES = {"in_person": "trực tiếp", "online": "trực tuyến", "hybrid": "trực tiếp kết hợp trực tuyến"}
KINDS = {"regular": "sinh hoạt chi bộ thường kỳ", "thematic": "sinh hoạt chi bộ chuyên đề"}


def _attendance(summary) -> dict:
    rows = []
    for member, answer in summary.members:
        if answer is not None and answer.present:
            status, reason = "Có mặt", ""
        elif answer is not None and answer.answer is not None and answer.answer.value == "excused":
            status, reason = "Vắng có lý do", answer.reason
        else:
            status, reason = "Vắng không lý do", ""
        kind = "dự bị" if member.party_status == PartyStatus.PROBATIONARY else "chính thức"
        rows.append([member.full_name, kind, status, reason])
    return {
        "official": summary.official,
        "probationary": summary.probationary,
        "present": summary.present,
        "excused": summary.excused,
        "absent": summary.absent,
        "quorum": summary.quorum,
        "quorum_percent": summary.quorum_percent,
        "rows": rows,
    }


def _tasks(tasks) -> list[list[str]]:
    return [
        [str(t.number), t.what, t.owner.full_name if t.owner else "Chi ủy", t.due.strftime("%d/%m/%Y")] for t in tasks
    ]


def _minutes_text(seconds: int) -> str:
    return f"{seconds // 60} phút {seconds % 60:02d} giây" if seconds % 60 else f"{seconds // 60} phút"


def minutes(facts: dict) -> dict:
    session, office, record, summary = facts["session"], facts["office"], facts["record"], facts["summary"]
    start = local(session.starts_at)
    attendance = _attendance(summary)
    excused = [f"{r[0]} ({r[3]})" if r[3] else r[0] for r in attendance["rows"] if r[2] == "Vắng có lý do"]
    absent = [r[0] for r in attendance["rows"] if r[2] == "Vắng không lý do"]
    chair = record.chair.full_name if record.chair else "…"
    taker = record.taker.full_name if record.taker else "…"
    quorum = (
        f"Số đảng viên chính thức có mặt vượt quá {attendance['quorum_percent']}% số đảng viên chính thức: "
        "buổi sinh hoạt đủ điều kiện tiến hành."
        if attendance["quorum"]
        else "Số đảng viên chính thức có mặt chưa đủ theo quy định."
    )
    thematic = session.kind.value == "thematic"
    sections = [
        {
            "heading": "I. THỜI GIAN, ĐỊA ĐIỂM, HÌNH THỨC",
            "text": (
                f"Vào lúc {start:%H} giờ {start:%M}, {vn_date(start)}, tại {session.place or '…'}, "
                f"{cell_in_text(office)} tổ chức {KINDS[session.kind.value]} "
                f"(hình thức {MODES[session.mode.value]})."
            )
            + (f"\nChuyên đề: {session.title}." if thematic else f"\nNội dung: {session.title}."),
            "table": None,
        },
        {
            "heading": "II. THÀNH PHẦN",
            "text": (
                f"Chủ trì: đồng chí {chair}. Thư ký: đồng chí {taker}.\n"
                f"Tổng số đảng viên của chi bộ: {attendance['official'] + attendance['probationary']} đồng chí "
                f"(chính thức {attendance['official']}, dự bị {attendance['probationary']}). "
                f"Có mặt: {attendance['present']} đồng chí. "
                f"Vắng có lý do: {attendance['excused']} đồng chí{': ' + '; '.join(excused) if excused else ''}. "
                f"Vắng không có lý do: {attendance['absent']} đồng chí{': ' + ', '.join(absent) if absent else ''}.\n"
                + _guests(facts["guests"])
                + quorum
            ),
            "table": "attendance",
        },
        {"heading": "III. NỘI DUNG", "text": _agenda(session) + _overdue(facts["overdue"]), "table": None},
    ]
    if thematic:
        sections.append(
            {"heading": "1. Trình bày chuyên đề", "text": _presentation(session, facts["reports"]), "table": None}
        )
    sections += [
        {
            "heading": ("2. " if thematic else "1. ") + "Thảo luận",
            "text": _discussion(facts["discussion"]),
            "table": None,
        },
        {
            "heading": ("3. " if thematic else "2. ") + "Kết luận của đồng chí chủ trì",
            "text": record.conclusion or "…",
            "table": None,
        },
    ]
    if thematic:
        sections.append({"heading": "4. Nghị quyết", "text": _adoption(facts["votes"]), "table": "tasks"})
    sections.append(
        {
            "heading": "",
            "text": f"{_closing(session, start)} Biên bản đã được đọc lại cho chi bộ nghe và được thông qua.",
            "table": None,
        }
    )
    sections = with_votes("minutes", sections, facts["votes"], start)
    return {
        "title": "BIÊN BẢN",
        "subtitle": _subtitle(session, start),
        "date": start.date().isoformat(),
        "sections": sections,
        "attendance": attendance,
        "tasks": _tasks(facts["tasks"]),
        "signers": {"left": ["THƯ KÝ", taker], "right": ["CHỦ TRÌ", chair]},
    }


def _guests(guests: list[dict]) -> str:
    """Those invited from outside the cell (from the meetings plugin, through a hook)."""
    if not guests:
        return ""
    return "Khách mời: " + "; ".join(f"đồng chí {g['name']} ({g['office']})" for g in guests) + ".\n"


def _closing(session, start) -> str:
    """When the meeting was actually closed; left blank for one closed before that was recorded."""
    if session.closed_at is None:
        return "Buổi sinh hoạt kết thúc lúc … giờ … ."
    end = local(session.closed_at)
    day = " cùng ngày" if end.date() == start.date() else f", {vn_date(end)}"
    return f"Buổi sinh hoạt kết thúc lúc {end:%H} giờ {end:%M}{day}."


def _subtitle(session, start) -> str:
    """The kind of meeting with its topic (thematic) or its month (regular)."""
    if session.kind.value == "thematic":
        return f"{KINDS['thematic'].capitalize()} “{session.title}”"
    return f"{KINDS['regular'].capitalize()} tháng {start.month:02d}/{start.year}"


def _programme_year(session, start) -> int:
    """The year of the programme the meeting belongs to (a January meeting may be last year's)."""
    return session.programme_item.programme.year if session.programme_item else start.year


def _agenda(session) -> str:
    if session.kind.value != "thematic":
        return (
            "Chương trình: đánh giá kết quả thực hiện nhiệm vụ tháng; thảo luận; triển khai nhiệm vụ "
            "tháng tới; kết luận."
        )
    questions = "\n".join(f"{i}) {q.text}" for i, q in enumerate(session.questions, start=1))
    return (
        "Chương trình: nhóm chuẩn bị trình bày chuyên đề; chi bộ thảo luận theo các câu hỏi gợi ý; "
        "đồng chí chủ trì kết luận; chi bộ thông qua Nghị quyết."
        + (f"\nCâu hỏi thảo luận:\n{questions}" if questions else "")
    )


def _overdue(overdue) -> str:
    """Tasks of earlier resolutions past their due date on the meeting's day: reviewed at the meeting."""
    if not overdue:
        return ""
    lines = [f"- {t.what} ({t.owner.full_name if t.owner else 'Chi ủy'}, hạn {t.due:%d/%m/%Y})" for t in overdue]
    return "\nKiểm điểm các nhiệm vụ theo nghị quyết trước đã quá hạn:\n" + "\n".join(lines)


def _presentation(session, reports: list[str]) -> str:
    lead = next((m.user.full_name for m in session.group if m.is_lead), None)
    names = ", ".join(m.user.full_name for m in session.group)
    text = (
        f"Đồng chí {lead} thay mặt nhóm chuẩn bị ({names}) trình bày báo cáo chuyên đề."
        if lead
        else "Nhóm chuẩn bị trình bày báo cáo chuyên đề."
    )
    if reports:
        text += f"\nTài liệu đã gửi đảng viên trước buổi sinh hoạt: {', '.join(reports)}."
    return text


def _discussion(discussion: dict) -> str:
    lines = []
    if discussion["questions"]:
        lines.append(f"Đảng viên nêu {len(discussion['questions'])} câu hỏi:")
        for q in discussion["questions"]:
            who = f"đồng chí {q['author']}" if q["author"] else "ẩn danh"
            state = "đã được trả lời" if q["answered"] else "chưa được trả lời"
            lines.append(f"- {q['text']} ({who}; {q['votes']} lượt ủng hộ; {state})")
    if discussion["speakers"]:
        lines.append(
            "Các đồng chí phát biểu: "
            + "; ".join(
                f"{s['name']} ({s['times']} lượt, {_minutes_text(s['seconds'])})" for s in discussion["speakers"]
            )
            + "."
        )
    return "\n".join(lines) or "…"


def resolution(facts: dict) -> dict:
    session, office, record = facts["session"], facts["office"], facts["record"]
    start = local(session.starts_at)
    secretary = secretary_name(office) or "…"  # signs for the cell ("T/M CHI BỘ / BÍ THƯ"), whoever chaired
    sections = [
        {
            "heading": "",
            "text": (
                "- Căn cứ Điều lệ Đảng Cộng sản Việt Nam;\n"
                f"- Căn cứ chương trình sinh hoạt chuyên đề năm {_programme_year(session, start)} của chi bộ;\n"
                f"- Căn cứ kết quả buổi sinh hoạt chuyên đề {vn_date(start)},"
            ),
            "table": None,
        },
        # Its own centred line; the two words never part.
        {"heading": f"{cell_name(office)} QUYẾT\u00a0NGHỊ:", "text": "", "table": None, "align": "center"},
        {"heading": "I. ĐÁNH GIÁ", "text": record.conclusion or "…", "table": None},
        {"heading": "II. NHIỆM VỤ, GIẢI PHÁP", "text": "Chi bộ giao các nhiệm vụ sau:", "table": "tasks"},
        {
            "heading": "III. TỔ CHỨC THỰC HIỆN",
            "text": (
                "Các đồng chí được giao nhiệm vụ tổ chức thực hiện và báo cáo kết quả tại các kỳ sinh hoạt "
                "tiếp theo. Chi ủy theo dõi, đôn đốc việc thực hiện Nghị quyết này."
            ),
            "table": None,
        },
    ]
    # The recipients ("Nơi nhận:") are the office's layout, added by the .docx.
    return {
        "title": "NGHỊ QUYẾT",
        "subtitle": f"về {summary_case(session.title)}",
        "date": start.date().isoformat(),
        "sections": with_votes("resolution", sections, facts["votes"], start),
        "attendance": None,
        "tasks": _tasks(facts["tasks"]),
        "signers": {"right": ["T/M CHI BỘ\nBÍ THƯ", secretary]},
    }


# --- votes ------------------------------------------------------------------------------------------

SUBJECTS = {
    "resolution": "Thông qua Nghị quyết",
    "motion": "Biểu quyết",
    "admission": "Kết nạp đảng viên",
    "official_membership": "Công nhận đảng viên chính thức",
    "commendation": "Khen thưởng",
    "discipline": "Kỷ luật",
}
NUMBERED = re.compile(r"^(\d+)\. ")


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "…")) else text + "."


def _committee(names: list[str]) -> str:
    return ", ".join(f"đồng chí {n}" + (" (trưởng ban)" if i == 0 else "") for i, n in enumerate(names))


def _vote_lines(vote) -> str:
    way = "bỏ phiếu kín" if vote.secret else "biểu quyết công khai"
    paper = f" (trong đó {vote.voted_on_paper} phiếu giấy)" if vote.voted_on_paper else ""
    other = "phiếu trắng, phiếu không hợp lệ" if vote.secret else "ý kiến khác"
    lines = [
        f"{SUBJECTS.get(vote.subject, 'Biểu quyết')}: {vote.title} ({way}).",
        f"Số {vote.base_label or 'đảng viên'}: {vote.base}; có mặt có quyền biểu quyết: {vote.eligible_present}; "
        f"đã biểu quyết: {vote.voted}{paper}.",
        f"Tán thành: {vote.in_favour}; không tán thành: {vote.against}; {other}: {vote.other}.",
    ]
    if vote.counting_committee:
        lines.append(f"Ban kiểm phiếu: {_committee(vote.counting_committee)}.")
    lines.append(f"Kết quả: {_sentence(vote.sentence)}")
    return "\n".join(lines)


ADOPTED = "Chi bộ thống nhất thông qua Nghị quyết chuyên đề với các nhiệm vụ sau:"
NOT_ADOPTED = "Dự thảo Nghị quyết chuyên đề chưa được thông qua; các nhiệm vụ dự kiến:"


def _adoption(votes) -> str:
    """The minutes' line before the resolution's tasks: adopted, unless its latest vote failed."""
    decisive = latest_on_resolution(votes)
    return NOT_ADOPTED if decisive is not None and not decisive.passed else ADOPTED


def votes_section(kind: str, votes, start) -> dict | None:
    """The section of the minutes (every vote, with its counts) or of the resolution (the vote on it,
    the last one held) that says how the meeting voted; None when there is nothing to say."""
    if kind == "minutes":
        if not votes:
            return None
        text = "\n".join(_vote_lines(v) for v in votes)
        return {"heading": "Biểu quyết", "text": text, "table": None, "votes": True}
    decisive = latest_on_resolution(votes)
    if decisive is None:
        return None
    text = (
        f"Nghị quyết này được chi bộ thông qua tại buổi sinh hoạt {vn_date(start)}: {_sentence(decisive.sentence)}"
        if decisive.passed
        else f"Dự thảo Nghị quyết chưa được thông qua: {_sentence(decisive.sentence)}"
    )
    return {"heading": "", "text": text, "table": None, "votes": True}


def with_votes(kind: str, sections: list[dict], votes, start) -> list[dict]:
    """``sections`` with the votes' section put in, or rewritten where it is; every other section (and
    the secretary's edits to it) stays as it is — but for the minutes' line before the resolution's
    tasks, which follows the vote on the resolution while it still reads as drafted. The minutes'
    votes' section comes before their closing paragraph, numbered after the last numbered part; the
    resolution's ends it."""
    section = votes_section(kind, votes, start)
    if section is None:
        return sections
    if kind == "minutes":
        adoption = _adoption(votes)
        sections = [
            {**s, "text": adoption} if s["table"] == "tasks" and s["text"] in (ADOPTED, NOT_ADOPTED) else s
            for s in sections
        ]
    at = next((i for i, s in enumerate(sections) if s.get("votes")), None)
    if at is not None:
        return [*sections[:at], {**sections[at], "text": section["text"]}, *sections[at + 1 :]]
    if kind != "minutes":
        return [*sections, section]
    numbers = [int(m.group(1)) for s in sections if (m := NUMBERED.match(s["heading"]))]
    section["heading"] = f"{max(numbers, default=0) + 1}. {section['heading']}"
    return [*sections[:-1], section, sections[-1]]


def tally(office, session, vote) -> dict:
    """The counting committee's report of a secret ballot (biên bản kiểm phiếu); its head signs."""
    closed = local(vote.closed_at)
    committee = vote.counting_committee or ["…"]
    members = "\n".join(
        f"{i}. Đồng chí {name} — {'Trưởng ban' if i == 1 else 'Thành viên'}" for i, name in enumerate(committee, 1)
    )
    online = vote.voted - vote.voted_on_paper
    return {
        "title": "BIÊN BẢN KIỂM PHIẾU",
        "subtitle": f"{SUBJECTS.get(vote.subject, 'Biểu quyết')}: {vote.title}",
        "date": closed.date().isoformat(),
        "sections": [
            {
                "heading": "",
                "text": (
                    f"Hồi {closed:%H} giờ {closed:%M}, {vn_date(closed)}, tại {session.place or '…'}, "
                    f"trong buổi {KINDS[session.kind.value]} “{session.title}”, Ban kiểm phiếu do "
                    f"{cell_in_text(office)} bầu gồm các đồng chí:\n{members}\n"
                    f"đã tiến hành kiểm phiếu biểu quyết (bỏ phiếu kín) về: {vote.title}."
                ),
                "table": None,
            },
            {
                "heading": "I. KẾT QUẢ KIỂM PHIẾU",
                "text": (
                    f"Số {vote.base_label or 'đảng viên'}: {vote.base} đồng chí.\n"
                    f"Số đảng viên có mặt có quyền biểu quyết: {vote.eligible_present} đồng chí.\n"
                    # Every member entitled and present is given a ballot, online or on paper.
                    f"Số phiếu phát ra: {vote.eligible_present}.\n"
                    f"Số phiếu thu vào: {vote.voted} (bỏ phiếu trực tuyến: {online}; phiếu giấy: "
                    f"{vote.voted_on_paper}).\n"
                    f"Số phiếu tán thành: {vote.in_favour}.\n"
                    f"Số phiếu không tán thành: {vote.against}.\n"
                    f"Số phiếu trắng, phiếu không hợp lệ: {vote.other}."
                ),
                "table": None,
            },
            {"heading": "II. KẾT QUẢ BIỂU QUYẾT", "text": _sentence(vote.sentence), "table": None},
            {
                "heading": "",
                "text": "Biên bản kiểm phiếu được Ban kiểm phiếu thông qua và công bố trước chi bộ.",
                "table": None,
            },
        ],
        "attendance": None,
        "tasks": [],
        "signers": {
            "left": ["THÀNH VIÊN BAN KIỂM PHIẾU", "\n".join(committee[1:])] if len(committee) > 1 else None,
            "right": ["TRƯỞNG BAN KIỂM PHIẾU", committee[0]],
        },
    }
