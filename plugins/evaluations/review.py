"""The periodic review of a cell (a quarter or a year): meetings held against the programme,
attendance and discussion rates, average ratings, connection problems, commendations and reminders,
resolution tasks done and overdue — the figures behind the review page, its charts and its .docx."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from statistics import mean

from sqlalchemy import func, select

from intranet import days
from intranet.extensions import db
from intranet.models import Office
from intranet_scheduling.models import Meeting, Programme, ProgrammeItem, SessionKind

from .classification import Assessment, assess
from .models import Note, NoteKind, Task, TaskStatus
from .participation import PRESENT, closed_sessions, lines
from .services import Ratings, ratings_of


@dataclass
class SessionRow:
    session_id: int
    title: str
    day: date
    kind: str
    present: int | None
    members: int
    spoke: int | None
    rating: float | None  # mean of the three scores, when at least three rated
    assessment: Assessment  # the meeting's classification


@dataclass
class Review:
    year: int
    quarter: int | None
    planned_thematic: int
    held_thematic: int
    held_regular: int
    expected_regular: int
    attendance_rate: float | None
    discussion_rate: float | None
    rating_preparation: float | None
    rating_content: float | None
    rating_discussion: float | None
    connection_drops: int | None
    commendations: int
    reminders: int
    tasks_done: int
    tasks_overdue: int
    tasks_open: int
    sessions: list[SessionRow]

    @property
    def label(self) -> str:
        return f"{self.quarter}/{self.year}" if self.quarter else str(self.year)


def period(year: int, quarter: int | None) -> tuple[datetime, datetime]:
    first_month, months = ((quarter - 1) * 3 + 1, 3) if quarter else (1, 12)
    end_month = first_month + months
    return days.at(date(year, first_month, 1)), days.at(date(year + (end_month > 12), (end_month - 1) % 12 + 1, 1))


def review(office_id: int, year: int, quarter: int | None, today: date) -> Review:
    start, end = period(year, quarter)
    sessions = closed_sessions(office_id, start, end)
    # Figures anyone may read (the page is every member's, the .docx is a document): no viewer's.
    per_session, rated_per_session = lines(office_id, sessions, None), ratings_of(sessions)
    assessments = assess(office_id, sessions, per_session, rated_per_session)
    rows, present_total, expected_total, spoke_total, present_known = [], 0, 0, 0, 0
    scores, drops, drops_known = [], 0, False
    for session in sessions:
        members = per_session[session.id].values()
        taken = [line for line in members if line.attendance is not None]
        present = [line for line in taken if line.attendance == PRESENT]
        known = [line for line in present if "times_spoken" in line.facts]
        spoke = sum(line.spoke for line in known)
        if taken:
            present_total += len(present)
            expected_total += len(taken)
        if known:
            spoke_total += spoke
            present_known += len(known)
        for line in members:
            if "drops" in line.facts:
                drops_known, drops = True, drops + line.facts["drops"]
        rated = rated_per_session[session.id]
        if rated.shown:
            scores.append(rated)
        rows.append(
            SessionRow(
                session.id,
                session.title,
                days.day_of(session.starts_at),
                session.kind.value,
                len(present) if taken else None,
                len(members),
                spoke if known else None,
                round(mean([rated.preparation, rated.content, rated.discussion]), 2) if rated.shown else None,
                assessments[session.id],
            )
        )
    planned = (
        db.session.scalar(
            select(func.count(ProgrammeItem.id))
            .join(Programme, Programme.id == ProgrammeItem.programme_id)
            .where(
                Programme.office_id == office_id,
                Programme.year == year,
                *([ProgrammeItem.quarter == quarter] if quarter else []),
            )
        )
        or 0
    )
    notes = dict(
        db.session.execute(
            select(Note.kind, func.count(Note.id))
            .where(Note.office_id == office_id, Note.created_at >= start, Note.created_at < end)
            .group_by(Note.kind)
        ).all()
    )
    tasks = list(db.session.scalars(select(Task).where(Task.session_id.in_([s.id for s in sessions]))))
    return Review(
        year=year,
        quarter=quarter,
        planned_thematic=planned,
        held_thematic=sum(s.kind == SessionKind.THEMATIC for s in sessions),
        held_regular=sum(s.kind == SessionKind.REGULAR for s in sessions),
        expected_regular=_months_elapsed(start, end, today),
        attendance_rate=round(100 * present_total / expected_total, 1) if expected_total else None,
        discussion_rate=round(100 * spoke_total / present_known, 1) if present_known else None,
        rating_preparation=round(mean(r.preparation for r in scores), 2) if scores else None,
        rating_content=round(mean(r.content for r in scores), 2) if scores else None,
        rating_discussion=round(mean(r.discussion for r in scores), 2) if scores else None,
        connection_drops=drops if drops_known else None,
        commendations=notes.get(NoteKind.COMMENDATION, 0),
        reminders=notes.get(NoteKind.REMINDER, 0),
        tasks_done=sum(t.status == TaskStatus.DONE for t in tasks),
        tasks_overdue=sum(t.status != TaskStatus.DONE and t.due < today for t in tasks),
        tasks_open=sum(t.status != TaskStatus.DONE and t.due >= today for t in tasks),
        sessions=rows,
    )


def assessment(meeting: Meeting, rated: Ratings) -> Assessment:
    """One meeting's classification, for its evaluation page."""
    per_session = lines(meeting.office_id, [meeting], None)  # the same for whoever reads it
    return assess(meeting.office_id, [meeting], per_session, {meeting.id: rated})[meeting.id]


def chart(result: Review) -> dict:
    """The series the review page's charts draw (percentages per meeting; None where not known)."""

    def share(part, whole):
        return round(100 * part / whole, 1) if part is not None and whole else None

    return {
        "labels": [r.day.strftime("%d/%m") for r in result.sessions],
        "present": [share(r.present, r.members) for r in result.sessions],
        "spoke": [share(r.spoke, r.present) for r in result.sessions],
        "rating": [r.rating for r in result.sessions],
        "tasks": [result.tasks_done, result.tasks_overdue, result.tasks_open],
    }


def _months_elapsed(start: datetime, end: datetime, today: date) -> int:
    """Regular meetings due so far in the period: one a month, counting the months begun."""
    first, last = days.day_of(start), min(days.day_of(end), today)
    if last < first:
        return 0
    return (last.year - first.year) * 12 + last.month - first.month + (1 if last < days.day_of(end) else 0)


def to_docx(office: Office, result: Review, day: date) -> bytes:
    """The review as the cell's report in the party's layout, issued on ``day``, for the yearly review
    and members' classification."""
    from intranet import party_docx as layout
    from intranet.i18n import number, percent

    office_layout = layout.layout_of(office)
    doc = layout.new_document()
    layout.header(doc, office_layout, day, kind_code="BC")
    period_text = f"quý {result.quarter} năm {result.year}" if result.quarter else f"năm {result.year}"
    layout.title(doc, "BÁO CÁO", f"kết quả sinh hoạt chi bộ {period_text}")

    def show(value):
        return number(value, locale="vi")

    figures = [
        ["Sinh hoạt chuyên đề đã tổ chức / theo chương trình", f"{result.held_thematic} / {result.planned_thematic}"],
        ["Sinh hoạt thường kỳ đã tổ chức / số tháng", f"{result.held_regular} / {result.expected_regular}"],
        ["Tỷ lệ đảng viên dự sinh hoạt", percent(result.attendance_rate, locale="vi")],
        ["Tỷ lệ đảng viên có mặt tham gia phát biểu, đặt câu hỏi", percent(result.discussion_rate, locale="vi")],
        [
            "Điểm đánh giá trung bình: chuẩn bị / nội dung / thảo luận (1–5)",
            f"{show(result.rating_preparation)} / {show(result.rating_content)} / {show(result.rating_discussion)}",
        ],
        ["Số lần mất kết nối trong sinh hoạt trực tuyến", show(result.connection_drops)],
        ["Lượt biểu dương / nhắc nhở", f"{result.commendations} / {result.reminders}"],
        [
            "Nhiệm vụ theo nghị quyết: hoàn thành / quá hạn / đang thực hiện",
            f"{result.tasks_done} / {result.tasks_overdue} / {result.tasks_open}",
        ],
    ]
    layout.paragraph(doc, "I. KẾT QUẢ CHUNG", bold=True, space_before=12)
    layout.table(doc, ["Nội dung", "Kết quả"], figures)
    layout.paragraph(doc, "II. CÁC BUỔI SINH HOẠT", bold=True, space_before=12)
    layout.table(
        doc,
        ["TT", "Buổi sinh hoạt", "Ngày", "Có mặt", "Phát biểu", "Đánh giá", "Xếp loại"],
        [
            [
                str(i),
                r.title,
                r.day.strftime("%d/%m/%Y"),
                f"{show(r.present)}/{r.members}",
                show(r.spoke),
                show(r.rating),
                r.assessment.grade or "—",
            ]
            for i, r in enumerate(result.sessions, start=1)
        ],
    )
    layout.signatures(
        doc, right=("T/M CHI BỘ\nBÍ THƯ", layout.secretary_name(office)), recipients=office_layout.recipients
    )
    return layout.to_bytes(doc)
