"""Minutes (biên bản) and resolution (nghị quyết) of a meeting, and the counting committee's report
(biên bản kiểm phiếu) of each secret ballot: drafted from the meeting's record (and its votes' counts),
edited, signed by the secretary, corrected only by a new version; exported as .docx in the party's
document format (python-docx) and as PDF when LibreOffice is installed.

The documents are Vietnamese party documents whatever language the reader's screen is in, so their
wording lives here in Vietnamese (``formats.py``) rather than in the UI catalogue."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from intranet import days, party_docx
from intranet.audit import record as audit
from intranet.extensions import db
from intranet.models import Office, utcnow
from intranet.plugins import manager
from intranet.refusals import ServiceError
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionKind, SessionStatus

from . import formats, vote_results
from .models import CellDocument as Document
from .models import DocumentKind, VoteRecord
from .services import (
    checked_text,
    drafter_or_refuse,
    office_settings,
    overdue_tasks,
    record_for,
    secretary_or_refuse,
    tasks,
)
from .shelf import current

SECTION_MAX = 20000  # characters typed into one section

# --- drafting ---------------------------------------------------------------------------------------


def gather(session: Meeting) -> dict:
    """Everything the documents say about the meeting, read afresh from the record and the hooks."""
    office = db.session.get(Office, session.office_id)
    record = record_for(session)
    summary = scheduling.summary(session)
    hooks = manager().for_office(session.office_id)
    discussion = {"questions": [], "speakers": []}
    for part in hooks.intranet_session_discussion(session=session):
        if part:
            discussion["questions"] += part.get("questions", [])
            discussion["speakers"] += part.get("speakers", [])
    guests = [guest for part in hooks.intranet_session_guests(session=session) for guest in (part or [])]
    reports = [d.filename for d in scheduling_documents(session)]
    return {
        "session": session,
        "office": office,
        "record": record,
        "summary": summary,
        "discussion": discussion,
        "guests": guests,
        "tasks": tasks(session),
        "settings": office_settings(office.id),
        "reports": reports,
        "overdue": overdue_tasks(office.id, days.day_of(session.starts_at), before=session),
        "votes": vote_results.of_meeting(session),
    }


def scheduling_documents(session: Meeting):
    from intranet_scheduling.models import Document as SchedulingDocument

    return db.session.scalars(
        select(SchedulingDocument)
        .where(SchedulingDocument.session_id == session.id)
        .order_by(SchedulingDocument.kind, SchedulingDocument.version.desc())
    )


def draft(session: Meeting, kind: str, actor, vote_id: int = 0) -> Document:
    """Make (or remake, while unsigned) the draft from the meeting's record; a tally report from the
    count of the secret ballot ``vote_id``."""
    drafter_or_refuse(actor, session)
    if kind == "tally":
        vote = vote_results.of(session, vote_id)
        if vote is None or not vote.secret:
            raise ServiceError(_("There is no secret ballot to report on."))
        return _write(session, kind, _tally(session, vote), actor, vote_id)
    if session.status != SessionStatus.CLOSED:
        raise ServiceError(_("The documents are drafted once the meeting is closed."))
    if kind == "resolution" and session.kind != SessionKind.THEMATIC:
        raise ServiceError(_("A resolution is adopted at a thematic meeting."))
    facts = gather(session)
    return _write(session, kind, formats.minutes(facts) if kind == "minutes" else formats.resolution(facts), actor)


def _tally(session: Meeting, vote: VoteRecord) -> dict:
    return formats.tally(db.session.get(Office, session.office_id), session, vote)


def _write(session: Meeting, kind: str, content: dict, actor, vote_id: int = 0) -> Document:
    existing = current(session, kind, vote_id)
    if existing is not None and existing.signed_at is not None:
        raise ServiceError(_("This document is signed: correct it instead."))
    title = content.pop("title")
    if existing is None:
        existing = Document(
            office_id=session.office_id, session_id=session.id, kind=DocumentKind(kind), vote_id=vote_id, version=1
        )
        db.session.add(existing)
    existing.title, existing.content = title, content
    existing.updated_by_id, existing.updated_at = getattr(actor, "id", None), utcnow()
    db.session.flush()
    audit(
        f"evaluations.{kind}.draft",
        Document.__tablename__,
        existing.id,
        office_id=session.office_id,
        actor=actor,
        vote_id=vote_id or None,
    )
    return existing


def carry_vote(session: Meeting, vote: VoteRecord) -> None:
    """A vote's final count has arrived (the ``intranet_session_vote_closed`` hook): the unsigned
    minutes and resolution take it into their votes' section, their other sections as the secretary
    left them; a secret ballot's tally report is drafted (redrafted while unsigned). Signed versions
    are never touched: a late result reaches them through a correction."""
    votes = vote_results.of_meeting(session)
    start = days.local(session.starts_at)
    for kind in ("minutes", "resolution"):
        document = current(session, kind)
        if document is None or document.signed_at is not None:
            continue
        sections = formats.with_votes(kind, document.content["sections"], votes, start)
        if sections != document.content["sections"]:
            document.content = {**document.content, "sections": sections}
            document.updated_at = utcnow()
            audit(
                f"evaluations.{kind}.vote",
                Document.__tablename__,
                document.id,
                office_id=session.office_id,
                vote_id=vote.vote_id,
            )
    if vote.secret:
        tally = current(session, "tally", vote.vote_id)
        if tally is None or tally.signed_at is None:
            _write(session, "tally", _tally(session, vote), None, vote.vote_id)


def edit(document: Document, actor, texts: list[str]) -> None:
    """Change the text of the sections of an unsigned draft."""
    session = db.session.get(Meeting, document.session_id)
    drafter_or_refuse(actor, session)
    if document.signed_at is not None:
        raise ServiceError(_("This document is signed: correct it instead."))
    document.content = _with_texts(document.content, texts)
    document.updated_by_id, document.updated_at = actor.id, utcnow()
    audit(
        f"evaluations.{document.kind.value}.edit",
        Document.__tablename__,
        document.id,
        office_id=document.office_id,
        actor=actor,
    )


def _with_texts(content: dict, texts: list[str]) -> dict:
    sections = content["sections"]
    if len(texts) != len(sections):
        raise ServiceError(_("The document changed while you edited it. Reload the page."))
    # A section may stay as long as the draft wrote it: the vote section of a meeting with many votes
    # can outgrow what anyone would type, and must still save.
    cleaned = [
        checked_text(t, "sections", required=False, limit=max(SECTION_MAX, len(s["text"])))
        for s, t in zip(sections, texts)
    ]
    return {**content, "sections": [{**s, "text": t} for s, t in zip(sections, cleaned)]}


def unsignable(document: Document) -> str | None:
    """Why this draft may not be signed yet, or None: a resolution whose meeting's latest vote on it
    failed stays a draft (a meeting that held no such vote signs as before)."""
    if document.kind != DocumentKind.RESOLUTION:
        return None
    session = db.session.get(Meeting, document.session_id)
    decisive = vote_results.latest_on_resolution(vote_results.of_meeting(session))
    if decisive is not None and not decisive.passed:
        return _("The resolution was not adopted: the meeting's latest vote on it failed, so it stays a draft.")
    return None


def sign(document: Document, actor) -> None:
    session = db.session.get(Meeting, document.session_id)
    secretary_or_refuse(actor, session)
    if document.signed_at is not None:
        raise ServiceError(_("This document is already signed."))
    refusal = unsignable(document)
    if refusal:
        raise ServiceError(refusal)
    if document.kind == DocumentKind.RESOLUTION and document.number is None:
        document.number = _next_number(document)
    document.signed_by_id, document.signed_at = actor.id, utcnow()
    audit(
        f"evaluations.{document.kind.value}.sign",
        Document.__tablename__,
        document.id,
        office_id=document.office_id,
        actor=actor,
        version=document.version,
        number=document.number,
    )


def _next_number(document: Document) -> int:
    """Resolutions are numbered per office and calendar year (the term's numbering restarts with it)."""
    year = utcnow().year
    # The office's row lock first, then max + 1 in a later statement: two resolutions signed at once
    # get two numbers (the rule for every stored count or number: docs/security/ingest.md).
    db.session.execute(select(Office.id).where(Office.id == document.office_id).with_for_update(key_share=True))
    used = db.session.scalar(
        select(func.max(Document.number)).where(
            Document.office_id == document.office_id,
            Document.kind == DocumentKind.RESOLUTION,
            func.extract("year", Document.signed_at) == year,
        )
    )
    return (used or 0) + 1


def correct(document: Document, actor, texts: list[str], reason: str) -> Document:
    """A signed document's only way to change: a new signed version with the reason; the earlier stays."""
    session = db.session.get(Meeting, document.session_id)
    secretary_or_refuse(actor, session)
    if document.signed_at is None:
        raise ServiceError(_("This document is not signed yet: edit it."))
    if document.id != current(session, document.kind.value, document.vote_id).id:
        raise ServiceError(_("Correct the newest version."))
    reason = checked_text(reason, "reason", limit=1000)
    now = utcnow()
    corrected = Document(
        office_id=document.office_id,
        session_id=document.session_id,
        kind=document.kind,
        vote_id=document.vote_id,
        version=document.version + 1,
        number=document.number,
        title=document.title,
        content=_with_texts(document.content, texts),
        signed_by_id=actor.id,
        signed_at=now,
        correction_reason=reason,
        updated_by_id=actor.id,
        updated_at=now,
    )
    db.session.add(corrected)
    db.session.flush()
    audit(
        f"evaluations.{document.kind.value}.correct",
        Document.__tablename__,
        corrected.id,
        office_id=document.office_id,
        actor=actor,
        previous_version=document.version,
        reason=reason,
    )
    return corrected


# --- export -----------------------------------------------------------------------------------------


def to_docx(document: Document) -> bytes:
    from .docx_format import build

    return party_docx.to_bytes(build(document, db.session.get(Office, document.office_id)))
