"""Meeting-room tables: each office's Jitsi settings and thresholds, a meeting's room, invited guests,
each participant's connection state and counters, the event log, recent quality samples and the
batches already taken. Every table is ``meetings_*`` and carries ``office_id``."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from intranet.extensions import db
from intranet.models import User, UTCDateTime, text_enum, utcnow


class Quality(str, enum.Enum):
    """A participant's link, from best to worst; ``rank`` orders them."""

    GOOD = "good"
    DEGRADED = "degraded"
    POOR = "poor"
    DISCONNECTED = "disconnected"

    @property
    def rank(self) -> int:
        return list(Quality).index(self)


class Mode(str, enum.Enum):
    VIDEO = "video"
    LOW_VIDEO = "low_video"
    AUDIO = "audio"
    FOLLOW = "follow"  # follow-along: text, queue and notes, almost no bandwidth
    HALL = "hall"  # in the meeting room itself
    LINK = "link"  # checked in to an external meeting link


class JitsiAuth(str, enum.Enum):
    NONE = "none"  # an open Jitsi (no token)
    HS256 = "hs256"  # self-hosted prosody token auth with app id and secret
    JAAS = "jaas"  # 8x8 Jitsi as a Service, RS256 with key id and private key


class OfficeConfig(db.Model):
    """An office's rooms: its Jitsi and the thresholds of the fallback ladder. Secrets stay here:
    never rendered, never logged, never sent to a browser."""

    __tablename__ = "meetings_office_config"

    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), primary_key=True)
    jitsi_domain: Mapped[str] = mapped_column(String(200), default="")
    backup_domains: Mapped[str] = mapped_column(Text, default="")  # one per line, tried in order
    auth: Mapped[JitsiAuth] = mapped_column(text_enum(JitsiAuth), default=JitsiAuth.NONE)
    app_id: Mapped[str] = mapped_column(String(200), default="")  # self-hosted app id, or the JaaS tenant
    app_secret: Mapped[str] = mapped_column(String(500), default="", info={"verbatim": True})
    jaas_key_id: Mapped[str] = mapped_column(String(300), default="")
    jaas_private_key: Mapped[str] = mapped_column(Text, default="")
    open_minutes_before: Mapped[int] = mapped_column(Integer, default=30)
    rtt_degraded_ms: Mapped[int] = mapped_column(Integer, default=400)
    rtt_poor_ms: Mapped[int] = mapped_column(Integer, default=1000)
    loss_degraded_pct: Mapped[float] = mapped_column(Float, default=3.0)
    loss_poor_pct: Mapped[float] = mapped_column(Float, default=10.0)
    quality_degraded: Mapped[int] = mapped_column(Integer, default=60)  # Jitsi's connection quality, %
    quality_poor: Mapped[int] = mapped_column(Integer, default=30)
    samples_to_change: Mapped[int] = mapped_column(Integer, default=3)  # hysteresis: same verdict this often
    # The office's TURN server, for the pre-call test through it (README "Pre-call test through TURN"):
    # its URLs one per line, and either a fixed username and credential or coturn's shared secret, from
    # which each member gets time-limited credentials.
    turn_urls: Mapped[str] = mapped_column(Text, default="")
    turn_username: Mapped[str] = mapped_column(String(200), default="")
    turn_credential: Mapped[str] = mapped_column(String(500), default="", info={"verbatim": True})
    turn_secret: Mapped[str] = mapped_column(String(500), default="", info={"verbatim": True})


class Room(db.Model):
    __tablename__ = "meetings_room"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    # The room's kind (a provider's name). Until the planners pin one, ``services.room_for`` keeps it
    # following the meeting's mode and the office's Jitsi; a pin keeps it whatever those become.
    provider: Mapped[str] = mapped_column(String(40))
    pinned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pinned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    room_name: Mapped[str] = mapped_column(String(64), unique=True)
    external_url: Mapped[str] = mapped_column(String(500), default="")
    dial_in: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")  # the chair's running notes, for follow-along
    notes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    pinned_by: Mapped[User | None] = relationship(foreign_keys=[pinned_by_id])


class Guest(db.Model):
    """Someone from another office (e.g. the superior party committee) the secretary invited."""

    __tablename__ = "meetings_guest"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    invited_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class Participant(db.Model):
    """One person in one meeting's room: the state the server keeps and the counters of the report."""

    __tablename__ = "meetings_participant"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    state: Mapped[Quality] = mapped_column(text_enum(Quality), default=Quality.DISCONNECTED)
    candidate: Mapped[Quality | None] = mapped_column(text_enum(Quality))  # a verdict waiting for confirmation
    candidate_count: Mapped[int] = mapped_column(Integer, default=0)
    worst: Mapped[Quality] = mapped_column(text_enum(Quality), default=Quality.GOOD)
    mode: Mapped[Mode] = mapped_column(text_enum(Mode), default=Mode.VIDEO)
    connected: Mapped[bool] = mapped_column(Boolean, default=False)
    connected_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_seconds: Mapped[int] = mapped_column(Integer, default=0)
    first_joined_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # What the server itself saw (docs/security/ingest.md): the first time it served this person the
    # open room or a Jitsi token, or took their check-in. No connection counts from before it.
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The end of the connection time already counted: a moment is never counted twice.
    counted_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The ingest's token bucket: items (samples and events) this participant may still send now.
    ingest_allowance: Mapped[float | None] = mapped_column(Float)
    ingest_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    drops: Mapped[int] = mapped_column(Integer, default=0)
    reconnects: Mapped[int] = mapped_column(Integer, default=0)
    # What older samples said, once rolled up (see services.roll_up).
    rolled_samples: Mapped[int] = mapped_column(Integer, default=0)
    rolled_rtt_sum: Mapped[float] = mapped_column(Float, default=0.0)
    rolled_loss_max: Mapped[float] = mapped_column(Float, default=0.0)

    user: Mapped[User] = relationship()


class Event(db.Model):
    """Join, leave, drop, reconnect, pre-call check, state change, ladder step, error — with times."""

    __tablename__ = "meetings_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class Sample(db.Model):
    """One measurement of a participant's link; rolled up into the participant after a while."""

    __tablename__ = "meetings_sample"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    rtt_ms: Mapped[float | None] = mapped_column(Float)  # round trip to the intranet
    loss_pct: Mapped[float | None] = mapped_column(Float)  # Jitsi's packet loss
    quality: Mapped[float | None] = mapped_column(Float)  # Jitsi's connection quality, %
    bitrate_kbps: Mapped[float | None] = mapped_column(Float)
    downlink_mbps: Mapped[float | None] = mapped_column(Float)  # the browser's Network Information
    verdict: Mapped[Quality] = mapped_column(text_enum(Quality))


class Batch(db.Model):
    """A batch of samples already taken, so a retried or replayed batch counts once."""

    __tablename__ = "meetings_batch"

    session_id: Mapped[int] = mapped_column(ForeignKey("scheduling_session.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("office.id", ondelete="CASCADE"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
