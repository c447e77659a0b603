"""Each member's part in the cell's meetings: attendance and documents read (from the scheduling
plugin), the roles the member held (chair and minute-taker from the meeting's record, the presenting
group), and whatever other plugins report through ``intranet_session_participation`` (questions
asked and times spoken, in the hall too, from the question queue; minutes connected and drops from
the meetings plugin). The office's rule then flags the passive members."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from intranet import days
from intranet.extensions import db
from intranet.models import User
from intranet.plugins import manager
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Answer, Attendance, Document, DocumentRead, GroupMember, Meeting, SessionStatus

from .models import Record
from .services import office_settings

PRESENT, EXCUSED, ABSENT = "present", "excused", "absent"
ROLES = ("chaired", "took_minutes", "presented")  # a part in the meeting whatever was said


@dataclass
class Line:
    """One member at one meeting."""

    session: Meeting
    attendance: str | None  # PRESENT / EXCUSED / ABSENT, None while attendance was not taken
    documents_read: int
    facts: dict[str, int] = field(default_factory=dict)  # questions_asked, times_spoken, chaired, presented, …

    @property
    def spoke(self) -> bool:
        return bool(self.facts.get("times_spoken") or self.facts.get("questions_asked"))

    @property
    def took_part(self) -> bool:
        """Spoke or asked, or held a role that is a part in itself: chair, minute-taker, presenter."""
        return self.spoke or any(self.facts.get(role) for role in ROLES)


@dataclass
class MemberRecord:
    user: User
    lines: list[Line]
    passive_reasons: list[str] = field(default_factory=list)

    def count(self, attendance: str) -> int:
        return sum(line.attendance == attendance for line in self.lines)

    def total(self, key: str) -> int:
        return sum(line.facts.get(key, 0) for line in self.lines)


def closed_sessions(office_id: int, start: datetime, end: datetime) -> list[Meeting]:
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.office_id == office_id,
                Meeting.status == SessionStatus.CLOSED,
                Meeting.starts_at >= start,
                Meeting.starts_at < end,
            )
            .order_by(Meeting.starts_at)
        )
    )


def _reads_before(ids: list[int]) -> dict[tuple[int, int], int]:
    """Documents of each meeting each member opened before it started: (session id, user id) -> count."""
    rows = db.session.execute(
        select(Document.session_id, DocumentRead.user_id, func.count(func.distinct(DocumentRead.document_id)))
        .join(Document, Document.id == DocumentRead.document_id)
        .join(Meeting, Meeting.id == Document.session_id)
        .where(Document.session_id.in_(ids), DocumentRead.opened_at < Meeting.starts_at)
        .group_by(Document.session_id, DocumentRead.user_id)
    ).all()
    return {(session_id, user_id): count for session_id, user_id, count in rows}


def _attendance(ids: list[int]) -> dict[int, dict[int, str]]:
    """Per meeting, each member's attendance — only for meetings where it was taken."""
    rows: dict[int, list[Attendance]] = {i: [] for i in ids}
    for row in db.session.scalars(select(Attendance).where(Attendance.session_id.in_(ids))):
        rows[row.session_id].append(row)
    return {
        session_id: {
            a.user_id: PRESENT if a.present else EXCUSED if a.answer == Answer.EXCUSED else ABSENT for a in taken
        }
        for session_id, taken in rows.items()
        if any(a.present is not None for a in taken)
    }


def _roles(ids: list[int]) -> dict[int, dict[int, dict[str, int]]]:
    """Per meeting, who chaired, took the minutes and presented: two queries whatever the meetings."""
    roles: dict[int, dict[int, dict[str, int]]] = {}

    def held(session_id: int, user_id: int | None, role: str) -> None:
        if user_id is not None:
            roles.setdefault(session_id, {}).setdefault(user_id, {})[role] = 1

    for record in db.session.scalars(select(Record).where(Record.session_id.in_(ids))):
        held(record.session_id, record.chair_id, "chaired")
        held(record.session_id, record.taker_id, "took_minutes")
    for session_id, user_id in db.session.execute(
        select(GroupMember.session_id, GroupMember.user_id).where(GroupMember.session_id.in_(ids))
    ):
        held(session_id, user_id, "presented")
    return roles


def lines(office_id: int, sessions: list[Meeting], viewer: User | None) -> dict[int, dict[int, Line]]:
    """Every member's line for each of the office's ``sessions`` (members with no attendance row count
    as absent), as ``viewer`` may know them — None for figures anyone may read (the review, documents;
    see ``intranet_session_participation``) — in a number of queries that does not grow with the
    number of meetings."""
    ids = [s.id for s in sessions]
    attendance, reads = _attendance(ids), _reads_before(ids)
    facts: dict[tuple[int, int], dict[str, int]] = {}
    for part in (
        _roles(ids),
        *manager().for_office(office_id).intranet_session_participation(sessions=sessions, viewer=viewer),
    ):
        for session_id, per_user in (part or {}).items():
            for user_id, values in per_user.items():
                bucket = facts.setdefault((session_id, user_id), {})
                for key, value in values.items():
                    bucket[key] = bucket.get(key, 0) + value
    members = scheduling.members(office_id)
    result = {}
    for session in sessions:
        taken = attendance.get(session.id)
        result[session.id] = {
            m.id: Line(
                session,
                taken.get(m.id, ABSENT) if taken else None,
                reads.get((session.id, m.id), 0),
                facts.get((session.id, m.id), {}),
            )
            for m in members
        }
    return result


def cell_records(office_id: int, start: datetime, end: datetime, viewer: User | None) -> list[MemberRecord]:
    """Every member's record over the period, as ``viewer`` may know it (see ``lines``)."""
    sessions = closed_sessions(office_id, start, end)
    per_session = list(lines(office_id, sessions, viewer).values())
    records = [
        MemberRecord(u, [lines[u.id] for lines in per_session if u.id in lines]) for u in scheduling.members(office_id)
    ]
    rule = office_settings(office_id)
    for record in records:
        record.passive_reasons = passive_reasons(record, rule.absences_per_quarter, rule.silent_meetings)
    return records


def passive_reasons(record: MemberRecord, absences_per_quarter: int, silent_meetings: int) -> list[str]:
    """Why the rule calls this member passive: absences without reason in one quarter, or the last
    ``silent_meetings`` meetings attended without a question, a word or a role (counted only where a
    plugin reports speaking, so an office without the question queue is not flagged for silence). An
    excused meeting counts for neither: it is no absence, and it neither breaks nor extends a silence."""
    from flask_babel import gettext as _

    reasons = []
    by_quarter: dict[tuple[int, int], int] = {}
    for line in record.lines:
        if line.attendance == ABSENT:
            day = days.day_of(line.session.starts_at)
            key = (day.year, (day.month - 1) // 3 + 1)
            by_quarter[key] = by_quarter.get(key, 0) + 1
    for (year, quarter), count in sorted(by_quarter.items()):
        if count >= absences_per_quarter:
            reasons.append(_("absent without reason %(n)d times in quarter %(q)d/%(y)d", n=count, q=quarter, y=year))
    attended = [line for line in record.lines if line.attendance == PRESENT and "times_spoken" in line.facts]
    recent = attended[-silent_meetings:]
    if len(recent) == silent_meetings and not any(line.took_part for line in recent):
        reasons.append(_("no question or word in the last %(n)d meetings attended", n=silent_meetings))
    return reasons
