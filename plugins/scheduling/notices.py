"""What scheduling tells members when a meeting changes: distancing, group duty, documents sent. The
services call it with the people to tell, so it needs nothing of theirs (``reminders.py``, the cron
command, builds on it and on the services)."""

from __future__ import annotations

from flask_babel import format_datetime
from flask_babel import gettext as _

from intranet.i18n import DATETIME
from intranet.notifications import link_to, notify

from .models import Meeting


def session_link(meeting: Meeting, anchor: str = "") -> str:
    return link_to("scheduling.session", anchor, session_id=meeting.id)


def when(meeting: Meeting) -> str:
    return format_datetime(meeting.starts_at, DATETIME)


def distancing_changed(members, on: bool, meetings: list[Meeting]) -> None:
    listing = "; ".join(f"{s.title} ({when(s)})" for s in meetings)
    title = (
        _("Distancing mode: upcoming meetings are now online")
        if on
        else _("Distancing mode ended: meetings are back in person")
    )
    notify(members, title, listing, link_to("scheduling.index"))


def group_assigned(meeting: Meeting) -> None:
    notify(
        [m.user for m in meeting.group],
        _("Your group presents “%(title)s”.", title=meeting.title),
        _("Meeting on %(when)s.", when=when(meeting)),
        session_link(meeting),
        key=f"group:{meeting.id}:{meeting.report_due}",
    )


def documents_sent(meeting: Meeting, members) -> None:
    notify(
        members,
        _("Documents sent for “%(title)s”", title=meeting.title),
        _("Read them and prepare the discussion questions before %(when)s.", when=when(meeting)),
        session_link(meeting),
        key=f"documents:{meeting.id}",
    )
