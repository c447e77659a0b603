"""What scheduling tells members when a meeting changes: distancing, group duty, documents sent. The
services call it with the people to tell, so it needs nothing of theirs (``reminders.py``, the cron
command, builds on it and on the services)."""

from __future__ import annotations

from flask_babel import format_datetime
from flask_babel import gettext as _

from intranet.i18n import DATETIME
from intranet.notifications import link_to, notify

from .models import Session


def session_link(session: Session, anchor: str = "") -> str:
    return link_to("scheduling.session", anchor, session_id=session.id)


def when(session: Session) -> str:
    return format_datetime(session.starts_at, DATETIME)


def distancing_changed(members, on: bool, sessions: list[Session]) -> None:
    listing = "; ".join(f"{s.title} ({when(s)})" for s in sessions)
    title = (
        _("Distancing mode: upcoming meetings are now online")
        if on
        else _("Distancing mode ended: meetings are back in person")
    )
    notify(members, title, listing, link_to("scheduling.index"))


def group_assigned(session: Session) -> None:
    notify(
        [m.user for m in session.group],
        _("Your group presents “%(title)s”.", title=session.title),
        _("Meeting on %(when)s.", when=when(session)),
        session_link(session),
        key=f"group:{session.id}:{session.report_due}",
    )


def documents_sent(session: Session, members) -> None:
    notify(
        members,
        _("Documents sent for “%(title)s”", title=session.title),
        _("Read them and prepare the discussion questions before %(when)s.", when=when(session)),
        session_link(session),
        key=f"documents:{session.id}",
    )
