"""Which signals a participant's verdict rests on, for the chair's board. The room page says once per
join whether the Jitsi build answers ``getConnectionStats`` (builds from July 2026 on): with it, Jitsi's
connection quality and packet loss count; without it, only the round trip to the intranet and Jitsi's
media events (a failed peer connection, a closed bridge channel) do, so loss never shows."""

from __future__ import annotations

from sqlalchemy import select

from intranet.extensions import db

from .models import Event

STATS, EVENTS = "stats", "events"


def basis(session_id: int) -> dict[int, str]:
    """``STATS`` or ``EVENTS`` per user, from the last join that said."""
    said = db.session.execute(
        select(Event.user_id, Event.detail)
        .where(Event.session_id == session_id, Event.kind == "info")
        .order_by(Event.at, Event.id)
    ).all()
    return {
        user_id: STATS if detail.get("stats") is True else EVENTS
        for user_id, detail in said
        if detail.get("name") == "signals"
    }
