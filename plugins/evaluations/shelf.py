"""The versions of a meeting's minutes, resolution and tally reports (one per secret ballot, by its
``vote_id``), newest first: a signed version is never
changed, a correction is a new version. Read by the services (nothing changes once signed) and by
the documents module that drafts and signs them."""

from __future__ import annotations

from sqlalchemy import select

from intranet.extensions import db
from intranet_scheduling.models import Meeting

from .models import CellDocument as Document
from .models import DocumentKind


def versions(session: Meeting, kind: str, vote_id: int = 0) -> list[Document]:
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.session_id == session.id, Document.kind == DocumentKind(kind), Document.vote_id == vote_id)
            .order_by(Document.version.desc())
        )
    )


def current(session: Meeting, kind: str, vote_id: int = 0) -> Document | None:
    found = versions(session, kind, vote_id)
    return found[0] if found else None


def signed_minutes(session: Meeting) -> Document | None:
    document = current(session, "minutes")
    return document if document is not None and document.signed_at is not None else None
