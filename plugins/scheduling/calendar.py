"""The private iCalendar feed: one revocable token per user, stored hashed; the feed lists the
meetings of the user's office that the scheduling plugin shows them."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from intranet.audit import record
from intranet.extensions import db

from .models import CalendarToken, Meeting


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(user) -> str:
    """Replace the user's feed token (the old URL stops working) and return the new one, once."""
    revoke_token(user, audit=False)
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarToken(office_id=user.office_id, user_id=user.id, token_hash=_hash(token)))
    record("scheduling.calendar.issue", CalendarToken.__tablename__, user.id, office_id=user.office_id, actor=user)
    return token


def revoke_token(user, audit: bool = True) -> bool:
    existing = db.session.scalar(select(CalendarToken).where(CalendarToken.user_id == user.id))
    if existing is None:
        return False
    db.session.delete(existing)
    db.session.flush()
    if audit:
        record("scheduling.calendar.revoke", CalendarToken.__tablename__, user.id, office_id=user.office_id, actor=user)
    return True


def has_token(user) -> bool:
    return db.session.scalar(select(CalendarToken.id).where(CalendarToken.user_id == user.id)) is not None


def user_for(token: str):
    row = db.session.scalar(select(CalendarToken).where(CalendarToken.token_hash == _hash(token)))
    if row is None or not row.user.active or row.user.office_id != row.office_id:
        return None
    return row.user


def feed(user, host: str, labels: dict) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//intranet//scheduling//VI")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", user.office.cell_name or user.office.name)
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.office_id == user.office_id).order_by(Meeting.starts_at)
    )
    for meeting in meetings:
        event = Event()
        event.add("uid", f"session-{meeting.id}@{host}")
        event.add("summary", meeting.title)
        event.add("dtstart", meeting.starts_at)
        event.add("dtend", meeting.starts_at + timedelta(minutes=meeting.duration_minutes))
        event.add("dtstamp", meeting.created_at)
        event.add("location", meeting.place or str(labels["mode"][meeting.mode]))
        event.add("description", f"{labels['kind'][meeting.kind]} · {labels['mode'][meeting.mode]}")
        event.add("status", "CONFIRMED")
        calendar.add_component(event)
    return calendar.to_ical()
