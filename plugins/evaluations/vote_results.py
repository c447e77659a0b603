"""The final counts of votes held in a meeting, as the votes plugin reports them through the
``intranet_session_vote_closed`` hook (a ``VoteResult``): kept per vote, in the meeting's office,
totals only — who voted how never reaches this plugin. What the documents make of them is
``documents.carry_vote``'s."""

from __future__ import annotations

from sqlalchemy import select

from intranet.audit import record as audit
from intranet.extensions import db
from intranet.text import clean_text
from intranet_scheduling.hookspecs import VoteResult
from intranet_scheduling.models import Meeting

from .models import VoteRecord

# A title typed by a chair lands in a document section the secretary may still edit (at most 20 000
# characters, documents.edit): kept well under it, so the section stays editable.
TITLE_MAX = 1000
LINE_MAX = 200


def _line(value: str, limit: int) -> str:
    value = clean_text(value)
    return value if len(value) <= limit else value[: limit - 1].rstrip() + "…"


def record(session: Meeting, result: VoteResult) -> VoteRecord:
    """Keep ``result`` for ``session``: a second report of the same vote replaces the first."""
    row = of(session, result.vote_id)
    if row is None:
        row = VoteRecord(office_id=session.office_id, session_id=session.id, vote_id=result.vote_id)
        db.session.add(row)
    row.subject = _line(result.subject, 40)
    row.title = _line(result.title, TITLE_MAX) or "…"
    row.secret = bool(result.secret)
    row.base_label = _line(result.base_label, LINE_MAX)
    for count in ("base", "eligible_present", "voted", "voted_on_paper", "in_favour", "against", "other"):
        setattr(row, count, max(0, int(getattr(result, count))))
    row.passed = bool(result.passed)
    row.sentence = _line(result.sentence, TITLE_MAX + LINE_MAX) or "…"
    row.counting_committee = [name for name in (_line(n, LINE_MAX) for n in result.counting_committee) if name]
    row.closed_at = result.closed_at
    db.session.flush()
    audit(
        "evaluations.vote.record",
        VoteRecord.__tablename__,
        row.id,
        office_id=session.office_id,
        vote_id=row.vote_id,
        passed=row.passed,
    )
    return row


def of(session: Meeting, vote_id: int) -> VoteRecord | None:
    return db.session.scalar(
        select(VoteRecord).where(VoteRecord.session_id == session.id, VoteRecord.vote_id == vote_id)
    )


def of_meeting(session: Meeting) -> list[VoteRecord]:
    """The meeting's votes in the order they closed."""
    return list(
        db.session.scalars(
            select(VoteRecord).where(VoteRecord.session_id == session.id).order_by(VoteRecord.closed_at, VoteRecord.id)
        )
    )


def latest_on_resolution(votes: list[VoteRecord]) -> VoteRecord | None:
    """The vote that decides the resolution: the last one held on it (a failed vote may be retaken)."""
    return next((v for v in reversed(votes) if v.subject == "resolution"), None)
