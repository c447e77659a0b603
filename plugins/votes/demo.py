"""Demo record for `make run`: each closed thematic meeting of the demo year adopted its resolution by
an open vote of the official members present (written as it would have been: a closed meeting takes
no more votes). It is written without calling ``intranet_session_vote_closed``: the demo's minutes are
the evaluations plugin's own demo."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from intranet.extensions import db
from intranet_scheduling.models import Meeting, SessionKind, SessionStatus

from . import rules, services
from .models import Choice, Status, Subject, Vote, Voter


def seed(office, people, actor) -> None:
    closed = db.session.scalars(
        select(Meeting).where(
            Meeting.office_id == office.id, Meeting.kind == SessionKind.THEMATIC, Meeting.status == SessionStatus.CLOSED
        )
    )
    official = len(services.official_members(office.id))
    threshold = rules.DEFAULTS[Subject.RESOLUTION]
    for meeting in closed:
        present = services.eligible_present(meeting)
        if not present:
            continue
        against = present[-1:] if len(present) > 3 else []  # one member disagreed, as happens
        in_favour = len(present) - len(against)
        closed_at = meeting.starts_at + timedelta(minutes=meeting.duration_minutes - 10)
        passed = threshold.passes(in_favour, official)
        vote = Vote(
            office_id=office.id,
            session_id=meeting.id,
            subject=Subject.RESOLUTION,
            title=f"Nghị quyết chuyên đề “{meeting.title}”",
            secret=False,
            base=threshold.base,
            numerator=threshold.numerator,
            denominator=threshold.denominator,
            strict=threshold.strict,
            status=Status.FINAL,
            opened_by_id=actor.id,
            opened_at=closed_at - timedelta(minutes=5),
            closes_at=closed_at,
            closed_at=closed_at,
            base_count=official,
            eligible_present=len(present),
            voted=len(present),
            voted_on_paper=0,
            in_favour=in_favour,
            against=len(against),
            other=0,
            passed=passed,
            sentence=rules.sentence(Subject.RESOLUTION, passed, in_favour, threshold.base, official),
        )
        db.session.add(vote)
        db.session.flush()
        db.session.add_all(
            Voter(
                vote_id=vote.id,
                user_id=member.id,
                office_id=office.id,
                choice=Choice.AGAINST if member in against else Choice.FOR,
                recorded_by_id=member.id,
            )
            for member in present
        )
