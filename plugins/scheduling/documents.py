"""Documents sent ahead: type checked by content (never by the name alone), size-limited, stored
outside the web root under a random name, text extracted for the preview, versions kept, first
opening per member recorded."""
from __future__ import annotations

import io
import os
import secrets
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from intranet.audit import record_change
from intranet.extensions import db
from intranet.text import clean_text

from .models import Document, DocumentKind, DocumentRead, Session
from .errors import SchedulingError

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
# What each kind of document may be, as recognised from the file's first bytes.
ALLOWED = {
    DocumentKind.REPORT: {DOCX, "application/pdf"},
    DocumentKind.SLIDES: {PPTX, "application/pdf"},
    DocumentKind.VIDEO: {"video/mp4", "video/webm"},
    DocumentKind.IMAGE: {"image/png", "image/jpeg", "image/gif", "image/webp"},
}
INLINE = {"application/pdf", "video/mp4", "video/webm", "image/png", "image/jpeg", "image/gif", "image/webp"}


def sniff(head: bytes, data: bytes) -> str | None:
    """The content type a file really has, from its bytes; None when it is none we accept."""
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return None
        if "word/document.xml" in names:
            return DOCX
        if "ppt/presentation.xml" in names:
            return PPTX
    return None


def extract_text(content_type: str, data: bytes) -> str:
    """Text for the preview: paragraphs of a .docx, slide titles and text of a .pptx. A file that claims
    to be one but cannot be read is refused as corrupt."""
    try:
        if content_type == DOCX:
            import docx

            document = docx.Document(io.BytesIO(data))
            return "\n".join(p.text for p in document.paragraphs if p.text.strip())
        if content_type == PPTX:
            from pptx import Presentation

            slides = []
            for number, slide in enumerate(Presentation(io.BytesIO(data)).slides, start=1):
                texts = [shape.text_frame.text.strip() for shape in slide.shapes
                         if shape.has_text_frame and shape.text_frame.text.strip()]
                slides.append(f"— {number} —\n" + "\n".join(texts))
            return "\n\n".join(slides)
    except Exception as exc:  # python-docx/pptx raise many types on damaged files
        raise SchedulingError(_("The file is damaged and cannot be opened (%(error)s).",
                                error=type(exc).__name__), "file") from exc
    return ""


def storage_dir() -> Path:
    path = Path(current_app.config.get("SCHEDULING_UPLOAD_DIR") or Path(current_app.instance_path) / "uploads")
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(document: Document) -> Path:
    return storage_dir() / document.stored_name


def upload(session: Session, kind: DocumentKind, filename: str, data: bytes, actor) -> Document:
    """Check and store one file; the caller commits, and on failure calls ``discard`` (or rolls back,
    which leaves an orphan file only if the process dies in between)."""
    limit = current_app.config["SCHEDULING_MAX_UPLOAD"]
    if not data:
        raise SchedulingError(_("The file is empty."), "file")
    if len(data) > limit:
        raise SchedulingError(_("The file is larger than %(mb)d MB.", mb=limit // (1024 * 1024)), "file")
    content_type = sniff(data[:16], data)
    if content_type not in ALLOWED[kind]:
        raise SchedulingError(_("This kind of file is not accepted here. Reports: .docx or PDF; slides: .pptx "
                                "or PDF; videos: MP4 or WebM; images: PNG, JPEG, GIF or WebP."), "file")
    text = extract_text(content_type, data)
    version = (db.session.scalar(select(func.max(Document.version)).where(
        Document.session_id == session.id, Document.kind == kind)) or 0) + 1
    stored = secrets.token_hex(16)
    target = storage_dir() / stored
    temporary = target.with_suffix(".part")
    temporary.write_bytes(data)
    os.replace(temporary, target)  # never a half-written file under the final name
    document = Document(office_id=session.office_id, session_id=session.id, kind=kind, version=version,
                        filename=clean_text(Path(filename).name)[:255] or "file", stored_name=stored, content_type=content_type,
                        size=len(data), preview_text=text, uploaded_by_id=actor.id)
    db.session.add(document)
    record_change("scheduling.document.upload", document, office_id=session.office_id, actor=actor,
                  kind=kind, version=version, filename=document.filename)
    return document


def discard(document: Document) -> None:
    """Remove the stored file of an upload whose transaction did not commit."""
    try:
        path_of(document).unlink()
    except FileNotFoundError:
        pass


def mark_read(document: Document, user) -> None:
    exists = db.session.scalar(select(DocumentRead.id).where(DocumentRead.document_id == document.id,
                                                             DocumentRead.user_id == user.id))
    if exists is None:
        db.session.add(DocumentRead(office_id=document.office_id, document_id=document.id, user_id=user.id))


@dataclass
class Shelf:
    latest: list[Document]
    older: list[Document]


def shelf(session: Session) -> Shelf:
    documents = db.session.scalars(select(Document).where(Document.session_id == session.id)
                                   .order_by(Document.kind, Document.version.desc())).all()
    latest, seen = [], set()
    for document in documents:
        if document.kind not in seen:
            seen.add(document.kind)
            latest.append(document)
    return Shelf(latest=latest, older=[d for d in documents if d not in latest])
