"""Documents sent ahead: checked through ``intranet.uploads`` (real structure, never the name; no zip
bomb; a preview cut at a bound), stored outside the web root under a random name, versions kept, first
opening per member recorded."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from intranet import uploads
from intranet.audit import record_change
from intranet.extensions import db
from intranet.filetypes import DOCX, IMAGES, MP4, PDF, PPTX, WEBM
from intranet.refusals import ServiceError
from intranet.text import clean_text

from .models import Document, DocumentKind, DocumentRead, Meeting

# What each kind of document may be, as ``intranet.filetypes`` recognises it from its structure.
ALLOWED = {
    DocumentKind.REPORT: {DOCX, PDF},
    DocumentKind.SLIDES: {PPTX, PDF},
    DocumentKind.VIDEO: {MP4, WEBM},
    DocumentKind.IMAGE: set(IMAGES.values()),
}
# Concurrent uploads of one kind race for the next version number. Each lost race means another upload
# took a number, so an upload loses at most once per upload running beside it.
VERSION_ATTEMPTS = 20


def storage_dir() -> Path:
    path = Path(current_app.config.get("SCHEDULING_UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(document: Document) -> Path:
    return storage_dir() / document.stored_name


def upload(meeting: Meeting, kind: DocumentKind, filename: str, data: bytes, actor) -> Document:
    """Check and store one file as the next version of its kind, and commit (call it with nothing else
    pending: a lost race rolls the transaction back). Two uploads racing for a version number: the
    unique (session, kind, version) constraint stops the second, which takes the next number. Nothing
    is left behind on a refusal or a failure."""
    try:
        inspected = uploads.inspect(
            data,
            ALLOWED[kind],
            current_app.config["SCHEDULING_MAX_UPLOAD"],
            _(
                "This kind of file is not accepted here. Reports: .docx or PDF; slides: .pptx or PDF; videos: MP4 "
                "or WebM; images: PNG, JPEG, GIF or WebP."
            ),
        )
    except uploads.UploadRefused as exc:
        raise ServiceError(str(exc), "file") from exc
    stored = secrets.token_hex(16)
    target = storage_dir() / stored
    temporary = target.with_suffix(".part")
    temporary.write_bytes(data)
    os.replace(temporary, target)  # never a half-written file under the final name
    try:
        return _add_version(
            meeting,
            kind,
            actor,
            stored_name=stored,
            filename=clean_text(Path(filename).name)[:255] or "file",
            content_type=inspected.content_type,
            size=len(data),
            preview=inspected.preview.blocks,
            preview_cut=inspected.preview.cut,
        )
    except BaseException:
        db.session.rollback()
        target.unlink(missing_ok=True)
        raise


def _add_version(meeting: Meeting, kind: DocumentKind, actor, **fields) -> Document:
    for attempt in range(1, VERSION_ATTEMPTS + 1):
        version = (
            db.session.scalar(
                select(func.max(Document.version)).where(Document.session_id == meeting.id, Document.kind == kind)
            )
            or 0
        ) + 1
        document = Document(
            office_id=meeting.office_id,
            session_id=meeting.id,
            kind=kind,
            version=version,
            uploaded_by_id=actor.id,
            **fields,
        )
        db.session.add(document)
        try:
            record_change(
                "scheduling.document.upload",
                document,
                office_id=meeting.office_id,
                actor=actor,
                kind=kind,
                version=version,
                filename=document.filename,
            )  # flushes: the conflict shows
            db.session.commit()
            return document
        except IntegrityError:
            db.session.rollback()
            if attempt == VERSION_ATTEMPTS:
                raise


def mark_read(document: Document, user) -> None:
    exists = db.session.scalar(
        select(DocumentRead.id).where(DocumentRead.document_id == document.id, DocumentRead.user_id == user.id)
    )
    if exists is None:
        db.session.add(DocumentRead(office_id=document.office_id, document_id=document.id, user_id=user.id))


@dataclass
class Shelf:
    latest: list[Document]
    older: list[Document]


def shelf(meeting: Meeting) -> Shelf:
    documents = db.session.scalars(
        select(Document).where(Document.session_id == meeting.id).order_by(Document.kind, Document.version.desc())
    ).all()
    latest, seen = [], set()
    for document in documents:
        if document.kind not in seen:
            seen.add(document.kind)
            latest.append(document)
    return Shelf(latest=latest, older=[d for d in documents if d not in latest])
