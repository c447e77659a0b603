"""Demo record for `make run`: every closed meeting of the demo year has its conclusion and signed
minutes; the thematic ones a signed resolution with tasks (some done, one overdue), the group's
evaluation and members' ratings; a few commendations and reminders — so the review has a year to show."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from intranet import days
from intranet.extensions import db
from intranet.notifications import dated
from intranet_scheduling.models import Meeting, SessionKind, SessionStatus

from . import documents, services
from .models import GroupRating, NoteKind, TaskStatus

TASKS = [
    ("Xây dựng kế hoạch cá nhân thực hiện chuyên đề, báo cáo chi ủy", 14),
    ("Lồng ghép nội dung chuyên đề vào công tác kiểm sát hằng ngày", 45),
    ("Tổ chức trao đổi kinh nghiệm trong đơn vị", 30),
]
RATERS = ["dangvien1", "dangvien2", "dangvien3", "dangvien4", "dangvien5", "dangvien6", "chiuy", "phobithu"]


def seed(office, people, actor) -> None:
    rng = random.Random(office.id)
    secretary, taker = people["bithu"], people["chiuy"]
    services.save_office_settings(office.id, secretary, absences_per_quarter=2, silent_meetings=3)
    meetings = db.session.scalars(
        select(Meeting)
        .where(Meeting.office_id == office.id, Meeting.status == SessionStatus.CLOSED)
        .order_by(Meeting.starts_at)
    ).all()
    for meeting in meetings:
        thematic = meeting.kind == SessionKind.THEMATIC
        services.save_record(
            meeting,
            secretary,
            chair=secretary,
            taker=taker,
            final=True,
            conclusion="Chi bộ đánh giá buổi sinh hoạt được chuẩn bị chu đáo, đảng viên tham gia "
            "ý kiến sôi nổi. Đề nghị các đồng chí thực hiện nghiêm các nhiệm vụ được giao.",
        )
        if thematic:
            _thematic(meeting, people, secretary, rng)
        documents.sign(documents.draft(meeting, "minutes", secretary), secretary)
    if meetings:
        with dated(meetings[-1].starts_at + timedelta(days=1)):
            services.give_note(
                people["dangvien3"],
                secretary,
                NoteKind.COMMENDATION,
                "Tích cực phát biểu, đóng góp nhiều ý kiến xây dựng trong năm",
            )
            services.give_note(
                people["dangvien6"],
                secretary,
                NoteKind.REMINDER,
                "Vắng sinh hoạt không có lý do; đề nghị đồng chí chấp hành nghiêm",
            )


def _thematic(meeting, people, secretary, rng) -> None:
    day = days.day_of(meeting.starts_at)
    for i, (what, within) in enumerate(TASKS):
        owner = people[rng.choice(["dangvien1", "dangvien2", "dangvien4", "phobithu"])]
        task = services.add_task(meeting, secretary, what=what, owner=owner, due=day + timedelta(days=within))
        if i == 0:
            services.report_progress(task, owner, status=TaskStatus.DONE, progress="Đã hoàn thành, đã báo cáo chi ủy.")
        elif i == 1 and rng.random() < 0.5:
            services.report_progress(task, owner, status=TaskStatus.IN_PROGRESS, progress="Đang triển khai.")
    with dated(meeting.starts_at + timedelta(hours=3)):  # evaluated and commended after the meeting
        services.save_group_evaluation(
            meeting,
            secretary,
            strengths="Báo cáo công phu, liên hệ thực tiễn đơn vị tốt.",
            weaknesses="Trình bày còn dài, chưa để nhiều thời gian thảo luận.",
            rating=rng.choice([GroupRating.EXCELLENT, GroupRating.GOOD]),
            commend=True,
            final=True,
        )
    for note in services.notes(meeting.office_id):  # the group's commendations date from its meeting
        if note.session_id == meeting.id:
            note.created_at = meeting.starts_at + timedelta(hours=3)
    for username in rng.sample(RATERS, rng.randint(4, 7)):
        services.rate(
            meeting,
            people[username],
            preparation=rng.randint(3, 5),
            content=rng.randint(3, 5),
            discussion=rng.randint(2, 5),
            comment="",
        )
    services.release_ratings(meeting)
    documents.sign(documents.draft(meeting, "resolution", secretary), secretary)
