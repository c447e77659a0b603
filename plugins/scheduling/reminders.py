"""What scheduling tells members: distancing changes, group duty, documents sent, and the reminders
the `flask --app wsgi scheduling send-reminders` command (run from cron) sends before each meeting."""
from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import format_datetime, gettext as _
from sqlalchemy import select

from intranet.extensions import db
from intranet.i18n import DATETIME
from intranet.models import utcnow
from intranet.notifications import notify, send_pending
from intranet.plugins import manager

from . import documents, services
from .models import Session, SessionStatus


def _link(session: Session) -> str:
    return f"/scheduling/sessions/{session.id}"


def _when(session: Session) -> str:
    return format_datetime(session.starts_at, DATETIME)


def distancing_changed(office_id: int, on: bool, sessions: list[Session]) -> None:
    if not sessions:
        return
    listing = "; ".join(f"{s.title} ({_when(s)})" for s in sessions)
    title = (_("Distancing mode: upcoming meetings are now online") if on
             else _("Distancing mode ended: meetings are back in person"))
    notify(services.members(office_id), title, listing, "/scheduling/")


def group_assigned(session: Session) -> None:
    notify([m.user for m in session.group], _("Your group presents “%(title)s”.", title=session.title),
           _("Meeting on %(when)s.", when=_when(session)), _link(session), key=f"group:{session.id}:{session.report_due}")


def status_changed(session: Session) -> None:
    if session.status == SessionStatus.DOCUMENTS_SENT:
        notify(services.members(session.office_id), _("Documents sent for “%(title)s”", title=session.title),
               _("Read them and prepare the discussion questions before %(when)s.", when=_when(session)),
               _link(session), key=f"documents:{session.id}")


def remind(days: int) -> int:
    """Remind every member of meetings starting within ``days``; once per member and meeting."""
    now = utcnow()
    sent = 0
    upcoming = db.session.scalars(select(Session).where(
        Session.starts_at > now, Session.starts_at <= now + timedelta(days=days),
        Session.status != SessionStatus.CLOSED)).all()
    for session in upcoming:
        if not manager().is_enabled(session.office_id, "scheduling"):
            continue
        answered = {a.user_id for a in session.attendance if a.answer}
        latest = documents.shelf(session).latest if session.status != SessionStatus.PLANNED else []
        for member in services.members(session.office_id):
            body = _("%(when)s, %(place)s.", when=_when(session), place=session.place or "—")
            if member.id not in answered:
                body += " " + _("Please tell whether you will attend.")
            sent += len(notify([member], _("Reminder: “%(title)s”", title=session.title), body, _link(session),
                               key=f"reminder:{session.id}"))
            unread = [d.filename for d in latest if member.id not in {r.user_id for r in d.reads}]
            if unread:
                sent += len(notify([member], _("Not read yet: %(files)s", files=", ".join(unread)),
                                   _("Read the documents before “%(title)s”.", title=session.title),
                                   _link(session) + "#documents", key=f"unread:{session.id}"))
    return sent


cli = AppGroup("scheduling", help="Scheduling tasks for cron.")


@cli.command("send-reminders")
@click.option("--days", default=2, show_default=True, type=click.IntRange(0, 60),
              help="Remind of meetings starting within this many days.")
def send_reminders(days: int) -> None:
    count = remind(days)
    db.session.commit()
    mailed = send_pending(current_app._get_current_object())
    click.echo(f"{count} reminders created, {mailed} e-mails sent")

