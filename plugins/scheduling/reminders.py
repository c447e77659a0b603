"""The reminders the `flask --app wsgi scheduling send-reminders` command (run from cron) sends before
each meeting, in the offices where scheduling is on."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from intranet.extensions import db
from intranet.models import utcnow
from intranet.notifications import notify, send_pending
from intranet.plugins import manager

from . import documents, services
from .models import Meeting, SessionStatus
from .notices import session_link, when


def remind(days: int) -> int:
    """Remind every member of meetings starting within ``days``; once per member and meeting."""
    now = utcnow()
    sent = 0
    upcoming = db.session.scalars(
        select(Meeting).where(
            Meeting.office_id.in_(manager().offices_with("scheduling")),
            Meeting.starts_at > now,
            Meeting.starts_at <= now + timedelta(days=days),
            Meeting.status != SessionStatus.CLOSED,
        )
    ).all()
    for meeting in upcoming:
        answered = {a.user_id for a in meeting.attendance if a.answer}
        latest = documents.shelf(meeting).latest if meeting.status != SessionStatus.PLANNED else []
        for member in services.members(meeting.office_id):
            body = _("%(when)s, %(place)s.", when=when(meeting), place=meeting.place or "—")
            if member.id not in answered:
                body += " " + _("Please tell whether you will attend.")
            sent += len(
                notify(
                    [member],
                    _("Reminder: “%(title)s”", title=meeting.title),
                    body,
                    session_link(meeting),
                    key=f"reminder:{meeting.id}",
                )
            )
            unread = [d.filename for d in latest if member.id not in {r.user_id for r in d.reads}]
            if unread:
                sent += len(
                    notify(
                        [member],
                        _("Not read yet: %(files)s", files=", ".join(unread)),
                        _("Read the documents before “%(title)s”.", title=meeting.title),
                        session_link(meeting, "documents"),
                        key=f"unread:{meeting.id}",
                    )
                )
    return sent


cli = AppGroup("scheduling", help="Scheduling tasks for cron.")


@cli.command("send-reminders")
@click.option(
    "--days",
    default=2,
    show_default=True,
    type=click.IntRange(0, 60),
    help="Remind of meetings starting within this many days.",
)
def send_reminders(days: int) -> None:
    count = remind(days)
    db.session.commit()
    mailed = send_pending(current_app._get_current_object())
    click.echo(f"{count} reminders created, {mailed} e-mails sent")
