"""Scheduling logic, free of Flask request objects: views, CLI and tests call it alike. Each function
changes the session and audits; the caller commits, or rolls back when ServiceError is raised."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from intranet import days
from intranet.access import can, holders
from intranet.audit import record, record_change
from intranet.extensions import db
from intranet.models import Office, PartyStatus, User, utcnow
from intranet.plugins import manager
from intranet.refusals import ServiceError
from intranet.text import clean_text

from . import notices
from .models import (
    Answer,
    Attendance,
    DiscussionQuestion,
    GroupMember,
    Meeting,
    MemberQuestion,
    Programme,
    ProgrammeItem,
    ProgrammeStatus,
    SchedulingOfficeSettings,
    SessionKind,
    SessionMode,
    SessionStatus,
    TopicGroup,
)

# The usual topic groups of a cell's thematic meetings; an office edits its own copy.
DEFAULT_TOPIC_GROUPS = [
    "Giáo dục chính trị, tư tưởng; học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh",
    "Công tác chuyên môn, pháp luật của cơ quan",
    "Công tác xây dựng Đảng, tổ chức",
    "Công tác đoàn thể, quần chúng",
    "Nhiệm vụ phát triển kinh tế - xã hội của địa phương",
    "Xây dựng nông thôn mới, giảm nghèo",
    "Chủ đề khác",
]
GROUP_SIZE = (2, 3)
QUESTIONS_ADVISED = (3, 5)
DEFAULT_QUORUM = 50
QUORUM_RANGE = (50, 99)
ORDER = [SessionStatus.PLANNED, SessionStatus.DOCUMENTS_SENT, SessionStatus.IN_PROGRESS, SessionStatus.CLOSED]


# --- catalogue and programme -----------------------------------------------------------------------


def ensure_catalogue(office_id: int) -> None:
    """Seed the topic groups the first time an office uses the plugin."""
    if db.session.scalar(select(TopicGroup.id).where(TopicGroup.office_id == office_id).limit(1)) is None:
        db.session.add_all(
            TopicGroup(office_id=office_id, name=name, position=i) for i, name in enumerate(DEFAULT_TOPIC_GROUPS)
        )


def topic_groups(office_id: int, *, active_only: bool = True) -> list[TopicGroup]:
    ensure_catalogue(office_id)
    query = select(TopicGroup).where(TopicGroup.office_id == office_id)
    if active_only:
        query = query.where(TopicGroup.active.is_(True))
    return list(db.session.scalars(query.order_by(TopicGroup.position, TopicGroup.id)))


def add_topic_group(office_id: int, name: str, actor) -> TopicGroup:
    name = clean_text(name)
    if any(t.name.lower() == name.lower() for t in topic_groups(office_id, active_only=False)):
        raise ServiceError(_("This topic group already exists."), "name")
    group = TopicGroup(office_id=office_id, name=name, position=len(topic_groups(office_id, active_only=False)))
    db.session.add(group)
    record_change("scheduling.topic_group.create", group, office_id=office_id, actor=actor, name=name)
    return group


def set_topic_group_active(group: TopicGroup, active: bool, actor) -> None:
    group.active = active
    record_change(
        "scheduling.topic_group." + ("activate" if active else "retire"), group, office_id=group.office_id, actor=actor
    )


def programme_for(office_id: int, year: int) -> Programme:
    programme = db.session.scalar(select(Programme).where(Programme.office_id == office_id, Programme.year == year))
    if programme is None:
        programme = Programme(office_id=office_id, year=year, status=ProgrammeStatus.DRAFT)
        db.session.add(programme)
        db.session.flush()
    return programme


def _refuse_unless_draft(programme: Programme) -> None:
    if programme.status == ProgrammeStatus.APPROVED:
        raise ServiceError(_("The programme is approved; it can no longer be changed."))


def add_programme_item(
    programme: Programme, *, quarter: int, topic_group: TopicGroup, title: str, lead: User | None, actor
) -> ProgrammeItem:
    _refuse_unless_draft(programme)
    if topic_group.office_id != programme.office_id:
        raise ServiceError(_("Choose a topic group of this office."), "topic_group_id")
    _same_office(lead, programme.office_id, "lead_id")
    item = ProgrammeItem(
        office_id=programme.office_id,
        programme=programme,
        quarter=quarter,
        topic_group=topic_group,
        title=clean_text(title),
        lead=lead,
    )
    db.session.add(item)
    record_change(
        "scheduling.programme.add_item",
        item,
        office_id=programme.office_id,
        actor=actor,
        year=programme.year,
        quarter=quarter,
        title=item.title,
    )
    return item


def remove_programme_item(item: ProgrammeItem, actor) -> None:
    _refuse_unless_draft(item.programme)
    record_change("scheduling.programme.remove_item", item, office_id=item.office_id, actor=actor, title=item.title)
    db.session.delete(item)


def approve_programme(programme: Programme, actor) -> None:
    _refuse_unless_draft(programme)
    if not programme.items:
        raise ServiceError(_("Add at least one topic before approving the programme."))
    programme.status = ProgrammeStatus.APPROVED
    programme.approved_by_id = actor.id
    programme.approved_at = utcnow()
    record_change(
        "scheduling.programme.approve", programme, office_id=programme.office_id, actor=actor, year=programme.year
    )


def quarters_without_thematic(programme: Programme) -> list[int]:
    planned = {item.quarter for item in programme.items}
    return [q for q in (1, 2, 3, 4) if q not in planned]


# --- people -----------------------------------------------------------------------------------------


def members(office_id: int) -> list[User]:
    """Active users who attend the office's meetings, by name."""
    return holders("scheduling.attend", office_id)


def is_member(user, office_id: int) -> bool:
    """The test ``members()`` applies, read from the user's loaded roles instead of a query."""
    return can(user, "scheduling.attend", office_id)


def _same_office(user: User | None, office_id: int, field: str) -> None:
    if user is not None and not is_member(user, office_id):
        raise ServiceError(_("“%(name)s” is not a member of this cell.", name=user.full_name), field)


# --- sessions ---------------------------------------------------------------------------------------


def _office_settings(office_id: int) -> SchedulingOfficeSettings:
    """The office's row, added on its first change (readers fall back to the defaults instead)."""
    settings = db.session.get(SchedulingOfficeSettings, office_id)
    if settings is None:
        settings = SchedulingOfficeSettings(office_id=office_id, distancing=False, quorum_percent=DEFAULT_QUORUM)
        db.session.add(settings)
    return settings


def distancing(office_id: int) -> bool:
    settings = db.session.get(SchedulingOfficeSettings, office_id)
    return bool(settings and settings.distancing)


def summary_quorum(office_id: int) -> int:
    return getattr(db.session.get(SchedulingOfficeSettings, office_id), "quorum_percent", DEFAULT_QUORUM)


def set_quorum(office_id: int, percent: int, actor) -> None:
    if not QUORUM_RANGE[0] <= percent <= QUORUM_RANGE[1]:
        raise ServiceError(
            _("The quorum is a share between %(low)d%% and %(high)d%%.", low=QUORUM_RANGE[0], high=QUORUM_RANGE[1]),
            "quorum_percent",
        )
    settings = _office_settings(office_id)
    previous, settings.quorum_percent = settings.quorum_percent, percent
    record(
        "scheduling.quorum",
        SchedulingOfficeSettings.__tablename__,
        office_id,
        office_id=office_id,
        actor=actor,
        previous=previous,
        percent=percent,
    )


def create_session(
    office: Office,
    *,
    kind: SessionKind,
    title: str,
    starts_at: datetime,
    duration_minutes: int,
    place: str,
    mode: SessionMode,
    report_due: date | None = None,
    programme_item: ProgrammeItem | None = None,
    actor=None,
    record_past: bool = False,
) -> Meeting:
    """``record_past`` enters a meeting already held (e.g. the months before the office started)."""
    if starts_at <= utcnow() and not record_past:
        raise ServiceError(_("The meeting must start in the future."), "day")
    meeting = Meeting(
        office_id=office.id,
        kind=kind,
        title=clean_text(title),
        starts_at=starts_at,
        duration_minutes=duration_minutes,
        place=clean_text(place),
        mode=mode,
        report_due=report_due,
        programme_item=programme_item,
        status=SessionStatus.PLANNED,
    )
    if mode == SessionMode.IN_PERSON and distancing(office.id):
        meeting.mode, meeting.mode_before_distancing = SessionMode.ONLINE, SessionMode.IN_PERSON
    db.session.add(meeting)
    record_change(
        "scheduling.session.create",
        meeting,
        office_id=office.id,
        actor=actor,
        title=meeting.title,
        kind=kind,
        starts_at=starts_at.isoformat(),
    )
    manager().for_office(office.id).intranet_session_created(session=meeting, actor=actor)
    return meeting


def _editable(meeting: Meeting, corrector: bool) -> str:
    """Closed sessions are locked; the secretary may still correct them, and that is audited as such."""
    if meeting.status != SessionStatus.CLOSED:
        return "scheduling.session.update"
    if not corrector:
        raise ServiceError(_("This meeting is closed; only the secretary can correct its record."))
    return "scheduling.session.correct"


def update_session(meeting: Meeting, *, actor, corrector: bool = False, **fields) -> None:
    action = _editable(meeting, corrector)
    if (
        "starts_at" in fields
        and fields["starts_at"] != meeting.starts_at
        and fields["starts_at"] <= utcnow()
        and meeting.status != SessionStatus.CLOSED
    ):
        raise ServiceError(_("The meeting must start in the future."), "day")
    before = {k: getattr(meeting, k) for k in fields}
    for key, value in fields.items():
        setattr(meeting, key, value)
    if "mode" in fields:
        meeting.mode_before_distancing = None  # a deliberate choice wins over the distancing switch
    changed = {k: str(getattr(v, "value", v)) for k, v in before.items() if getattr(meeting, k) != v}
    if changed:
        record_change(action, meeting, office_id=meeting.office_id, actor=actor, previous=changed)


def advance(meeting: Meeting, status: SessionStatus, actor) -> None:
    """Move forward through planned → documents sent → in progress → closed, one step or more."""
    if ORDER.index(status) <= ORDER.index(meeting.status):
        raise ServiceError(_("A meeting moves forward only: it cannot go back to an earlier state."))
    previous = meeting.status
    meeting.status = status
    if status == SessionStatus.CLOSED:
        meeting.closed_at = utcnow()
    record_change(
        "scheduling.session.status", meeting, office_id=meeting.office_id, actor=actor, previous=previous, status=status
    )
    if status == SessionStatus.DOCUMENTS_SENT:
        notices.documents_sent(meeting, members(meeting.office_id))
    manager().for_office(meeting.office_id).intranet_session_status_changed(
        session=meeting, previous=previous, actor=actor
    )


def set_distancing(office: Office, on: bool, actor) -> list[Meeting]:
    """Turn every upcoming in-person session online (and back); returns the sessions changed."""
    _office_settings(office.id).distancing = on
    upcoming = db.session.scalars(
        select(Meeting).where(
            Meeting.office_id == office.id, Meeting.starts_at > utcnow(), Meeting.status != SessionStatus.CLOSED
        )
    )
    changed = []
    for meeting in upcoming:
        if on and meeting.mode == SessionMode.IN_PERSON:
            meeting.mode, meeting.mode_before_distancing = SessionMode.ONLINE, SessionMode.IN_PERSON
            changed.append(meeting)
        elif not on and meeting.mode_before_distancing is not None:
            meeting.mode, meeting.mode_before_distancing = meeting.mode_before_distancing, None
            changed.append(meeting)
    db.session.flush()
    record(
        "scheduling.distancing." + ("on" if on else "off"),
        SchedulingOfficeSettings.__tablename__,
        office.id,
        office_id=office.id,
        actor=actor,
        sessions=[s.id for s in changed],
    )
    if changed:
        notices.distancing_changed(members(office.id), on, changed)
    return changed


# --- presenting group and questions -----------------------------------------------------------------


def set_group(meeting: Meeting, people: list[User], lead: User, report_due: date | None, actor) -> None:
    _editable(meeting, corrector=False)
    if meeting.kind != SessionKind.THEMATIC:
        raise ServiceError(_("Only a thematic meeting has a presenting group."))
    if not GROUP_SIZE[0] <= len(people) <= GROUP_SIZE[1]:
        raise ServiceError(_("A presenting group has 2 or 3 members."), "members")
    if lead.id not in {p.id for p in people}:
        raise ServiceError(_("The lead must be one of the group."), "lead_id")
    for person in people:
        _same_office(person, meeting.office_id, "members")
    if report_due is not None and report_due > days.day_of(meeting.starts_at):
        raise ServiceError(_("The report must be due before the meeting."), "report_due")
    if report_due is not None and report_due < days.today() and meeting.starts_at > utcnow():
        raise ServiceError(_("The report cannot be due in the past."), "report_due")
    meeting.group.clear()
    db.session.flush()
    for person in people:
        meeting.group.append(GroupMember(office_id=meeting.office_id, user=person, is_lead=person.id == lead.id))
    meeting.report_due = report_due
    record_change(
        "scheduling.group.set",
        meeting,
        office_id=meeting.office_id,
        actor=actor,
        members=[p.username for p in people],
        lead=lead.username,
    )
    notices.group_assigned(meeting)


def add_question(meeting: Meeting, text: str, actor) -> DiscussionQuestion:
    _editable(meeting, corrector=False)
    question = DiscussionQuestion(
        office_id=meeting.office_id,
        text=clean_text(text, multiline=True),
        position=max((q.position for q in meeting.questions), default=0) + 1,
    )
    meeting.questions.append(question)
    record_change("scheduling.question.add", question, office_id=meeting.office_id, actor=actor, text=question.text)
    return question


def remove_question(question: DiscussionQuestion, actor) -> None:
    _editable(question.session, corrector=False)
    record_change("scheduling.question.remove", question, office_id=question.office_id, actor=actor)
    question.session.questions.remove(question)


def question_warning(meeting: Meeting) -> str | None:
    n, (low, high) = len(meeting.questions), QUESTIONS_ADVISED
    if meeting.kind == SessionKind.THEMATIC and not low <= n <= high:
        return _("The guidance is 3 to 5 discussion questions; this meeting has %(n)d.", n=n)
    return None


QUESTION_MAX = 1000


def ask_about_report(meeting: Meeting, user: User, text: str) -> MemberQuestion:
    """A member's question before the meeting; handed to the question queue through a hook."""
    text = clean_text(text, multiline=True)
    if meeting.status in (SessionStatus.IN_PROGRESS, SessionStatus.CLOSED):
        raise ServiceError(_("The meeting has started: ask in the meeting itself."))
    if meeting.status == SessionStatus.PLANNED:
        raise ServiceError(_("Questions about the report open when the documents are sent."))
    if not text:
        raise ServiceError(_("Write your question."), "text")
    if len(text) > QUESTION_MAX:
        raise ServiceError(_("At most %(max)d characters.", max=QUESTION_MAX), "text")
    _same_office(user, meeting.office_id, "text")
    mode = anonymity(meeting)
    question = MemberQuestion(
        office_id=meeting.office_id,
        session_id=meeting.id,
        text=text,
        anonymity=mode,
        user_id=None if mode == ANONYMOUS else user.id,
        created_at=utcnow(),
    )
    db.session.add(question)
    # The audit says that a question was asked; by whom only where everyone may see the author.
    record_change(
        "scheduling.member_question.ask", question, office_id=meeting.office_id, actor=user, anonymous=mode != NAMED
    )
    manager().for_office(meeting.office_id).intranet_session_question_asked(
        session=meeting, user=user, text=text, asked_at=question.created_at
    )
    return question


NAMED, CHAIR, ANONYMOUS = "named", "chair", "anonymous"  # the modes of ``intranet_session_anonymity``
MODES = (NAMED, CHAIR, ANONYMOUS)


def anonymity(meeting: Meeting) -> str:
    """The meeting's anonymity mode as the question queue rules it; "named" when no plugin does."""
    mode = manager().for_office(meeting.office_id).intranet_session_anonymity(session=meeting)
    return mode if mode in MODES else NAMED


def member_questions(meeting: Meeting) -> list[MemberQuestion]:
    return list(
        db.session.scalars(
            select(MemberQuestion).where(MemberQuestion.session_id == meeting.id).order_by(MemberQuestion.id)
        )
    )


def member_question_author(question: MemberQuestion, meeting: Meeting, viewer) -> str | None:
    """The author's name where this viewer may see it, else None: as the question queue rules
    (``intranet_session_author_shown``); without a queue, only questions asked with names show them."""
    if question.user is None:
        return None
    shown = (
        manager()
        .for_office(meeting.office_id)
        .intranet_session_author_shown(session=meeting, viewer=viewer, asked=question.anonymity)
    )
    if shown is None:
        shown = question.anonymity == NAMED
    return question.user.full_name if shown else None


def in_group(meeting: Meeting, user) -> bool:
    return any(m.user_id == user.id for m in meeting.group)


# --- attendance -------------------------------------------------------------------------------------


def _attendance_row(meeting: Meeting, user: User) -> Attendance:
    row = next((a for a in meeting.attendance if a.user_id == user.id), None)
    if row is None:
        row = Attendance(office_id=meeting.office_id, user=user, user_id=user.id)
        meeting.attendance.append(row)
    return row


def answer(meeting: Meeting, user: User, reply: Answer, reason: str = "") -> Attendance:
    if meeting.status == SessionStatus.CLOSED:
        raise ServiceError(_("This meeting is closed."))
    _same_office(user, meeting.office_id, "answer")
    reason = clean_text(reason)
    if reply == Answer.EXCUSED and not reason:
        raise ServiceError(_("Give the reason you cannot attend."), "reason")
    row = _attendance_row(meeting, user)
    row.answer, row.reason = reply, reason if reply == Answer.EXCUSED else ""
    record_change("scheduling.attendance.answer", row, office_id=meeting.office_id, actor=user, answer=reply)
    return row


def take_attendance(meeting: Meeting, present_ids: set[int], actor, source: str = "chair") -> None:
    """Record who is present; the others are absent (excused when they answered so)."""
    if meeting.status == SessionStatus.CLOSED:
        raise ServiceError(_("This meeting is closed."))
    for member in members(meeting.office_id):
        row = _attendance_row(meeting, member)
        row.present, row.taken_by = member.id in present_ids, source
    record_change(
        "scheduling.attendance.take",
        meeting,
        office_id=meeting.office_id,
        actor=actor,
        present=sorted(present_ids),
        source=source,
    )


def mark_present(meeting: Meeting, user: User, source: str) -> None:
    """Presence reported by another plugin (a room join): never turns a present member absent."""
    if meeting.status != SessionStatus.CLOSED:
        row = _attendance_row(meeting, user)
        row.present, row.taken_by = True, source


@dataclass
class Summary:
    members: list[tuple[User, Attendance | None]]
    official: int
    probationary: int
    present: int
    present_official: int
    excused: int
    absent: int
    taken: bool
    quorum_percent: int

    @property
    def quorum(self) -> bool:
        """Strictly more than ``quorum_percent`` of the official members present (default: half)."""
        return self.present_official * 100 > self.official * self.quorum_percent


def summary(meeting: Meeting, cell: list[User] | None = None) -> Summary:
    """``cell`` is ``members(session.office_id)`` when the caller already has it."""
    rows = {a.user_id: a for a in meeting.attendance}
    people = [(m, rows.get(m.id)) for m in (cell if cell is not None else members(meeting.office_id))]
    taken = any(a is not None and a.present is not None for _, a in people)
    present = [m for m, a in people if a and a.present]
    excused = [m for m, a in people if (not a or not a.present) and a and a.answer == Answer.EXCUSED]
    return Summary(
        members=people,
        official=sum(m.party_status == PartyStatus.OFFICIAL for m, _ in people),
        probationary=sum(m.party_status == PartyStatus.PROBATIONARY for m, _ in people),
        present=len(present),
        present_official=sum(m.party_status == PartyStatus.OFFICIAL for m in present),
        excused=len(excused) if taken else 0,
        absent=len(people) - len(present) - len(excused) if taken else 0,
        taken=taken,
        quorum_percent=summary_quorum(meeting.office_id),
    )
