"""In-app notifications (the bell) and e-mail through SMTP when configured. A core service because
every plugin needs it: scheduling reminds, evaluations commend and remind.

``notify`` adds the rows to the caller's transaction; e-mails go out after the commit (``send_pending``
is called by the request teardown and by the CLI), so a rolled-back change sends nothing.
"""

from __future__ import annotations

import secrets
import smtplib
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from email.message import EmailMessage

from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, event, func, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from .extensions import db
from .models import User, UTCDateTime, utcnow
from .security import local_path, same_site_path

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


class Notification(db.Model):
    __tablename__ = "notification"
    __table_args__ = (UniqueConstraint("user_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    # Set for messages that must reach a user once only (e.g. "reminder:session:12").
    key: Mapped[str | None] = mapped_column(String(120))
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    link: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def link_to(endpoint: str, anchor: str = "", **values) -> str:
    """A notification's link: the site path of ``endpoint``, built from the routes as ``url_for`` builds
    it (a moved route moves its links) but needing no request, so a cron command's reminder links the
    same page as a view's notice. E-mails put ``BASE_URL`` in front."""
    return current_app.url_map.bind("").build(endpoint, values) + (f"#{anchor}" if anchor else "")


# The time new notifications carry: now, unless a past event is being written (``dated``).
_dated: ContextVar[datetime | None] = ContextVar("notifications_dated", default=None)


@contextmanager
def dated(when: datetime):
    """Notifications made inside carry ``when`` (never later than now): the demo writes a past year's
    events, and each notice should bear the day it would have come, not the day of the seeding."""
    token = _dated.set(min(when, utcnow()))
    try:
        yield
    finally:
        _dated.reset(token)


def notify(users, title: str, body: str = "", link: str = "", key: str | None = None) -> list[Notification]:
    """Queue a notification for each user (skipping those who already had ``key``); returns the new ones."""
    users = [u for u in users if u.active]
    if key is not None and users:
        already = set(
            db.session.scalars(
                select(Notification.user_id).where(
                    Notification.key == key, Notification.user_id.in_([u.id for u in users])
                )
            )
        )
        users = [u for u in users if u.id not in already]
    created = [
        Notification(
            user_id=u.id,
            office_id=u.office_id,
            key=key,
            title=title,
            body=body,
            link=link,
            created_at=_dated.get() or utcnow(),
        )
        for u in users
    ]
    db.session.add_all(created)
    restamp({u.id for u in users})
    db.session.info.setdefault("mail_pending", []).extend((u.email, title, body, link) for u in users if u.email)
    return created


# Mail follows the transaction: queued mail becomes ready on commit and is dropped on rollback.
@event.listens_for(Session, "after_commit")
def _mail_ready(session) -> None:
    session.info.setdefault("mail_ready", []).extend(session.info.pop("mail_pending", []))


@event.listens_for(Session, "after_rollback")
def _mail_dropped(session) -> None:
    session.info.pop("mail_pending", None)


def smtp_configured(app: Flask) -> bool:
    return bool(app.config.get("SMTP_HOST"))


def send_pending(app: Flask | None = None) -> int:
    """Send the e-mails of committed notifications; errors are logged, never raised (the in-app
    notification is already saved). Returns how many were sent."""
    app = app or current_app._get_current_object()
    pending = db.session.info.pop("mail_ready", [])
    if not pending or not smtp_configured(app):
        return 0
    cfg = app.config
    sent = 0
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=10) as smtp:
            if cfg["SMTP_STARTTLS"]:
                smtp.starttls()
            if cfg["SMTP_USER"]:
                smtp.login(cfg["SMTP_USER"], cfg["SMTP_PASSWORD"])
            for address, title, body, link in pending:
                message = EmailMessage()
                message["From"], message["To"], message["Subject"] = cfg["SMTP_FROM"], address, title
                message.set_content(f"{body}\n\n{cfg['BASE_URL'].rstrip('/')}{link}" if link else body)
                smtp.send_message(message)
                sent += 1
    except (OSError, smtplib.SMTPException):
        app.logger.exception("sending %d notification e-mails failed after %d", len(pending), sent)
    return sent


# user id -> (the user's notice stamp it was counted at, the unread count). A stamp is random, so a count
# made inside a transaction that rolls back is never matched again.
_unread: dict[int, tuple[str, int]] = {}


def unread_count(user) -> int:
    """The bell's count, counted again only when the user's stamp (read with the user) has changed:
    every page shows it, and most pages change nothing of it."""
    hit = _unread.get(user.id)
    if hit is not None and hit[0] == user.notice_stamp:
        return hit[1]
    count = db.session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
    )
    _unread[user.id] = (user.notice_stamp, count)
    return count


def restamp(user_ids: set[int]) -> None:
    """These users' notifications change in this transaction (added, read): every process counts their
    bell again. Call it with every such change."""
    if user_ids:
        db.session.execute(update(User).where(User.id.in_(user_ids)).values(notice_stamp=secrets.token_hex(8)))


@bp.get("/")
@login_required
def index():
    items = db.session.scalars(
        select(Notification).where(Notification.user_id == current_user.id).order_by(Notification.id.desc()).limit(100)
    ).all()
    return render_template("notifications.html", items=items)


@bp.post("/<int:notification_id>/open")
@login_required
def open_one(notification_id: int):
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != current_user.id:
        abort(404)
    if item.read_at is None:
        item.read_at = utcnow()
        restamp({current_user.id})
    db.session.commit()
    return redirect(local_path(item.link) or url_for("notifications.index"))


@bp.post("/read-all")
@login_required
def read_all():
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == current_user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    restamp({current_user.id})
    db.session.commit()
    return redirect(same_site_path(request.referrer) or url_for("notifications.index"))


def init_app(app: Flask) -> None:
    @app.context_processor
    def bell():
        return {"unread_notifications": lambda: unread_count(current_user) if current_user.is_authenticated else 0}

    @app.teardown_request
    def _send_after_request(exc):
        if exc is None:
            send_pending(app)
