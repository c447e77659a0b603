"""Closing a meeting: its record and conclusion, resolution tasks and their follow-up, the secretary's
evaluation of the group, members' anonymous ratings, commendations and reminders. Free of Flask
request objects; each function changes the database session and audits, the caller commits, or rolls
back when ServiceError is raised."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import date
from statistics import mean

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select

from intranet import days
from intranet.access import can
from intranet.audit import record as audit
from intranet.extensions import db
from intranet.models import User, utcnow
from intranet.notifications import link_to, notify
from intranet.refusals import ServiceError
from intranet.sealing import Sealer
from intranet.text import clean_text
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionKind, SessionStatus

from .classification import checked_rules
from .models import (
    EvaluationOfficeSettings,
    GroupEvaluation,
    GroupRating,
    Note,
    NoteKind,
    PendingRating,
    Rating,
    RatingReceipt,
    Record,
    Task,
    TaskStatus,
)
from .shelf import current, signed_minutes

# The purpose the ratings were sealed under before sealing moved to the core: held rows still open.
_RATINGS = Sealer(b"intranet evaluations: held ratings")
seal, unseal = _RATINGS.seal, _RATINGS.unseal

SCORE_RANGE = (1, 5)
AGGREGATE_MINIMUM = 3  # ratings are shown only once this many have answered, so none can be told apart
TEXT_MAX = 5000


def is_secretary(user, office_id: int) -> bool:
    return can(user, "evaluations.sign", office_id)


def is_drafter(user, office_id: int) -> bool:
    return can(user, "evaluations.draft", office_id)


def secretary_or_refuse(user, session: Meeting) -> None:
    if not is_secretary(user, session.office_id):
        raise ServiceError(_("Only the secretary can do this."))


def drafter_or_refuse(user, session: Meeting) -> None:
    if not is_drafter(user, session.office_id):
        raise ServiceError(_("Only the secretary or a deputy can draft this."))


def checked_text(value: str | None, field: str, *, required: bool = True, limit: int = TEXT_MAX) -> str:
    value = clean_text(value, multiline=True)
    if required and not value:
        raise ServiceError(_("This field is required."), field)
    if len(value) > limit:
        raise ServiceError(_("At most %(max)d characters.", max=limit), field)
    return value


# --- the meeting's record and conclusion ------------------------------------------------------------


def record_for(session: Meeting) -> Record:
    found = db.session.get(Record, session.id)
    if found is None:
        secretary = next(
            (u for u in scheduling.members(session.office_id) if can(u, "evaluations.sign", session.office_id)), None
        )
        found = Record(
            session_id=session.id,
            office_id=session.office_id,
            chair_id=secretary and secretary.id,
            conclusion="",
            final=False,
        )
    return found


def save_record(
    session: Meeting, actor, *, chair: User | None, taker: User | None, conclusion: str, final: bool
) -> Record:
    """The deputy drafts; the secretary records (``final``). Locked once the minutes are signed."""
    drafter_or_refuse(actor, session)
    if final:
        secretary_or_refuse(actor, session)
    if signed_minutes(session) is not None:
        raise ServiceError(_("The minutes are signed: correct them instead."))
    for person, field in ((chair, "chair_id"), (taker, "taker_id")):
        if person is not None and person.office_id != session.office_id:
            raise ServiceError(_("“%(name)s” is not a member of this cell.", name=person.full_name), field)
    row = record_for(session)
    if row.final and not is_secretary(actor, session.office_id):
        raise ServiceError(_("The secretary has recorded the conclusion; only the secretary changes it."))
    row.chair_id, row.taker_id = chair and chair.id, taker and taker.id
    row.conclusion = checked_text(conclusion, "conclusion", required=final)
    row.final, row.updated_by_id, row.updated_at = final, actor.id, utcnow()
    if db.inspect(row).transient:
        db.session.add(row)
    audit(
        "evaluations.conclusion." + ("record" if final else "draft"),
        Record.__tablename__,
        session.id,
        office_id=session.office_id,
        actor=actor,
    )
    return row


# --- resolution tasks -------------------------------------------------------------------------------


def tasks(session: Meeting) -> list[Task]:
    return list(db.session.scalars(select(Task).where(Task.session_id == session.id).order_by(Task.number)))


def _resolution_open(session: Meeting) -> None:
    if session.kind != SessionKind.THEMATIC:
        raise ServiceError(_("A resolution is adopted at a thematic meeting."))
    document = current(session, "resolution")
    if document is not None and document.signed_at is not None:
        raise ServiceError(_("The resolution is signed: correct it instead."))


def add_task(session: Meeting, actor, *, what: str, owner: User | None, due: date | None) -> Task:
    drafter_or_refuse(actor, session)
    _resolution_open(session)
    what = checked_text(what, "what", limit=1000)
    if due is None:
        raise ServiceError(_("Enter a date as dd/mm/yyyy."), "due")
    if due < days.day_of(session.starts_at):
        raise ServiceError(_("The due date cannot be before the meeting."), "due")
    if owner is not None and owner.office_id != session.office_id:
        raise ServiceError(_("“%(name)s” is not a member of this cell.", name=owner.full_name), "owner_id")
    # The meeting's row lock first, then max + 1 in a later statement: two drafters adding at once get
    # two numbers (the rule for every stored count or number: docs/security/ingest.md).
    db.session.execute(select(Meeting.id).where(Meeting.id == session.id).with_for_update(key_share=True))
    number = (db.session.scalar(select(func.max(Task.number)).where(Task.session_id == session.id)) or 0) + 1
    task = Task(
        office_id=session.office_id,
        session_id=session.id,
        number=number,
        what=what,
        owner_id=owner and owner.id,
        due=due,
        status=TaskStatus.OPEN,
        progress="",
    )
    db.session.add(task)
    db.session.flush()
    audit("evaluations.task.add", Task.__tablename__, task.id, office_id=session.office_id, actor=actor, what=what)
    return task


def remove_task(task: Task, actor) -> None:
    session = db.session.get(Meeting, task.session_id)
    drafter_or_refuse(actor, session)
    _resolution_open(session)
    audit("evaluations.task.remove", Task.__tablename__, task.id, office_id=task.office_id, actor=actor, what=task.what)
    db.session.delete(task)
    db.session.flush()
    for number, remaining in enumerate(tasks(session), start=1):  # keep the numbering without gaps
        remaining.number = number


def report_progress(task: Task, actor, *, status: TaskStatus, progress: str) -> None:
    """The owner (or the secretary) follows a task up."""
    if actor.id != task.owner_id and not is_drafter(actor, task.office_id):
        raise ServiceError(_("Only the person in charge of this task reports on it."))
    task.progress = checked_text(progress, "progress", required=False, limit=2000)
    task.status = status
    task.done_at = utcnow() if status == TaskStatus.DONE else None
    audit(
        "evaluations.task.progress",
        Task.__tablename__,
        task.id,
        office_id=task.office_id,
        actor=actor,
        status=status.value,
    )


def overdue_tasks(office_id: int, today: date, before: Meeting | None = None) -> list[Task]:
    """Tasks past their due date and not done; with ``before``, only those of earlier meetings."""
    query = (
        select(Task)
        .join(Meeting, Meeting.id == Task.session_id)
        .where(Task.office_id == office_id, Task.due < today, Task.status != TaskStatus.DONE)
    )
    if before is not None:
        query = query.where(Meeting.starts_at < before.starts_at)
    return list(db.session.scalars(query.order_by(Task.due, Task.id)))


def my_tasks(user: User) -> list[Task]:
    return list(
        db.session.scalars(
            select(Task).where(Task.owner_id == user.id).order_by(Task.status == TaskStatus.DONE, Task.due)
        )
    )


# --- the secretary's evaluation of the group -------------------------------------------------------


def save_group_evaluation(
    session: Meeting, actor, *, strengths: str, weaknesses: str, rating: GroupRating, commend: bool, final: bool
) -> GroupEvaluation:
    drafter_or_refuse(actor, session)
    if final:
        secretary_or_refuse(actor, session)
    if session.kind != SessionKind.THEMATIC or not session.group:
        raise ServiceError(_("Only a thematic meeting's presenting group is evaluated."))
    row = db.session.get(GroupEvaluation, session.id)
    if row is not None and row.final and not is_secretary(actor, session.office_id):
        raise ServiceError(_("The secretary has given the evaluation; only the secretary changes it."))
    if row is None:
        row = GroupEvaluation(session_id=session.id, office_id=session.office_id, rating=rating)
        db.session.add(row)
    row.strengths = checked_text(strengths, "strengths", required=final)
    row.weaknesses = checked_text(weaknesses, "weaknesses", required=False)
    row.rating, row.commend, row.final = rating, commend, final
    row.updated_by_id, row.updated_at = actor.id, utcnow()
    audit(
        "evaluations.group." + ("evaluate" if final else "draft"),
        GroupEvaluation.__tablename__,
        session.id,
        office_id=session.office_id,
        actor=actor,
        rating=rating.value,
        commend=commend,
    )
    if final:
        group = [m.user for m in session.group]
        notify(
            group,
            _("The secretary evaluated your group's presentation"),
            session.title,
            link=link_to("evaluations.session", session_id=session.id),
            key=f"evaluations:group:{session.id}",
        )
        if commend:
            for member in group:
                give_note(
                    member,
                    actor,
                    NoteKind.COMMENDATION,
                    _("Presenting group of “%(title)s”", title=session.title),
                    session=session,
                )
    return row


def group_evaluation(session: Meeting) -> GroupEvaluation | None:
    return db.session.get(GroupEvaluation, session.id)


# --- members' ratings ------------------------------------------------------------------------------


def may_rate(session: Meeting, user) -> bool:
    """Those present when attendance was taken; every member of the cell if it was not."""
    if session.status != SessionStatus.CLOSED or not scheduling.is_member(user, session.office_id):
        return False
    rows = {a.user_id: a for a in session.attendance}
    taken = any(a.present is not None for a in rows.values())
    return not taken or bool(rows.get(user.id) and rows[user.id].present)


def has_rated(session: Meeting, user) -> bool:
    return db.session.get(RatingReceipt, (session.id, user.id)) is not None


def rate(session: Meeting, user: User, *, preparation: int, content: int, discussion: int, comment: str) -> None:
    """Write the receipt at once (one rating per member) and hold the rating, sealed, in the pool;
    ``release_ratings`` moves it into the ratings table with others, in a transaction of its own."""
    if session.status != SessionStatus.CLOSED:
        raise ServiceError(_("Ratings open when the meeting is closed."))
    if not may_rate(session, user):
        raise ServiceError(_("Only members present at the meeting rate it."))
    if has_rated(session, user):
        raise ServiceError(_("You have already rated this meeting."))
    for value, field in ((preparation, "preparation"), (content, "content"), (discussion, "discussion")):
        if value is None or not SCORE_RANGE[0] <= value <= SCORE_RANGE[1]:
            raise ServiceError(
                _("Choose a score from %(low)d to %(high)d.", low=SCORE_RANGE[0], high=SCORE_RANGE[1]), field
            )
    values = {
        "preparation": preparation,
        "content": content,
        "discussion": discussion,
        "comment": checked_text(comment, "comment", required=False, limit=1000),
    }
    db.session.add(RatingReceipt(session_id=session.id, user_id=user.id, office_id=session.office_id))
    db.session.add(PendingRating(office_id=session.office_id, session_id=session.id, sealed=seal(values)))


def release_ratings(session: Meeting) -> int:
    """Once at least AGGREGATE_MINIMUM ratings are held, move them all into the ratings table in one
    shuffled batch with fresh random keys; returns how many. Call it in a transaction that wrote no
    receipt (the caller commits), so no rating shares a transaction id with a receipt; a batch is
    never smaller than the threshold, so the difference between two published averages is always
    the mean of at least that many members."""
    held = list(
        db.session.scalars(select(PendingRating).where(PendingRating.session_id == session.id).with_for_update())
    )
    if len(held) < AGGREGATE_MINIMUM:
        return 0
    gone = db.session.execute(delete(PendingRating).where(PendingRating.id.in_([h.id for h in held]))).rowcount
    if gone != len(held):  # a concurrent release took some of them: it publishes them, not us
        db.session.rollback()
        return 0
    rows = [values for values in map(unseal, (h.sealed for h in held)) if values is not None]
    if len(rows) < len(held):
        current_app.logger.warning(
            "%d held ratings could not be unsealed (SECRET_KEY changed) and are dropped", len(held) - len(rows)
        )
    random.SystemRandom().shuffle(rows)
    if rows:
        db.session.execute(
            insert(Rating),
            [
                {"id": uuid.uuid4().hex, "office_id": session.office_id, "session_id": session.id, **values}
                for values in rows
            ],
        )
    return len(rows)


@dataclass(frozen=True)
class Ratings:
    count: int | None  # None, like the scores, while fewer than AGGREGATE_MINIMUM are published
    preparation: float | None
    content: float | None
    discussion: float | None
    comments: list[str]

    @property
    def shown(self) -> bool:
        return self.preparation is not None


def ratings(session: Meeting) -> Ratings:
    """The published ratings' averages and comments — nothing at all, not even how many, below the threshold."""
    return ratings_of([session])[session.id]


def ratings_of(sessions: list[Meeting]) -> dict[int, Ratings]:
    """The ratings of each meeting, in one query."""
    rows: dict[int, list[Rating]] = {s.id: [] for s in sessions}
    for rating in db.session.scalars(select(Rating).where(Rating.session_id.in_(list(rows)))):
        rows[rating.session_id].append(rating)
    return {session_id: _summary(rated) for session_id, rated in rows.items()}


def _summary(rows: list[Rating]) -> Ratings:
    if len(rows) < AGGREGATE_MINIMUM:
        return Ratings(None, None, None, None, [])
    return Ratings(
        len(rows),
        round(mean(r.preparation for r in rows), 2),
        round(mean(r.content for r in rows), 2),
        round(mean(r.discussion for r in rows), 2),
        sorted(r.comment for r in rows if r.comment),
    )


# --- commendations and reminders -------------------------------------------------------------------


def give_note(member: User, actor, kind: NoteKind, reason: str, *, session: Meeting | None = None) -> Note:
    if not is_secretary(actor, member.office_id):
        raise ServiceError(_("Only the secretary can do this."))
    if not clean_text(reason, multiline=True):
        raise ServiceError(_("Say why: the member reads the reason with the note."), "reason")
    reason = checked_text(reason, "reason", limit=1000)
    note = Note(
        office_id=member.office_id,
        user_id=member.id,
        session_id=session and session.id,
        kind=kind,
        reason=reason,
        given_by_id=actor.id,
    )
    db.session.add(note)
    db.session.flush()
    audit(
        f"evaluations.{kind.value}",
        Note.__tablename__,
        note.id,
        office_id=member.office_id,
        actor=actor,
        user_id=member.id,
    )
    title = _("You were commended") if kind == NoteKind.COMMENDATION else _("A reminder from the cell secretary")
    notify([member], title, reason, link=link_to("evaluations.me"))
    return note


def notes(office_id: int, user_id: int | None = None) -> list[Note]:
    query = select(Note).where(Note.office_id == office_id)
    if user_id is not None:
        query = query.where(Note.user_id == user_id)
    return list(db.session.scalars(query.order_by(Note.created_at.desc())))


# --- the office's settings --------------------------------------------------------------------------


def office_settings(office_id: int) -> EvaluationOfficeSettings:
    return db.session.get(EvaluationOfficeSettings, office_id) or EvaluationOfficeSettings(
        office_id=office_id, absences_per_quarter=2, silent_meetings=3
    )


def save_office_settings(
    office_id: int, actor, *, absences_per_quarter: int, silent_meetings: int
) -> EvaluationOfficeSettings:
    if not is_secretary(actor, office_id):
        raise ServiceError(_("Only the secretary can do this."))
    for value, field in ((absences_per_quarter, "absences_per_quarter"), (silent_meetings, "silent_meetings")):
        if value is None or not 1 <= value <= 12:
            raise ServiceError(_("Between %(low)d and %(high)d.", low=1, high=12), field)
    settings = office_settings(office_id)
    settings.absences_per_quarter, settings.silent_meetings = absences_per_quarter, silent_meetings
    if db.inspect(settings).transient:
        db.session.add(settings)
    audit(
        "evaluations.settings",
        EvaluationOfficeSettings.__tablename__,
        office_id,
        office_id=office_id,
        actor=actor,
        absences_per_quarter=absences_per_quarter,
        silent_meetings=silent_meetings,
    )
    return settings


def save_classification(
    office_id: int, actor, *, weights: dict[str, int | None], lines: dict[str, float | None], scale: str
) -> EvaluationOfficeSettings:
    """The office's criteria weights, lines and scale for classifying its meetings (classification.py)."""
    if not is_secretary(actor, office_id):
        raise ServiceError(_("Only the secretary can do this."))
    settings = office_settings(office_id)
    settings.classification = checked_rules(weights, lines, scale)
    if db.inspect(settings).transient:
        db.session.add(settings)
    audit(
        "evaluations.classification",
        EvaluationOfficeSettings.__tablename__,
        office_id,
        office_id=office_id,
        actor=actor,
        **settings.classification,
    )
    return settings
