"""Each member's part in the cell's meetings: attendance and documents read (from the scheduling
plugin), and whatever other plugins report through ``intranet_session_participation`` (questions
asked and times spoken from the question queue; minutes connected and drops from the meetings plugin).
The office's rule then flags the passive members."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from intranet.extensions import db
from intranet.models import User
from intranet.plugins import manager
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Answer, Document, DocumentRead, Session, SessionStatus

from .services import office_settings

PRESENT, EXCUSED, ABSENT = "present", "excused", "absent"


@dataclass
class Line:
    """One member at one meeting."""
    session: Session
    attendance: str | None  # PRESENT / EXCUSED / ABSENT, None while attendance was not taken
    documents_read: int
    facts: dict[str, int] = field(default_factory=dict)  # from other plugins: questions_asked, times_spoken, …

    @property
    def spoke(self) -> bool:
        return bool(self.facts.get("times_spoken") or self.facts.get("questions_asked"))


@dataclass
class MemberRecord:
    user: User
    lines: list[Line]
    passive_reasons: list[str] = field(default_factory=list)

    def count(self, attendance: str) -> int:
        return sum(line.attendance == attendance for line in self.lines)

    def total(self, key: str) -> int:
        return sum(line.facts.get(key, 0) for line in self.lines)


def closed_sessions(office_id: int, start: datetime, end: datetime) -> list[Session]:
    return list(db.session.scalars(select(Session).where(
        Session.office_id == office_id, Session.status == SessionStatus.CLOSED, Session.starts_at >= start,
        Session.starts_at < end).order_by(Session.starts_at)))


def _reads_before(session: Session) -> dict[int, int]:
    """Documents of the meeting each member opened before it started."""
    rows = db.session.execute(
        select(DocumentRead.user_id, func.count(func.distinct(DocumentRead.document_id)))
        .join(Document, Document.id == DocumentRead.document_id)
        .where(Document.session_id == session.id, DocumentRead.opened_at < session.starts_at)
        .group_by(DocumentRead.user_id)).all()
    return dict(rows)


def _attendance(session: Session) -> dict[int, str]:
    rows = {a.user_id: a for a in session.attendance}
    if not any(a.present is not None for a in rows.values()):
        return {}
    result = {}
    for user_id, row in rows.items():
        result[user_id] = PRESENT if row.present else EXCUSED if row.answer == Answer.EXCUSED else ABSENT
    return result


def lines_for(session: Session) -> dict[int, Line]:
    """Every member's line for one meeting (members with no attendance row count as absent)."""
    attendance, reads = _attendance(session), _reads_before(session)
    facts: dict[int, dict[str, int]] = {}
    for part in manager().for_office(session.office_id).intranet_session_participation(session=session):
        for user_id, values in (part or {}).items():
            bucket = facts.setdefault(user_id, {})
            for key, value in values.items():
                bucket[key] = bucket.get(key, 0) + value
    taken = bool(attendance)
    return {m.id: Line(session, attendance.get(m.id, ABSENT) if taken else None, reads.get(m.id, 0),
                       facts.get(m.id, {})) for m in scheduling.members(session.office_id)}


def cell_records(office_id: int, start: datetime, end: datetime) -> list[MemberRecord]:
    sessions = closed_sessions(office_id, start, end)
    per_session = [lines_for(s) for s in sessions]
    records = [MemberRecord(u, [lines[u.id] for lines in per_session if u.id in lines])
               for u in scheduling.members(office_id)]
    rule = office_settings(office_id)
    for record in records:
        record.passive_reasons = passive_reasons(record, rule.absences_per_quarter, rule.silent_meetings)
    return records


def passive_reasons(record: MemberRecord, absences_per_quarter: int, silent_meetings: int) -> list[str]:
    """Why the rule calls this member passive: absences without reason in one quarter, or the last
    ``silent_meetings`` meetings attended without a question or a word (counted only where a plugin
    reports speaking, so an office without the question queue is not flagged for silence)."""
    from flask_babel import gettext as _

    from .formats import local

    reasons = []
    by_quarter: dict[tuple[int, int], int] = {}
    for line in record.lines:
        if line.attendance == ABSENT:
            day = local(line.session.starts_at)
            key = (day.year, (day.month - 1) // 3 + 1)
            by_quarter[key] = by_quarter.get(key, 0) + 1
    for (year, quarter), count in sorted(by_quarter.items()):
        if count >= absences_per_quarter:
            reasons.append(_("absent without reason %(n)d times in quarter %(q)d/%(y)d", n=count, q=quarter, y=year))
    attended = [line for line in record.lines if line.attendance == PRESENT and "times_spoken" in line.facts]
    recent = attended[-silent_meetings:]
    if len(recent) == silent_meetings and not any(line.spoke for line in recent):
        reasons.append(_("no question or word in the last %(n)d meetings attended", n=silent_meetings))
    return reasons
