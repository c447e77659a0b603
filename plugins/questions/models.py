"""Question-queue tables: per-meeting settings, questions, votes, the speakers list. Every table is
``questions_*`` and carries ``office_id``; a meeting is the scheduling plugin's ``Meeting``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.extensions import db
from intranet.models import User, UTCDateTime, text_enum, utcnow


class Anonymity(str, enum.Enum):
    """Who sees a question's author, from the most open to the most closed."""

    NAMED = "named"  # everyone
    CHAIR_ONLY = "chair"  # the chair; other members see no name
    ANONYMOUS = "anonymous"  # nobody, the chair included (the author sees their own questions)

    @property
    def rank(self) -> int:
        return list(Anonymity).index(self)


class QuestionStatus(str, enum.Enum):
    PENDING = "pending"  # waiting for the chair's approval (pre-moderation)
    OPEN = "open"
    ANSWERED = "answered"
    HIDDEN = "hidden"
    MERGED = "merged"  # a duplicate folded into another question


class Sort(str, enum.Enum):
    VOTES = "votes"
    TIME = "time"


class SpeakerState(str, enum.Enum):
    WAITING = "waiting"
    SPEAKING = "speaking"
    DONE = "done"
    WITHDRAWN = "withdrawn"


class SpeakerSource(str, enum.Enum):
    QUEUE = "queue"  # raised a hand on the queue page
    ROOM = "room"  # raised a hand in the online room
    HALL = "hall"  # the chair added someone speaking in the hall


class QueueSettings(db.Model):
    """The chair's choices for one meeting; a row appears when the chair first saves them."""

    __tablename__ = "questions_settings"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    anonymity: Mapped[Anonymity] = mapped_column(text_enum(Anonymity), default=Anonymity.CHAIR_ONLY)
    premoderation: Mapped[bool] = mapped_column(Boolean, default=False)
    sort: Mapped[Sort] = mapped_column(text_enum(Sort), default=Sort.VOTES)
    quiet_first: Mapped[bool] = mapped_column(Boolean, default=True)
    open_limit: Mapped[int] = mapped_column(Integer, default=3)
    # Someone the secretary names to chair this meeting besides the secretary and the deputies.
    chair_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # The question the chair put on screen; a plain id, checked against the meeting when read.
    current_question_id: Mapped[int | None] = mapped_column(Integer)

    chair: Mapped[User | None] = relationship()


class Question(db.Model):
    __tablename__ = "questions_question"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    # Always stored (for "my questions", the open-question limit and self-votes); shown per ``anonymity``.
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    # The meeting's setting when asked: a later, more open setting never reveals an earlier author.
    anonymity: Mapped[Anonymity] = mapped_column(text_enum(Anonymity))
    through_chair: Mapped[bool] = mapped_column(Boolean, default=False)
    # None: to the presenting group; otherwise one of the meeting's discussion questions.
    discussion_question_id: Mapped[int | None] = mapped_column(
        ForeignKey("scheduling_discussion_question.id", ondelete="SET NULL")
    )
    from_report: Mapped[bool] = mapped_column(Boolean, default=False)  # asked about the documents beforehand
    text: Mapped[str] = mapped_column(Text)
    original_text: Mapped[str | None] = mapped_column(Text)  # kept when the chair corrects a typo
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[QuestionStatus] = mapped_column(text_enum(QuestionStatus), default=QuestionStatus.OPEN)
    hidden_reason: Mapped[str] = mapped_column(String(300), default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("questions_question.id", ondelete="SET NULL"))
    votes: Mapped[int] = mapped_column(Integer, default=0)  # kept equal to the vote rows, for ordering
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship()


class Vote(db.Model):
    __tablename__ = "questions_vote"

    question_id: Mapped[int] = mapped_column(ForeignKey("questions_question.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Speaker(db.Model):
    """One turn on the speakers list: a raised hand, then the floor, then done."""

    __tablename__ = "questions_speaker"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions_question.id", ondelete="SET NULL"))
    source: Mapped[SpeakerSource] = mapped_column(text_enum(SpeakerSource), default=SpeakerSource.QUEUE)
    state: Mapped[SpeakerState] = mapped_column(text_enum(SpeakerState), default=SpeakerState.WAITING)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
    question: Mapped[Question | None] = relationship()

    def seconds(self, now: datetime | None = None) -> int:
        if self.started_at is None:
            return 0
        return int(((self.ended_at or now or utcnow()) - self.started_at).total_seconds())
