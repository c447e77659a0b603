"""Evaluation tables: a meeting's conclusion, its resolution tasks, its minutes and resolution as
signed documents with their versions, the secretary's evaluation of the presenting group, members'
anonymous ratings, commendations and reminders, the office's rule for passive members. Every table is
``evaluations_*`` and carries ``office_id``; a meeting is the scheduling plugin's ``Meeting``."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.extensions import db
from intranet.models import User, UTCDateTime, text_enum, utcnow
from intranet_scheduling.models import Meeting


class DocumentKind(str, enum.Enum):
    MINUTES = "minutes"  # biên bản
    RESOLUTION = "resolution"  # nghị quyết
    TALLY = "tally"  # biên bản kiểm phiếu: the counting committee's report of one secret ballot


class TaskStatus(str, enum.Enum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


class GroupRating(str, enum.Enum):
    EXCELLENT = "excellent"
    GOOD = "good"
    FAIR = "fair"
    WEAK = "weak"


class NoteKind(str, enum.Enum):
    COMMENDATION = "commendation"
    REMINDER = "reminder"


class Record(db.Model):
    """Who chaired and who took the minutes, and the conclusion: recorded by the secretary, drafted
    by a deputy (``final`` is False until the secretary records it)."""

    __tablename__ = "evaluations_record"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    taker_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    conclusion: Mapped[str] = mapped_column(Text, default="")
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    chair: Mapped[User | None] = relationship(foreign_keys=[chair_id])
    taker: Mapped[User | None] = relationship(foreign_keys=[taker_id])


class Task(db.Model):
    """One numbered task of a meeting's resolution: what, who, by when; followed up by its owner."""

    __tablename__ = "evaluations_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"), index=True)
    due: Mapped[date] = mapped_column(Date)
    status: Mapped[TaskStatus] = mapped_column(text_enum(TaskStatus), default=TaskStatus.OPEN)
    progress: Mapped[str] = mapped_column(Text, default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    owner: Mapped[User | None] = relationship()
    session: Mapped[Meeting] = relationship()


class CellDocument(db.Model):
    """A version of a meeting's minutes or resolution. The newest version is the current one; a signed
    version never changes — a correction adds a version with its reason, and the earlier stays."""

    __tablename__ = "evaluations_document"
    __table_args__ = (UniqueConstraint("session_id", "kind", "vote_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(text_enum(DocumentKind))
    # The vote a tally report is of (a meeting may hold several secret ballots); 0 for the minutes and
    # the resolution, not NULL, so that the unique constraint still holds one version per meeting.
    vote_id: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    version: Mapped[int] = mapped_column(Integer, default=1)
    number: Mapped[int | None] = mapped_column(Integer)  # resolutions: "Số 05-NQ/CB", counted per office and year
    title: Mapped[str] = mapped_column(String(300))
    # {"sections": [{"heading", "text"}], "attendance": {...}, "tasks": [...]}: the text is edited before
    # signing; the tables are taken from the record when the draft is made, so a signed copy never moves.
    content: Mapped[dict] = mapped_column(JSON)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    correction_reason: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])


class VoteRecord(db.Model):
    """The final count of a vote held in a meeting, as the votes plugin reported it through the
    ``intranet_session_vote_closed`` hook (``VoteResult``): totals only, never who voted how. One row
    per vote of a meeting; a second report of the same vote replaces it."""

    __tablename__ = "evaluations_vote"
    __table_args__ = (UniqueConstraint("session_id", "vote_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    vote_id: Mapped[int] = mapped_column(Integer)  # the votes plugin's id, kept as a number: no foreign key
    subject: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    secret: Mapped[bool] = mapped_column(Boolean)
    base: Mapped[int] = mapped_column(Integer)
    base_label: Mapped[str] = mapped_column(String(200))
    eligible_present: Mapped[int] = mapped_column(Integer)
    voted: Mapped[int] = mapped_column(Integer)
    voted_on_paper: Mapped[int] = mapped_column(Integer)
    in_favour: Mapped[int] = mapped_column(Integer)
    against: Mapped[int] = mapped_column(Integer)
    other: Mapped[int] = mapped_column(Integer)
    passed: Mapped[bool] = mapped_column(Boolean)
    sentence: Mapped[str] = mapped_column(Text)
    counting_committee: Mapped[list] = mapped_column(JSON)  # full names, the head first
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class GroupEvaluation(db.Model):
    """The secretary's evaluation of a thematic meeting's presenting group; the group reads it."""

    __tablename__ = "evaluations_group_evaluation"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    strengths: Mapped[str] = mapped_column(Text, default="")
    weaknesses: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[GroupRating] = mapped_column(text_enum(GroupRating))
    commend: Mapped[bool] = mapped_column(Boolean, default=False)
    final: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RatingReceipt(db.Model):
    """That a member has rated a meeting — and nothing of what they said (see Rating)."""

    __tablename__ = "evaluations_rating_receipt"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)


class PendingRating(db.Model):
    """A rating held until enough others join it (``services.release_ratings``). Its row is written with
    the receipt, so the database links the two (same transaction id, same moment): what it says is
    therefore sealed (encrypted with a key only the application holds) and the row is deleted when
    the rating is released into ``Rating``. No author, no time, a random key."""

    __tablename__ = "evaluations_rating_pending"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[str] = mapped_column(Text)


class Rating(db.Model):
    """A member's rating of a meeting, kept apart from its receipt: a random key, no time, no author,
    written only in shuffled batches of several members' ratings, in a transaction of their own, so
    nothing (column, transaction id, row order) links a rating to the person who gave it."""

    __tablename__ = "evaluations_rating"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    preparation: Mapped[int] = mapped_column(Integer)
    content: Mapped[int] = mapped_column(Integer)
    discussion: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")


class Note(db.Model):
    """A commendation or a reminder given to a member, with its reason."""

    __tablename__ = "evaluations_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("scheduling_session.id", ondelete="SET NULL"))
    kind: Mapped[NoteKind] = mapped_column(text_enum(NoteKind))
    reason: Mapped[str] = mapped_column(Text)
    given_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class EvaluationOfficeSettings(db.Model):
    """What an office sets for itself: when a member counts as passive (either threshold), how its
    meetings are classified. Its
    documents' layout is the core's (``office`` columns, ``intranet.party_docx``)."""

    __tablename__ = "evaluations_office_settings"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    absences_per_quarter: Mapped[int] = mapped_column(Integer, default=2)  # absent without reason, in a quarter
    silent_meetings: Mapped[int] = mapped_column(Integer, default=3)  # present at the last N without a word
    # How meetings are classified: {"weights": {criterion: int}, "lines": {criterion: number},
    # "scale": [[label, lowest score %], …]}; None or a missing key keeps the defaults (classification.py).
    classification: Mapped[dict | None] = mapped_column(JSON)
