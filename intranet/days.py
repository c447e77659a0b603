"""Days as the office lives them. Moments are stored in UTC, but a meeting's day, a due date, "today"
and a period's bounds are days in the office's zone (``BABEL_DEFAULT_TIMEZONE``, Asia/Ho_Chi_Minh by
default): a meeting at 05:19 in Hà Nội is 22:19 UTC the evening before. Every day comparison goes
through here, never through ``datetime.date()`` of a UTC moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app

from .models import utcnow


def zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def local(moment: datetime) -> datetime:
    """The moment on the office's clock."""
    return moment.astimezone(zone())


def day_of(moment: datetime) -> date:
    """The office's day a stored (UTC) moment falls on."""
    return local(moment).date()


def today() -> date:
    return day_of(utcnow())


def at(day: date, clock: time = time()) -> datetime:
    """The UTC moment of ``clock`` on the office's ``day`` (midnight by default: the day's start)."""
    return datetime.combine(day, clock, zone()).astimezone(UTC)
