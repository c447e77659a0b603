"""Votes tables: the office's rule per kind of vote, the votes held in meetings, who voted (and, in an
open vote, how), the counting committee, and a secret ballot's ballots — held sealed while the vote is
open, written without author, time or order when it closes. Every table is ``votes_*`` and carries
``office_id``; a meeting is the scheduling plugin's ``Meeting``."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.extensions import db
from intranet.models import User, UTCDateTime, text_enum, utcnow
from intranet_scheduling.models import Meeting


class Subject(str, enum.Enum):
    """What is voted on: each kind has the office's rule (``Rule``), else the defaults in ``rules.py``."""

    RESOLUTION = "resolution"
    MOTION = "motion"
    ADMISSION = "admission"
    OFFICIAL_MEMBERSHIP = "official_membership"
    COMMENDATION = "commendation"
    DISCIPLINE = "discipline"


class Form(str, enum.Enum):
    """The form a kind of vote requires; ``EITHER`` lets the chair choose when opening."""

    OPEN = "open"
    SECRET = "secret"
    EITHER = "either"


class Base(str, enum.Enum):
    """What the threshold is a share of."""

    OFFICIAL = "official"  # the cell's official members, present or not
    PRESENT = "present"  # the official members present (eligible to vote) when the vote closes


class Status(str, enum.Enum):
    OPEN = "open"  # ballots are taken
    COUNTING = "counting"  # a secret ballot closed: the counting committee enters the paper tally and confirms
    FINAL = "final"  # the count is final and went to the minutes (intranet_session_vote_closed)


class Choice(str, enum.Enum):
    FOR = "for"
    AGAINST = "against"
    OTHER = "other"  # other opinions; on a secret ballot, a blank ballot


def _random_id() -> str:
    return uuid.uuid4().hex


class Rule(db.Model):
    """An office's rule for one kind of vote, stored once its secretary changes the defaults."""

    __tablename__ = "votes_rule"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    subject: Mapped[Subject] = mapped_column(text_enum(Subject), primary_key=True)
    form: Mapped[Form] = mapped_column(text_enum(Form))
    base: Mapped[Base] = mapped_column(text_enum(Base))
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int] = mapped_column(Integer)
    strict: Mapped[bool] = mapped_column(Boolean)  # "more than" the share; else "at least"


class MeetingChair(db.Model):
    """The member the secretary named to chair a meeting's votes, besides those who hold ``votes.conduct``."""

    __tablename__ = "votes_meeting_chair"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))

    user: Mapped[User] = relationship()


class Vote(db.Model):
    """One vote in a meeting, with the rule it was opened under (a later change of the office's rule
    does not change it) and, once final, its count."""

    __tablename__ = "votes_vote"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    subject: Mapped[Subject] = mapped_column(text_enum(Subject))
    title: Mapped[str] = mapped_column(String(500))
    secret: Mapped[bool] = mapped_column(Boolean)
    base: Mapped[Base] = mapped_column(text_enum(Base))
    numerator: Mapped[int] = mapped_column(Integer)
    denominator: Mapped[int] = mapped_column(Integer)
    strict: Mapped[bool] = mapped_column(Boolean)
    live_counts: Mapped[bool] = mapped_column(Boolean, default=False)  # an open vote's counts shown while it runs
    status: Mapped[Status] = mapped_column(text_enum(Status), default=Status.OPEN)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)  # ballots after this are refused, closed or not
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The paper ballots' tally, entered by the counting committee (secret ballots).
    paper_for: Mapped[int | None] = mapped_column(Integer)
    paper_against: Mapped[int | None] = mapped_column(Integer)
    paper_other: Mapped[int | None] = mapped_column(Integer)
    tally_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # The final count (status FINAL): what VoteResult carries; the base and those present are set at closing.
    base_count: Mapped[int | None] = mapped_column(Integer)
    eligible_present: Mapped[int | None] = mapped_column(Integer)
    voted: Mapped[int | None] = mapped_column(Integer)
    voted_on_paper: Mapped[int | None] = mapped_column(Integer)
    in_favour: Mapped[int | None] = mapped_column(Integer)
    against: Mapped[int | None] = mapped_column(Integer)
    other: Mapped[int | None] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(Boolean)
    sentence: Mapped[str] = mapped_column(Text, default="")

    session: Mapped[Meeting] = relationship()
    committee: Mapped[list[Counter]] = relationship(cascade="all, delete-orphan", order_by="Counter.position")


class Counter(db.Model):
    """A member of a secret ballot's counting committee (ban kiểm phiếu), named by the chair; position 0 heads it."""

    __tablename__ = "votes_counter"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes_vote.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)

    user: Mapped[User] = relationship(lazy="joined")


class Voter(db.Model):
    """That a member voted: one row per member and vote (the primary key refuses a second, however the
    two race). In an open vote it says how (``choice``) and who recorded it (the member, or the chair
    for a hand raised in the hall). In a secret ballot it holds no choice: ``on_paper`` when the
    committee handed the member a paper ballot, else the receipt code shown to them, which the list of
    counted codes names after closing (without choices)."""

    __tablename__ = "votes_voter"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes_vote.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    choice: Mapped[Choice | None] = mapped_column(text_enum(Choice))
    on_paper: Mapped[bool] = mapped_column(Boolean, default=False)
    code: Mapped[str | None] = mapped_column(String(16))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class HeldBallot(db.Model):
    """A secret ballot cast online while the vote is open. Its row is written with the voter's, so the
    database links the two (same transaction id, neighbouring rows): what it says is sealed, and the
    row is deleted when the vote closes and its contents are written, shuffled, into ``Ballot`` and
    ``CountedCode``. No author, no time, a random key."""

    __tablename__ = "votes_held"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes_vote.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[str] = mapped_column(Text)


class Ballot(db.Model):
    """A secret ballot's choice, written when the vote closes in one shuffled batch of all its ballots,
    in a transaction that wrote no voter: a random key, no time, no author, no code."""

    __tablename__ = "votes_ballot"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=_random_id)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("votes_vote.id", ondelete="CASCADE"), index=True)
    choice: Mapped[Choice] = mapped_column(text_enum(Choice))


class CountedCode(db.Model):
    """A receipt code whose ballot was counted, published after closing (sorted, without its choice)."""

    __tablename__ = "votes_counted_code"

    vote_id: Mapped[int] = mapped_column(ForeignKey("votes_vote.id", ondelete="CASCADE"), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
