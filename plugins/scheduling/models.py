"""Scheduling tables: topic catalogue, yearly programme, sessions, presenting groups, discussion
questions, attendance. Every table is ``scheduling_*`` and carries ``office_id``."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.extensions import db
from intranet.models import Office, User, UTCDateTime, text_enum, utcnow


class ProgrammeStatus(str, enum.Enum):
    DRAFT = "draft"
    APPROVED = "approved"


class SessionKind(str, enum.Enum):
    REGULAR = "regular"
    THEMATIC = "thematic"


class SessionMode(str, enum.Enum):
    IN_PERSON = "in_person"
    ONLINE = "online"
    HYBRID = "hybrid"


class SessionStatus(str, enum.Enum):
    PLANNED = "planned"
    DOCUMENTS_SENT = "documents_sent"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class Answer(str, enum.Enum):
    ATTEND = "attend"
    ONLINE = "online"
    EXCUSED = "excused"


class TopicGroup(db.Model):
    __tablename__ = "scheduling_topic_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Programme(db.Model):
    __tablename__ = "scheduling_programme"
    __table_args__ = (UniqueConstraint("office_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[ProgrammeStatus] = mapped_column(text_enum(ProgrammeStatus), default=ProgrammeStatus.DRAFT)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Office] = relationship()
    approved_by: Mapped[User | None] = relationship()
    items: Mapped[list[ProgrammeItem]] = relationship(
        back_populates="programme", cascade="all, delete-orphan", order_by="(ProgrammeItem.quarter, ProgrammeItem.id)"
    )


class ProgrammeItem(db.Model):
    __tablename__ = "scheduling_programme_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    programme_id: Mapped[int] = mapped_column(ForeignKey("scheduling_programme.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[int] = mapped_column(Integer)
    topic_group_id: Mapped[int] = mapped_column(ForeignKey("scheduling_topic_group.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(300))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    programme: Mapped[Programme] = relationship(back_populates="items")
    topic_group: Mapped[TopicGroup] = relationship()
    lead: Mapped[User | None] = relationship()


class Meeting(db.Model):
    """One meeting of the cell (table ``scheduling_session``: the domain says "session", the code says meeting)."""

    __tablename__ = "scheduling_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    kind: Mapped[SessionKind] = mapped_column(text_enum(SessionKind))
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    duration_minutes: Mapped[int] = mapped_column(Integer, default=90)
    place: Mapped[str] = mapped_column(String(300), default="")
    mode: Mapped[SessionMode] = mapped_column(text_enum(SessionMode), default=SessionMode.IN_PERSON)
    # Set while distancing mode turned this in-person session online, so it can be turned back.
    mode_before_distancing: Mapped[SessionMode | None] = mapped_column(text_enum(SessionMode))
    status: Mapped[SessionStatus] = mapped_column(text_enum(SessionStatus), default=SessionStatus.PLANNED)
    programme_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("scheduling_programme_item.id", ondelete="SET NULL")
    )
    report_due: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # when it was actually closed (the minutes say so)

    office: Mapped[Office] = relationship()
    programme_item: Mapped[ProgrammeItem | None] = relationship()
    group: Mapped[list[GroupMember]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="(GroupMember.is_lead.desc(), GroupMember.id)"
    )
    questions: Mapped[list[DiscussionQuestion]] = relationship(
        back_populates="session", cascade="all, delete-orphan", order_by="DiscussionQuestion.position"
    )
    attendance: Mapped[list[Attendance]] = relationship(back_populates="session", cascade="all, delete-orphan")


class GroupMember(db.Model):
    __tablename__ = "scheduling_group_member"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    is_lead: Mapped[bool] = mapped_column(Boolean, default=False)

    session: Mapped[Meeting] = relationship(back_populates="group")
    user: Mapped[User] = relationship()


class DiscussionQuestion(db.Model):
    __tablename__ = "scheduling_discussion_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    text: Mapped[str] = mapped_column(Text)

    session: Mapped[Meeting] = relationship(back_populates="questions")


class Attendance(db.Model):
    """A member's answer before the meeting and, once taken, whether they were present."""

    __tablename__ = "scheduling_attendance"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    answer: Mapped[Answer | None] = mapped_column(text_enum(Answer))
    reason: Mapped[str] = mapped_column(String(500), default="")
    present: Mapped[bool | None] = mapped_column(Boolean)
    taken_by: Mapped[str] = mapped_column(String(24), default="")  # "chair" or the plugin that reported it

    session: Mapped[Meeting] = relationship(back_populates="attendance")
    user: Mapped[User] = relationship()


class SchedulingOfficeSettings(db.Model):
    """What an office sets for its meetings: distancing mode and the quorum (the questions plugin's settings are
    per meeting, the evaluations plugin's per office for its reviews)."""

    __tablename__ = "scheduling_office_settings"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    distancing: Mapped[bool] = mapped_column(Boolean, default=False)
    # Quorum: strictly more than this share of the official members present (the guidance: half).
    quorum_percent: Mapped[int] = mapped_column(Integer, default=50, server_default="50")


class CalendarToken(db.Model):
    """A user's private calendar feed. Only a hash is kept: the URL is shown once, like a password."""

    __tablename__ = "scheduling_calendar_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()


class DocumentKind(str, enum.Enum):
    REPORT = "report"
    SLIDES = "slides"
    VIDEO = "video"
    IMAGE = "image"


class Document(db.Model):
    """One uploaded version of a meeting document; the file lives outside the web root under a random
    name, and its text is extracted once for the in-browser preview."""

    __tablename__ = "scheduling_document"
    # Two uploads racing for the next version: the second fails here and takes the number after.
    __table_args__ = (UniqueConstraint("session_id", "kind", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DocumentKind] = mapped_column(text_enum(DocumentKind))
    version: Mapped[int] = mapped_column(Integer, default=1)
    filename: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    preview: Mapped[list] = mapped_column(JSON, default=list)  # previews.Preview.blocks: paragraphs and tables
    preview_cut: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )  # the document has more text than the preview
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    session: Mapped[Meeting] = relationship()
    uploaded_by: Mapped[User | None] = relationship()
    reads: Mapped[list[DocumentRead]] = relationship(back_populates="document", cascade="all, delete-orphan")


class DocumentRead(db.Model):
    """When a member first opened a document (the secretary's read receipts)."""

    __tablename__ = "scheduling_document_read"
    __table_args__ = (UniqueConstraint("document_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("scheduling_document.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    document: Mapped[Document] = relationship(back_populates="reads")


class MemberQuestion(db.Model):
    """A question a member asks about the report before the meeting, for the group to prepare.

    ``anonymity`` is the meeting's mode when it was asked, as the question queue answers
    ``intranet_session_anonymity`` ("named", "chair" or "anonymous"; "named" without a queue). A fully
    anonymous question is stored without its author."""

    __tablename__ = "scheduling_member_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    anonymity: Mapped[str] = mapped_column(String(16), default="named")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User | None] = relationship()
