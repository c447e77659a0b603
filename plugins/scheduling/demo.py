"""Demo year for `make run`: an approved programme, monthly regular meetings, a thematic meeting each
quarter with its group and questions; the past ones closed with attendance taken."""

from __future__ import annotations

from datetime import date, time, timedelta

from intranet import days
from intranet.models import utcnow
from intranet.notifications import dated

from . import services
from .models import Answer, SessionKind, SessionMode, SessionStatus

THEMES = [
    (1, 0, "Học tập, quán triệt Nghị quyết Đại hội Đảng bộ các cấp", ["dangvien1", "dangvien2"]),
    (2, 1, "Nâng cao chất lượng kiểm sát việc giải quyết án hình sự", ["phobithu", "dangvien3", "dubi1"]),
    (3, 2, "Xây dựng chi bộ trong sạch, vững mạnh; tự phê bình và phê bình", ["chiuy", "dangvien4"]),
    (4, 5, "Chung tay xây dựng nông thôn mới ở huyện Phong Điền", ["dangvien5", "dangvien6", "dubi2"]),
]
QUESTIONS = [
    "Những điểm mới cốt lõi của chuyên đề là gì?",
    "Liên hệ thực tiễn công tác của đơn vị: đã làm được gì, còn hạn chế gì?",
    "Mỗi đảng viên cần làm gì để thực hiện trong năm tới?",
    "Kiến nghị gì với chi ủy và lãnh đạo cơ quan?",
]


def seed(office, people, actor) -> None:
    year = days.today().year
    groups = services.topic_groups(office.id)
    programme = services.programme_for(office.id, year)
    items, teams = {}, {}
    for quarter, group_index, title, team in THEMES:
        items[(year, quarter)] = services.add_programme_item(
            programme, quarter=quarter, topic_group=groups[group_index], title=title, lead=people[team[0]], actor=actor
        )
        teams[(year, quarter)] = team
    services.approve_programme(programme, actor)

    # Next year's programme is still a draft with its first topic, so the months ahead are not empty.
    draft = services.programme_for(office.id, year + 1)
    items[(year + 1, 1)] = services.add_programme_item(
        draft,
        quarter=1,
        topic_group=groups[0],
        title="Học tập chuyên đề năm về tư tưởng Hồ Chí Minh",
        lead=people["dangvien2"],
        actor=actor,
    )
    teams[(year + 1, 1)] = ["dangvien2", "dangvien1"]
    for month_index in range(12 + 3):  # this year, then the first three months of the next
        y, month = year + month_index // 12, month_index % 12 + 1
        regular = _meeting(
            office,
            actor,
            SessionKind.REGULAR,
            f"Sinh hoạt chi bộ thường kỳ tháng {month}/{y}",
            days.at(date(y, month, 5), time(14)),
            "Hội trường cơ quan",
            None,
        )
        _close_if_past(regular, people, actor, absent=f"dangvien{month % 6 + 1}")
        quarter = (month + 2) // 3
        if month % 3 == 2 and (y, quarter) in items:
            team = teams[(y, quarter)]
            thematic = _meeting(
                office,
                actor,
                SessionKind.THEMATIC,
                items[(y, quarter)].title,
                days.at(date(y, month, 20), time(8)),
                "Hội trường cơ quan",
                items[(y, quarter)],
            )
            with dated(thematic.starts_at - timedelta(days=30)):  # the group hears of it a month ahead
                services.set_group(
                    thematic,
                    [people[u] for u in team],
                    people[team[0]],
                    days.day_of(thematic.starts_at) - timedelta(days=7),
                    actor,
                )
            for question in QUESTIONS[: 3 + quarter % 2]:
                services.add_question(thematic, question, actor)
            _close_if_past(thematic, people, actor, absent="dubi2")


def _meeting(office, actor, kind, title, starts_at, place, item):
    return services.create_session(
        office,
        kind=kind,
        title=title,
        starts_at=starts_at,
        place=place,
        duration_minutes=120 if kind == SessionKind.THEMATIC else 90,
        mode=SessionMode.IN_PERSON,
        programme_item=item,
        actor=actor,
        record_past=starts_at <= utcnow(),
    )


def _close_if_past(session, people, actor, absent: str) -> None:
    if session.starts_at > utcnow():
        return
    services.answer(session, people[absent], Answer.EXCUSED, "Đi công tác theo phân công")
    members = services.members(session.office_id)
    services.take_attendance(session, {m.id for m in members if m.username != absent}, actor)
    services.advance(session, SessionStatus.CLOSED, actor)
    session.closed_at = session.starts_at + timedelta(minutes=session.duration_minutes + 10)  # held back then
