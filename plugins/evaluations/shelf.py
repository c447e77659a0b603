"""The versions of a meeting's minutes and resolution, newest first: a signed version is never
changed, a correction is a new version. Read by the services (nothing changes once signed) and by
the documents module that drafts and signs them."""

from __future__ import annotations

from sqlalchemy import select

from intranet.extensions import db
from intranet_scheduling.models import Meeting

from .models import CellDocument as Document
from .models import DocumentKind


def versions(session: Meeting, kind: str) -> list[Document]:
    return list(
        db.session.scalars(
            select(Document)
            .where(Document.session_id == session.id, Document.kind == DocumentKind(kind))
            .order_by(Document.version.desc())
        )
    )


def current(session: Meeting, kind: str) -> Document | None:
    found = versions(session, kind)
    return found[0] if found else None


def signed_minutes(session: Meeting) -> Document | None:
    document = current(session, "minutes")
    return document if document is not None and document.signed_at is not None else None
