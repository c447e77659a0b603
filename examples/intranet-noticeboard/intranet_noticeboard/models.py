"""The plugin's one table. Its schema comes from this package's own migration branch (migrations/),
written with ``flask db new-revision noticeboard -m "…"``."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import DateTime, ForeignKey, String, select
from sqlalchemy.orm import Mapped, mapped_column

from intranet import live
from intranet.audit import record
from intranet.extensions import db
from intranet.refusals import ServiceError
from intranet.text import clean_text

MAX_LENGTH = 500


class Notice(db.Model):
    __tablename__ = "noticeboard_notice"  # <plugin>_<thing>, carrying office_id
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(MAX_LENGTH))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=lambda: datetime.now(UTC))


def channel(office_id: int) -> str:
    """The live bus channel of an office's board (views.py: the live region that shows it)."""
    return f"noticeboard:{office_id}"


def notices(office_id: int) -> list[Notice]:
    return list(
        db.session.scalars(
            select(Notice).where(Notice.office_id == office_id).order_by(Notice.created_at.desc(), Notice.id.desc())
        )
    )


def latest(office_id: int) -> Notice | None:
    found = notices(office_id)
    return found[0] if found else None


def post(office_id: int, text: str, actor) -> Notice:
    """Add a notice (the caller commits); refused (``ServiceError``) when the text is empty or too long."""
    text = clean_text(text)
    if not text or len(text) > MAX_LENGTH:
        raise ServiceError(_("Write a notice of at most %(count)d characters.", count=MAX_LENGTH), "text")
    notice = Notice(office_id=office_id, text=text, author_id=getattr(actor, "id", None))
    db.session.add(notice)
    db.session.flush()
    record("noticeboard.post", "noticeboard_notice", notice.id, office_id=office_id, actor=actor)
    live.publish_on_commit(channel(office_id))  # open boards re-render once the notice is saved
    return notice
