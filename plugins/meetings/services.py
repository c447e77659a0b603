"""Meeting rooms, free of Flask request objects: the office's settings, a meeting's room and guests,
who may join and who moderates, joins and check-ins, the ingest of quality batches with the state
machine, the chair's board and the report. The caller commits, or rolls back on ServiceError."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app
from flask_babel import format_datetime
from flask_babel import gettext as _
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from intranet import live
from intranet.access import can
from intranet.audit import record as audit
from intranet.extensions import db
from intranet.models import User, utcnow
from intranet.plugins import manager
from intranet.refusals import ServiceError, secret_as_typed
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionMode, SessionStatus

from . import quality, turn
from .models import Batch, Event, Guest, JitsiAuth, Mode, OfficeConfig, Participant, Quality, Room, Sample

DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+(:\d{2,5})?$")
BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
MAX_ITEMS = 60  # samples or events in one batch (5 minutes at one every 5 s)
PAST_LIMIT = timedelta(minutes=15)  # a batch retried after a drop may be this old
FUTURE_LIMIT = timedelta(seconds=30)
EVENT_KINDS = {"joined", "left", "dropped", "reconnected", "precheck", "precall", "ladder", "error", "info", "hand"}


class RateLimited(ServiceError):
    """A participant sent more than the ingest's token bucket allows; ``retry_after`` in seconds."""

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


def board_channel(session_id: int) -> str:
    return f"meetings:{session_id}:board"


def notes_channel(session_id: int) -> str:
    return f"meetings:{session_id}:notes"


# --- the office's settings --------------------------------------------------------------------------


def config_for(office_id: int) -> OfficeConfig:
    return db.session.get(OfficeConfig, office_id) or OfficeConfig(
        office_id=office_id,
        jitsi_domain="",
        backup_domains="",
        auth=JitsiAuth.NONE,
        app_id="",
        app_secret="",
        jaas_key_id="",
        jaas_private_key="",
        open_minutes_before=30,
        rtt_degraded_ms=400,
        rtt_poor_ms=1000,
        loss_degraded_pct=3.0,
        loss_poor_pct=10.0,
        quality_degraded=60,
        quality_poor=30,
        samples_to_change=3,
        turn_urls="",
        turn_username="",
        turn_credential="",
        turn_secret="",
    )


# The settings never shown back: left empty in the form, each keeps its stored value.
SECRETS = ("app_secret", "jaas_private_key", "turn_credential", "turn_secret")

THRESHOLDS = {  # field: (lowest, highest)
    "open_minutes_before": (0, 240),
    "rtt_degraded_ms": (50, 5000),
    "rtt_poor_ms": (100, 10000),
    "loss_degraded_pct": (0.5, 50),
    "loss_poor_pct": (1, 90),
    "quality_degraded": (10, 100),
    "quality_poor": (0, 90),
    "samples_to_change": (1, 10),
}


def save_config(office_id: int, actor, *, secrets_given: dict[str, str], **fields) -> OfficeConfig:
    """Only the office's administrator. A secret left empty keeps the stored one (the form never
    shows secrets back)."""
    if not can(actor, "core.admin", office_id):
        raise ServiceError(_("Only this office's administrator changes its meeting settings."))
    config = config_for(office_id)
    domains = [fields["jitsi_domain"], *fields["backup_domains"].replace(",", "\n").splitlines()]
    for value in (d.strip().lower() for d in domains):
        if value and not DOMAIN.match(value):
            raise ServiceError(
                _("“%(domain)s” is not a domain name (e.g. meet.example.gov.vn).", domain=value), "jitsi_domain"
            )
    for name, (low, high) in THRESHOLDS.items():
        if fields[name] is None or not low <= fields[name] <= high:
            raise ServiceError(_("Between %(low)s and %(high)s.", low=low, high=high), name)
    if (
        fields["rtt_poor_ms"] <= fields["rtt_degraded_ms"]
        or fields["loss_poor_pct"] <= fields["loss_degraded_pct"]
        or fields["quality_poor"] >= fields["quality_degraded"]
    ):
        raise ServiceError(_("Each “poor” threshold must be worse than its “degraded” one."), "rtt_poor_ms")
    for name, value in fields.items():
        setattr(config, name, value.strip().lower() if name in ("jitsi_domain", "backup_domains") else value)
    for name, value in secrets_given.items():
        if value.strip():
            # a PEM key is text to parse; the others are secrets another server compares as typed
            setattr(config, name, value.strip() if name == "jaas_private_key" else secret_as_typed(value, name))
    if not turn.configured(config):  # no TURN URL: the pre-call test is off and its credentials forgotten
        config.turn_username = config.turn_credential = config.turn_secret = ""
    _check_auth(config)
    turn.check(config)
    if db.inspect(config).transient:
        db.session.add(config)
    # The audit names what changed, never a secret's value.
    audit(
        "meetings.config",
        OfficeConfig.__tablename__,
        office_id,
        office_id=office_id,
        actor=actor,
        jitsi_domain=config.jitsi_domain,
        auth=config.auth.value,
        turn_urls=turn.urls(config),
        secrets_changed=sorted(k for k, v in secrets_given.items() if v.strip()),
    )
    return config


def _check_auth(config: OfficeConfig) -> None:
    from . import jitsi

    if config.auth == JitsiAuth.NONE:
        return
    if (
        not config.app_id
        or (config.auth == JitsiAuth.HS256 and not config.app_secret)
        or (config.auth == JitsiAuth.JAAS and not (config.jaas_key_id and config.jaas_private_key))
    ):
        raise ServiceError(
            _("Token auth needs the app id and its secret (or, for JaaS, the key id and private key)."), "auth"
        )
    try:  # sign once now, so a broken key is found here and not by members at the meeting
        jitsi.token(config, config.jitsi_domain or "example.org", "check", _Probe(), moderator=False)
    except Exception as exc:
        raise ServiceError(
            _("The key could not sign a token: check the private key (PEM)."), "jaas_private_key"
        ) from exc


class _Probe:
    id, full_name, email = 0, "check", ""


# --- a meeting's room -------------------------------------------------------------------------------


FOLLOW_MEETING = "follow"  # the room form's choice that lifts a pin


def followed_kind(meeting: Meeting, config: OfficeConfig) -> str:
    """The kind of a room nobody pinned: in the hall for an in-person meeting; online otherwise, on
    Jitsi when the office has one, else an external link."""
    if meeting.mode == SessionMode.IN_PERSON:
        return "in_person"
    return "jitsi" if config.jitsi_domain else "external"


def kind_of(meeting: Meeting, room: Room | None) -> str:
    """What the room is now: its pin, else what the meeting's mode and the office's settings give —
    read at every use, so distancing, a changed mode or a Jitsi configured later reach every room."""
    if room is not None and room.pinned_at is not None:
        return room.provider
    return followed_kind(meeting, config_for(meeting.office_id))


def room_for(meeting: Meeting) -> Room:
    """The meeting's room, made on first use, its kind brought up to date (``kind_of``)."""
    room = db.session.get(Room, meeting.id) or Room(
        session_id=meeting.id,
        office_id=meeting.office_id,
        room_name="chibo-" + secrets.token_hex(12),
        external_url="",
        dial_in="",
        notes="",
    )
    room.provider = kind_of(meeting, room)
    db.session.add(room)
    db.session.flush()
    return room


def set_room(meeting: Meeting, actor, *, provider: str, external_url: str, dial_in: str) -> Room:
    """Pin the room's kind (``provider``), or lift the pin (``FOLLOW_MEETING``): a pinned room stays as
    chosen whatever the meeting's mode becomes (distancing included)."""
    if not can(actor, "scheduling.plan", meeting.office_id):
        raise ServiceError(_("Only the secretary and the committee set the meeting's room."))
    from .providers import all_providers

    if provider != FOLLOW_MEETING and provider not in all_providers(meeting.office_id):
        raise ServiceError(_("Choose how the meeting is held."), "provider")
    external_url = (external_url or "").strip()
    if (provider == "external" or external_url) and not re.match(r"^https?://[^\s<>\"']{4,490}$", external_url):
        raise ServiceError(_("Paste the meeting's link, starting with https://"), "external_url")
    if provider == "jitsi" and not config_for(meeting.office_id).jitsi_domain:
        raise ServiceError(
            _("This office has no Jitsi yet: its administrator sets it under Meeting rooms."), "provider"
        )
    room = room_for(meeting)
    if provider == FOLLOW_MEETING:
        room.pinned_at = room.pinned_by_id = None
        room.provider = kind_of(meeting, room)
    else:
        room.provider, room.pinned_at, room.pinned_by_id = provider, utcnow(), actor.id
    room.external_url, room.dial_in = external_url, (dial_in or "").strip()[:2000]
    audit(
        "meetings.room",
        Room.__tablename__,
        meeting.id,
        office_id=meeting.office_id,
        actor=actor,
        provider=provider,
        pinned=room.pinned_at is not None,
    )
    return room


def save_notes(meeting: Meeting, actor, notes: str) -> None:
    if not is_moderator(actor, meeting):
        raise ServiceError(_("Only the chair writes the running notes."))
    room = room_for(meeting)
    room.notes, room.notes_at = (notes or "").strip()[:20000], utcnow()
    live.publish_on_commit(notes_channel(meeting.id), prompt=True)


# --- who ---------------------------------------------------------------------------------------------


def is_guest(user, meeting: Meeting) -> bool:
    return db.session.get(Guest, (meeting.id, user.id)) is not None


def may_join(user, meeting: Meeting) -> bool:
    """A member of the cell, or a guest the secretary invited."""
    if not (user.is_authenticated and user.active):
        return False
    return can(user, "meetings.join", meeting.office_id) or is_guest(user, meeting)


def is_moderator(user, meeting: Meeting) -> bool:
    """Who holds ``meetings.moderate`` (the secretary and deputies by default): Jitsi moderators, and
    the board's readers."""
    return can(user, "meetings.moderate", meeting.office_id)


def invite_guest(meeting: Meeting, actor, username: str) -> Guest:
    """The secretary invites a member of another office by username. The right is checked before the
    name is looked up: nobody else learns whether an account exists."""
    if not can(actor, "meetings.invite", meeting.office_id):
        raise ServiceError(_("Only the secretary invites guests."))
    guest = db.session.scalar(select(User).where(User.username == (username or "").strip().lower()))
    if guest is None:
        raise ServiceError(_("No account has this username."), "username")
    if guest.office_id == meeting.office_id:
        raise ServiceError(_("Members of the cell need no invitation."), "username")
    if not guest.active:
        raise ServiceError(_("This account is deactivated."), "username")
    found = db.session.get(Guest, (meeting.id, guest.id))
    if found is None:
        found = Guest(session_id=meeting.id, user_id=guest.id, office_id=meeting.office_id, invited_by_id=actor.id)
        db.session.add(found)
        audit(
            "meetings.guest.invite",
            Guest.__tablename__,
            meeting.id,
            office_id=meeting.office_id,
            actor=actor,
            user_id=guest.id,
        )
        from intranet.notifications import link_to, notify

        notify(
            [guest],
            _("You are invited to a party cell meeting"),
            meeting.title,
            link=link_to("meetings.room", session_id=meeting.id),
            key=f"meetings:guest:{meeting.id}",
        )
    return found


def guests(meeting: Meeting) -> list[Guest]:
    return list(db.session.scalars(select(Guest).where(Guest.session_id == meeting.id)))


def expected(meeting: Meeting) -> list[User]:
    """Who the board expects: the cell's members, then the invited guests."""
    members = scheduling.members(meeting.office_id)
    return members + [g.user for g in guests(meeting) if g.user_id not in {u.id for u in members}]


def opens_at(meeting: Meeting) -> datetime:
    return meeting.starts_at - timedelta(minutes=config_for(meeting.office_id).open_minutes_before)


def room_open(meeting: Meeting, now: datetime | None = None) -> bool:
    return meeting.status != SessionStatus.CLOSED and (now or utcnow()) >= opens_at(meeting)


def _refuse_unless_open(meeting: Meeting) -> None:
    if meeting.status == SessionStatus.CLOSED:
        raise ServiceError(_("This meeting is closed."))
    if not room_open(meeting):
        raise ServiceError(_("The room opens at %(time)s.", time=shown(opens_at(meeting))))


def shown(moment: datetime) -> str:
    """A time as the pages show it (office time zone, HH:mm dd/MM/yyyy)."""
    return format_datetime(moment, "HH:mm dd/MM/yyyy")


# --- joining ------------------------------------------------------------------------------------------


def participant(meeting: Meeting, user: User, *, lock: bool = False) -> Participant:
    """The person's row in this meeting's room, made on first need. ``lock`` holds the row to the end
    of the transaction, so two requests of one person (on two workers) change its counters one after
    the other instead of both writing what each read."""
    query = select(Participant).where(Participant.session_id == meeting.id, Participant.user_id == user.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = db.session.scalars(query).first()
    if found is None:
        try:
            with db.session.begin_nested():
                db.session.add(
                    Participant(
                        session_id=meeting.id,
                        user_id=user.id,
                        office_id=meeting.office_id,
                        state=Quality.DISCONNECTED,
                        worst=Quality.GOOD,
                        mode=Mode.VIDEO,
                        connected=False,
                        connected_seconds=0,
                        drops=0,
                        reconnects=0,
                        candidate_count=0,
                        rolled_samples=0,
                        rolled_rtt_sum=0.0,
                        rolled_loss_max=0.0,
                    )
                )
        except IntegrityError:  # the same person's concurrent request made it first
            pass
        found = db.session.scalars(query).one()
    return found


def enter(meeting: Meeting, user: User, now: datetime | None = None) -> None:
    """The server itself saw this person come into the open room: it served them the room page or a
    Jitsi token. No connection counts from before the first such moment (docs/security/ingest.md)."""
    now = now or utcnow()
    if not room_open(meeting, now):
        return
    person = participant(meeting, user)
    if person.entered_at is None:
        person.entered_at = now


def _log(meeting: Meeting, user: User, kind: str, at: datetime, detail: dict | None = None) -> None:
    db.session.add(
        Event(
            office_id=meeting.office_id, session_id=meeting.id, user_id=user.id, kind=kind, at=at, detail=detail or {}
        )
    )


def _connect(meeting: Meeting, person: Participant, user: User, at: datetime, source: str) -> bool:
    """Returns False, changing nothing, when the server never saw the person enter: a page's word
    alone makes nobody present."""
    if person.entered_at is None:
        return False
    at = max(at, person.entered_at)
    if not person.connected:
        person.connected, person.connected_since = True, max(at, person.counted_until or at)
    _first_join(meeting, person, user, at, source)
    quality.set_state(person, Quality.GOOD)
    return True


def _first_join(meeting: Meeting, person: Participant, user: User, at: datetime, source: str) -> None:
    if person.first_joined_at is None:
        person.first_joined_at = at
        # Attendance works the same in every mode: the scheduling plugin marks the member present.
        manager().for_office(meeting.office_id).intranet_session_member_joined(
            session=meeting, user=user, source=source
        )


def _uncounted_seconds(person: Participant, until: datetime) -> int:
    """Seconds of the current connection up to ``until`` not counted yet: intervals that overlap
    (replayed or forged joined/left pairs) count their common part once."""
    start = max(person.connected_since, person.counted_until or person.connected_since)
    return max(0, int((until - start).total_seconds()))


def _disconnect(person: Participant, at: datetime, *, dropped: bool = False) -> None:
    if person.connected and person.connected_since is not None:
        person.connected_seconds += _uncounted_seconds(person, at)
        person.counted_until = max(person.counted_until or at, at)
    person.connected, person.connected_since = False, None
    quality.set_state(person, Quality.DISCONNECTED, counts_as_worst=dropped)


def check_in(meeting: Meeting, user: User) -> Participant:
    """A member joining the external meeting link says so here (attendance from the link)."""
    if not may_join(user, meeting):
        raise ServiceError(_("Only members of this cell and invited guests join its meetings."))
    _refuse_unless_open(meeting)
    now = utcnow()
    enter(meeting, user, now)
    person = participant(meeting, user, lock=True)
    person.mode, person.last_seen_at = Mode.LINK, now
    _connect(meeting, person, user, now, "external-link check-in")
    _log(meeting, user, "joined", now, {"via": "external link"})
    live.publish_on_commit(board_channel(meeting.id), prompt=True)
    return person


def follow_along(meeting: Meeting, user: User) -> None:
    """A member opened follow-along while the room is open: they take part in text (a way in when the
    call cannot hold, or its server cannot be reached), present like any other way in and shown as
    following on the board. No call, so no minutes or link state; a member in the call meanwhile keeps
    the call's mode."""
    now = utcnow()
    if not room_open(meeting, now):
        return
    enter(meeting, user, now)
    person = participant(meeting, user, lock=True)
    person.last_seen_at = now
    if person.connected or (person.mode == Mode.FOLLOW and person.first_joined_at is not None):
        return
    person.mode = Mode.FOLLOW
    if person.first_joined_at is None:
        _log(meeting, user, "joined", now, {"via": "follow-along"})
    _first_join(meeting, person, user, now, "follow-along")
    live.publish_on_commit(board_channel(meeting.id), prompt=True)


# --- the quality ingest -------------------------------------------------------------------------------


def ingest_token(session_id: int, user_id: int) -> str:
    """Proves a batch comes from the room page this user opened (``sendBeacon`` cannot send a CSRF
    header, so the page carries this instead)."""
    key = current_app.secret_key.encode()
    return hmac.new(key, f"meetings-ingest:{session_id}:{user_id}".encode(), hashlib.sha256).hexdigest()[:40]


@dataclass(frozen=True)
class Verdict:
    state: Quality
    advice: str
    duplicate: bool = False
    ignored: int = 0  # items dropped for a bad time or shape

    def as_json(self) -> dict:
        return {"state": self.state.value, "advice": self.advice, "duplicate": self.duplicate, "ignored": self.ignored}


def ingest(meeting: Meeting, user: User, payload: object, now: datetime | None = None) -> Verdict:
    """Take one batch of samples and events from the room page. Refused (ServiceError) when it is not
    a batch at all or the room is not open, and (RateLimited) past the participant's token bucket;
    items with a time from the future or too far in the past, or of a bad shape, are ignored and
    counted, and every time is clipped to what the server saw (from the person's entry to now); a
    batch already taken changes nothing. The rules: docs/security/ingest.md."""
    now = now or utcnow()
    if not may_join(user, meeting):
        raise ServiceError(_("Only members of this cell and invited guests join its meetings."))
    if (
        not isinstance(payload, dict)
        or not isinstance(payload.get("batch"), str)
        or not BATCH_ID.match(payload["batch"])
    ):
        raise ServiceError("batch: 8–64 letters, digits, '-' or '_'")
    if not hmac.compare_digest(str(payload.get("token", "")), ingest_token(meeting.id, user.id)):
        raise ServiceError("token")
    samples, events = payload.get("samples", []), payload.get("events", [])
    if (
        not isinstance(samples, list)
        or not isinstance(events, list)
        or len(samples) > MAX_ITEMS
        or len(events) > MAX_ITEMS
    ):
        raise ServiceError(f"samples, events: lists of at most {MAX_ITEMS}")
    _refuse_unless_open(meeting)  # a closed meeting's report stays as it was closed
    person = participant(meeting, user, lock=True)
    if db.session.get(Batch, (meeting.id, user.id, payload["batch"])) is not None:
        return Verdict(person.state, _advice(person), duplicate=True)
    _spend(person, 1 + len(samples) + len(events), now)
    db.session.add(
        Batch(
            session_id=meeting.id,
            user_id=user.id,
            batch_id=payload["batch"],
            office_id=meeting.office_id,
            received_at=now,
        )
    )
    config = config_for(meeting.office_id)
    before = (person.state, person.connected, person.drops, person.mode)
    ignored = 0
    items = [("event", e) for e in events] + [("sample", s) for s in samples]
    timed = []
    floor = max(person.entered_at or now, opens_at(meeting))
    for kind, item in items:
        at = _time(item, now)
        if at is None:
            ignored += 1
            continue
        timed.append((min(max(at, floor), now), 0 if kind == "event" else 1, kind, item))
    for at, _order, kind, item in sorted(timed, key=lambda t: (t[0], t[1])):
        if kind == "event":
            ignored += not _apply_event(meeting, user, person, item, at)
        else:
            ignored += not _apply_sample(meeting, user, person, item, at, config)
    mode = payload.get("mode")
    # A member following in text stays so until a page of theirs is in the call again: a room page
    # left open beside follow-along (or closing) claims nothing about how they take part.
    if _one_of(mode, {m.value for m in Mode}) and (person.connected or person.mode != Mode.FOLLOW):
        person.mode = Mode(mode)
    person.last_seen_at = now
    if (person.state, person.connected, person.drops, person.mode) != before:
        live.publish_on_commit(board_channel(meeting.id), prompt=True)
    return Verdict(person.state, _advice(person), ignored=ignored)


def _spend(person: Participant, cost: int, now: datetime) -> None:
    """A token bucket per participant, kept on its locked row (so it holds across workers and without
    Redis): ``MEETINGS_INGEST_BURST`` items at once, refilled at ``MEETINGS_INGEST_PER_MINUTE``. A page
    sends one sample every 5 s; a page back from 15 minutes offline sends its backlog within the burst."""
    burst, per_second = (
        current_app.config["MEETINGS_INGEST_BURST"],
        current_app.config["MEETINGS_INGEST_PER_MINUTE"] / 60,
    )
    allowance = burst if person.ingest_allowance is None else person.ingest_allowance
    if person.ingest_checked_at is not None:
        allowance = min(burst, allowance + max(0.0, (now - person.ingest_checked_at).total_seconds()) * per_second)
    if cost > allowance:
        wait = math.ceil((cost - allowance) / per_second)
        raise RateLimited(
            _("Too many connection reports from this page: wait %(seconds)d seconds.", seconds=wait), wait
        )
    person.ingest_allowance, person.ingest_checked_at = allowance - cost, now


def _advice(person: Participant) -> str:
    """The ladder's rung for a page in the call; a page not in it (before joining, or rejoining after
    a drop on its own back-off) gets "none"."""
    return quality.ADVICE[person.state] if person.connected else "none"


def _time(item, now: datetime) -> datetime | None:
    if not isinstance(item, dict) or not isinstance(item.get("t"), (int, float)) or isinstance(item.get("t"), bool):
        return None
    try:
        at = datetime.fromtimestamp(item["t"] / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return at if now - PAST_LIMIT <= at <= now + FUTURE_LIMIT else None


def _number(value, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:  # NaN
        return None
    return float(value) if low <= value <= high else None


def _one_of(value, words):
    """``value`` when the page sent one of ``words``, else None: a list or an object where a word is
    expected is ignored like any other unknown value (``in`` would raise on it)."""
    return value if isinstance(value, str) and value in words else None


def _apply_sample(meeting, user, person: Participant, item: dict, at: datetime, config: OfficeConfig) -> bool:
    rtt = _number(item.get("rtt"), 0, 120_000)
    loss = _number(item.get("loss"), 0, 100)
    conn = _number(item.get("quality"), 0, 100)
    media = _one_of(item.get("media"), quality.MEDIA)
    if rtt is None and loss is None and conn is None and media is None:
        return False
    seen = verdict = quality.verdict(config, rtt_ms=rtt, loss_pct=loss, quality=conn, media=media)
    db.session.add(
        Sample(
            office_id=meeting.office_id,
            session_id=meeting.id,
            user_id=user.id,
            at=at,
            rtt_ms=rtt,
            loss_pct=loss,
            quality=conn,
            bitrate_kbps=_number(item.get("bitrate"), 0, 1_000_000),
            downlink_mbps=_number(item.get("downlink"), 0, 10_000),
            verdict=verdict,
        )
    )
    if person.connected:
        if quality.observe(person, seen, config.samples_to_change):
            _log(meeting, user, "state", at, {"state": person.state.value})
    return True


def _apply_event(meeting, user, person: Participant, item: dict, at: datetime) -> bool:
    kind = _one_of(item.get("kind"), EVENT_KINDS)
    if kind is None:
        return False
    detail = item.get("detail") if isinstance(item.get("detail"), dict) else {}
    detail = {
        str(k)[:40]: (v if isinstance(v, (int, float, bool)) or v is None else str(v)[:200])
        for k, v in list(detail.items())[:12]
    }
    if kind in ("joined", "reconnected"):  # the page says "reconnected" when a join follows a drop
        was_connected = person.connected
        if not _connect(meeting, person, user, at, "jitsi"):
            return False
        person.reconnects += kind == "reconnected" and not was_connected
    elif kind == "dropped":
        if person.connected:
            person.drops += 1
        _disconnect(person, at, dropped=True)
    elif kind == "left":
        _disconnect(person, at)
    elif kind == "hand":  # Jitsi's own raise-hand button, passed on to whoever keeps a speakers list
        manager().for_office(meeting.office_id).intranet_session_hand(
            session=meeting, user=user, raised=detail.get("raised") is True
        )
    _log(meeting, user, kind, at, detail)
    return True


# --- the chair's board and the report -----------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    user: User
    guest: bool
    joined: bool
    connected: bool
    state: Quality | None
    mode: Mode | None
    drops: int
    minutes: int
    worst: Quality | None


def board(meeting: Meeting, now: datetime | None = None) -> list[Row]:
    now = now or utcnow()
    people = {p.user_id: p for p in db.session.scalars(select(Participant).where(Participant.session_id == meeting.id))}
    guest_ids = {g.user_id for g in guests(meeting)}
    # Someone the chair ticked present without a room join is in the hall (a hybrid meeting).
    in_hall = {a.user_id for a in meeting.attendance if a.present and a.taken_by == "chair"}
    rows = []
    for user in expected(meeting):
        p = people.get(user.id)
        joined = bool(p and p.first_joined_at)
        mode = p.mode if joined else (Mode.HALL if user.id in in_hall else None)
        rows.append(
            Row(
                user,
                user.id in guest_ids,
                joined,
                bool(p and p.connected),
                p.state if p else None,
                mode,
                p.drops if p else 0,
                minutes_connected(p, now) if p else 0,
                p.worst if joined else None,
            )
        )
    order = {None: 5, Quality.DISCONNECTED: 0, Quality.POOR: 1, Quality.DEGRADED: 2, Quality.GOOD: 3}
    return sorted(rows, key=lambda r: (not r.joined, order[r.state] if r.joined else 9, r.user.full_name))


def minutes_connected(person: Participant, now: datetime) -> int:
    seconds = person.connected_seconds
    if person.connected and person.connected_since is not None:
        # A page that vanished without saying goodbye counts until it was last heard from.
        seconds += _uncounted_seconds(person, min(now, person.last_seen_at or now))
    return seconds // 60


def participation(meetings: list[Meeting]) -> dict[int, dict[int, dict[str, int]]]:
    """For the evaluations plugin: per meeting held in a room (an in-person meeting reports nothing),
    minutes connected and drops of everyone expected, zeros included. Three queries whatever the
    number of meetings, plus one per office."""
    ids = [s.id for s in meetings]
    rooms = {r.session_id: r for r in db.session.scalars(select(Room).where(Room.session_id.in_(ids)))}
    online = {s.id for s in meetings if s.id in rooms and kind_of(s, rooms[s.id]) != "in_person"}
    people: dict[int, dict[int, Participant]] = {i: {} for i in online}
    for person in db.session.scalars(select(Participant).where(Participant.session_id.in_(online))):
        people[person.session_id][person.user_id] = person
    invited: dict[int, list[int]] = {i: [] for i in online}
    for session_id, user_id in db.session.execute(
        select(Guest.session_id, Guest.user_id).where(Guest.session_id.in_(online))
    ):
        invited[session_id].append(user_id)
    cells: dict[int, list[int]] = {}
    now, result = utcnow(), {}
    for meeting in (s for s in meetings if s.id in online):
        if meeting.office_id not in cells:
            cells[meeting.office_id] = [u.id for u in scheduling.members(meeting.office_id)]
        here = people[meeting.id]
        result[meeting.id] = {
            user_id: {
                "minutes_connected": minutes_connected(here[user_id], now) if user_id in here else 0,
                "drops": here[user_id].drops if user_id in here else 0,
            }
            for user_id in dict.fromkeys([*cells[meeting.office_id], *invited[meeting.id]])
        }
    return result


def events(meeting: Meeting, limit: int = 200) -> list[Event]:
    return list(
        db.session.scalars(
            select(Event).where(Event.session_id == meeting.id).order_by(Event.at.desc(), Event.id.desc()).limit(limit)
        )
    )


# --- keeping the samples table small --------------------------------------------------------------------


def roll_up(older_than: timedelta, now: datetime | None = None) -> int:
    """Fold samples older than ``older_than`` into their participants' summaries and delete them;
    returns how many were folded. ``flask --app wsgi meetings roll-up`` runs it (cron)."""
    cutoff = (now or utcnow()) - older_than
    rows = db.session.execute(
        select(
            Sample.session_id,
            Sample.user_id,
            func.count(Sample.id),
            func.coalesce(func.sum(Sample.rtt_ms), 0.0),
            func.coalesce(func.max(Sample.loss_pct), 0.0),
        )
        .where(Sample.at < cutoff)
        .group_by(Sample.session_id, Sample.user_id)
    ).all()
    for session_id, user_id, count, rtt_sum, loss_max in rows:
        person = db.session.scalars(
            select(Participant)
            .where(  # locked: an ingest may be changing it too
                Participant.session_id == session_id, Participant.user_id == user_id
            )
            .with_for_update()
            .execution_options(populate_existing=True)
        ).first()
        if person is not None:
            person.rolled_samples += count
            person.rolled_rtt_sum += float(rtt_sum)
            person.rolled_loss_max = max(person.rolled_loss_max, float(loss_max))
    folded = db.session.execute(delete(Sample).where(Sample.at < cutoff)).rowcount or 0
    db.session.execute(delete(Batch).where(Batch.received_at < cutoff - timedelta(days=1)))
    return folded


def close_room(meeting: Meeting) -> None:
    """The meeting closed: whoever is still connected is counted up to now and disconnected."""
    now = utcnow()
    for person in db.session.scalars(
        select(Participant)
        .where(Participant.session_id == meeting.id, Participant.connected.is_(True))
        .with_for_update()
        .execution_options(populate_existing=True)
    ):
        _disconnect(person, min(now, person.last_seen_at or now))
    live.publish_on_commit(board_channel(meeting.id), prompt=True)
