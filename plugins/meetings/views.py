"""Meeting-room pages: the room (Jitsi, external link or hall), the token for a rejoin, the quality
ingest, the link probes of the pre-call check, follow-along mode, the chair's board and report, the
room's settings and guests, the office's Jitsi settings; and the ``meetings roll-up`` command."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import click
from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.cli import AppGroup
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.exceptions import RequestEntityTooLarge

from intranet.access import can, managed_office_or_404
from intranet.extensions import csrf, db
from intranet.forms import form_errors_text
from intranet.live_regions import LiveRegions
from intranet.offline import offline_copy
from intranet.plugins import cross_office_view, manager
from intranet.refusals import ServiceError, respond
from intranet.security import allow_frames
from intranet_scheduling.models import Document as SchedulingDocument
from intranet_scheduling.models import Meeting, SessionStatus

from . import jitsi, services, signals, turn
from .forms import ConfigForm, GuestForm, NotesForm, RoomForm
from .models import JitsiAuth, Participant, Room
from .providers import all_providers

bp = Blueprint("meetings", __name__, url_prefix="/meetings", template_folder="templates", static_folder="static")
cli = AppGroup("meetings", help="Meeting rooms.")
PROBE = b"\0" * 64 * 1024  # the pre-call check's download, to estimate throughput
MAX_BATCH_BYTES = 64 * 1024  # a full batch of 60 samples and 60 events is about 12 KiB


def _office_of(session_id: int) -> int | None:
    return db.session.scalar(select(Meeting.office_id).where(Meeting.id == session_id))


# A meeting's pages are open to its invited guests of other offices while the plugin is on for the
# meeting's own office (the core's gate checks that before the view runs).
guest_view = cross_office_view(_office_of)


# --- access -------------------------------------------------------------------------------------------


def _meeting(session_id: int) -> Meeting:
    """The meeting, for a member of its cell or an invited guest (of any office)."""
    meeting = db.session.get(Meeting, session_id)
    if meeting is None or not manager().is_enabled(meeting.office_id, "meetings"):
        abort(404)
    if meeting.office_id != current_user.office_id and not services.is_guest(current_user, meeting):
        abort(404)
    if not services.may_join(current_user, meeting):
        abort(403)
    return meeting


def _moderated(session_id: int) -> Meeting:
    meeting = _meeting(session_id)
    if not services.is_moderator(current_user, meeting):
        abort(403)
    return meeting


# --- the room -----------------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>")
@guest_view
def room(session_id: int):
    meeting = _meeting(session_id)
    room = services.room_for(meeting)
    services.enter(meeting, current_user._get_current_object())
    db.session.commit()  # the room's name is made once, on first visit; the entry is the server's sighting
    config = services.config_for(meeting.office_id)
    providers = all_providers(meeting.office_id)
    provider = providers.get(room.provider) or providers["in_person"]
    page = {
        "session": meeting.id,
        "ingest": url_for("meetings.ingest", session_id=meeting.id),
        "token": url_for("meetings.fresh_token", session_id=meeting.id),
        "ingestToken": services.ingest_token(meeting.id, current_user.id),
        "ping": url_for("meetings.ping", session_id=meeting.id),
        "probe": url_for("meetings.probe", session_id=meeting.id),
        "probeBytes": len(PROBE),
        "follow": url_for("meetings.follow", session_id=meeting.id),
        "domains": jitsi.domains(config),
        "room": jitsi.room_path(config, room.room_name),
        "name": current_user.full_name,
        "lang": str(get_locale()),
        "joinMs": current_app.config["MEETINGS_JOIN_SECONDS"] * 1000,
    }
    page["scripts"] = {domain: jitsi.script_url(config, domain) for domain in page["domains"]}
    if turn.configured(config):
        page["turn"] = url_for("meetings.turn_credentials", session_id=meeting.id)
    if provider.name == "jitsi":
        allow_frames(*page["domains"])  # their external_api.js and the call's iframe
    return render_template(
        provider.template,
        session=meeting,
        room=room,
        office_config=config,
        page=page,
        is_open=services.room_open(meeting),
        opens_at=services.opens_at(meeting),
        moderator=services.is_moderator(current_user, meeting),
        checked_in=_checked_in(meeting),
        providers=providers,
        followed=services.followed_kind(meeting, config),
        planner=can(current_user, "scheduling.plan", meeting.office_id),
    )


def _checked_in(meeting: Meeting) -> bool:
    person = db.session.get(Participant, (meeting.id, current_user.id))
    return bool(person and person.first_joined_at)


def _not_open_yet(meeting: Meeting):
    return jsonify(error=_("The room opens at %(time)s.", time=services.shown(services.opens_at(meeting)))), 409


@bp.route("/sessions/<int:session_id>/token")
@guest_view
def fresh_token(session_id: int):
    """A fresh, short-lived token (first join and each rejoin after a fatal error)."""
    meeting = _meeting(session_id)
    if not services.room_open(meeting):
        return _not_open_yet(meeting)
    config = services.config_for(meeting.office_id)
    room = services.room_for(meeting)
    domain = request.args.get("domain", config.jitsi_domain)
    if domain not in jitsi.domains(config):
        abort(400)
    services.enter(meeting, current_user._get_current_object())
    db.session.commit()
    token = jitsi.token(
        config, domain, room.room_name, current_user, moderator=services.is_moderator(current_user, meeting)
    )
    response = jsonify(jwt=token, room=jitsi.room_path(config, room.room_name), domain=domain)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sessions/<int:session_id>/turn")
@guest_view
def turn_credentials(session_id: int):
    """Credentials for the office's TURN server, for the pre-call test: to those who may join the
    meeting, while its room is open; time-limited where the office set a shared secret."""
    meeting = _meeting(session_id)
    config = services.config_for(meeting.office_id)
    if not turn.configured(config):
        abort(404)
    if not services.room_open(meeting):
        return _not_open_yet(meeting)
    servers, expires = turn.ice_servers(config, current_user)
    response = jsonify(iceServers=servers, expires=expires)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/sessions/<int:session_id>/ingest")
@guest_view
@csrf.exempt  # sendBeacon cannot send the CSRF header: the batch carries the page's ingest token
def ingest(session_id: int):
    meeting = _meeting(session_id)
    # Enforced on the stream as it is read (a chunked body has no Content-Length to check beforehand):
    # reading past the cap raises, where ``get_data`` would quietly stop at it.
    request.max_content_length = MAX_BATCH_BYTES
    try:
        payload = json.loads(b"".join(iter(lambda: request.stream.read(16 * 1024), b"")) or b"null")
    except RequestEntityTooLarge:
        return jsonify(error="batch too large"), 413
    except (ValueError, RecursionError):  # RecursionError: JSON nested deeper than the parser goes
        return jsonify(error="not JSON"), 400
    try:
        verdict = services.ingest(meeting, current_user._get_current_object(), payload)
        db.session.commit()
    except services.RateLimited as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 429, {"Retry-After": str(exc.retry_after)}
    except ServiceError as exc:
        db.session.rollback()
        return jsonify(error=str(exc)), 422
    floor = (
        manager()
        .for_office(meeting.office_id)
        .intranet_session_floor(session=meeting, user=current_user._get_current_object())
    )
    return jsonify({**verdict.as_json(), "floor": bool(floor)})


@bp.route("/sessions/<int:session_id>/ping")
@guest_view
def ping(session_id: int):
    _meeting(session_id)
    response = Response(status=204)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/sessions/<int:session_id>/probe")
@guest_view
def probe(session_id: int):
    _meeting(session_id)
    return Response(PROBE, mimetype="application/octet-stream", headers={"Cache-Control": "no-store"})


@bp.post("/sessions/<int:session_id>/check-in")
@guest_view
def check_in(session_id: int):
    meeting = _meeting(session_id)
    return respond(
        lambda: services.check_in(meeting, current_user._get_current_object()),
        url_for("meetings.room", session_id=meeting.id),
        _("You are checked in: you count as present."),
    )


# --- live regions: the chair's notes (follow-along) and the connection board ---------------------------


def _notes_html(session_id: int) -> str:
    return render_template("meetings/_notes.html", room=db.session.get(Room, session_id))


def _board_html(session_id: int) -> str:
    meeting = db.session.get(Meeting, session_id)
    return render_template(
        "meetings/_board.html", rows=services.board(meeting), session=meeting, signals=signals.basis(meeting.id)
    )


# The live regions of a meeting's pages (routes /sessions/<id>/stream?page=… and /sessions/<id>/poll/…),
# each shared by all its viewers: one render per change.
live_regions = LiveRegions(bp, "/sessions/<int:session_id>", load=_meeting, office_of=_office_of)
live_regions.region("notes", services.notes_channel, _notes_html)
live_regions.region(
    "board", services.board_channel, _board_html, allowed=lambda meeting: services.is_moderator(current_user, meeting)
)
live_regions.page("follow", "notes")
live_regions.page("board", "board")


# --- follow-along -------------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/follow")
@guest_view
@offline_copy("shell")
def follow(session_id: int):
    """The thinnest way to stay in the meeting: the report and slides as text, the chair's notes,
    the dial-in details, and what other plugins put in the ``meeting_follow`` slot (the question queue)."""
    meeting = _meeting(session_id)
    room = services.room_for(meeting)
    services.follow_along(meeting, current_user._get_current_object())
    db.session.commit()
    documents = _latest_documents(meeting)
    return render_template(
        "meetings/follow.html",
        session=meeting,
        room=room,
        documents=documents,
        documents_version=_documents_version(meeting, documents),
        **live_regions.page_context("follow", {"session_id": meeting.id}, {}),
    )


@bp.route("/sessions/<int:session_id>/documents")
@guest_view
@offline_copy("kept")
def documents(session_id: int):
    """A meeting's documents as text — the report, the slides, the discussion questions — the page a
    member keeps on their device to read with no connection."""
    meeting = _meeting(session_id)
    documents = _latest_documents(meeting)
    response = Response(
        render_template(
            "meetings/documents.html",
            session=meeting,
            documents=documents,
            questions=_discussion_questions(meeting),
            version=_documents_version(meeting, documents),
        )
    )
    response.headers["X-Offline-Version"] = _documents_version(meeting, documents)
    return response


def _latest_documents(meeting: Meeting) -> list[SchedulingDocument]:
    documents = db.session.scalars(
        select(SchedulingDocument)
        .where(SchedulingDocument.session_id == meeting.id)
        .order_by(SchedulingDocument.kind, SchedulingDocument.version.desc())
    ).all()
    latest = {}
    for document in documents:
        latest.setdefault(document.kind, document)
    return list(latest.values())


def _discussion_questions(meeting: Meeting) -> list[str]:
    """Shown to members once the documents are sent, as on the meeting's page."""
    return [q.text for q in meeting.questions] if meeting.status != SessionStatus.PLANNED else []


def _documents_version(meeting: Meeting, documents: list[SchedulingDocument]) -> str:
    """Changes whenever a new version of a document is sent or the discussion questions change."""
    questions = hashlib.sha256("\n".join(_discussion_questions(meeting)).encode()).hexdigest()[:8]
    return "-".join([*(f"{d.kind.value}{d.version}.{d.id}" for d in documents), questions])


# --- the chair's board, notes and report --------------------------------------------------------------


@bp.route("/sessions/<int:session_id>/board")
@guest_view
def board(session_id: int):
    meeting = _moderated(session_id)
    room = services.room_for(meeting)
    db.session.commit()
    return render_template(
        "meetings/board.html",
        session=meeting,
        room=room,
        notes_form=NotesForm(notes=room.notes),
        **live_regions.page_context("board", {"session_id": meeting.id}, {}),
    )


@bp.post("/sessions/<int:session_id>/notes")
@guest_view
def save_notes(session_id: int):
    meeting = _moderated(session_id)
    form = NotesForm()
    return respond(
        lambda: services.save_notes(meeting, current_user, form.notes.data),
        url_for("meetings.board", session_id=meeting.id),
        _("Notes sent to follow-along."),
        form,
    )


@bp.route("/sessions/<int:session_id>/report")
@guest_view
def report(session_id: int):
    meeting = _moderated(session_id)
    return render_template(
        "meetings/report.html", session=meeting, rows=services.board(meeting), events=services.events(meeting)
    )


# --- the room's settings and guests (the meeting's planners) -------------------------------------------


@bp.post("/sessions/<int:session_id>/room")
def set_room(session_id: int):
    meeting = _meeting(session_id)
    form = RoomForm()
    form.provider.choices = _room_choices(meeting.office_id)
    return respond(
        lambda: services.set_room(
            meeting,
            current_user,
            provider=form.provider.data,
            external_url=form.external_url.data,
            dial_in=form.dial_in.data,
        ),
        url_for("scheduling.session", session_id=meeting.id) + "#meeting-room",
        _("The meeting room is set."),
        form,
    )


@bp.post("/sessions/<int:session_id>/guests")
def invite_guest(session_id: int):
    meeting = _meeting(session_id)
    form = GuestForm()
    return respond(
        lambda: services.invite_guest(meeting, current_user, form.username.data),
        url_for("scheduling.session", session_id=meeting.id) + "#meeting-room",
        _("Guest invited."),
        form,
    )


def session_panel(meeting: Meeting) -> str:
    """On the meeting's page: how it is held, the way in, and for the planners the room's settings."""
    if not services.may_join(current_user, meeting):
        return ""
    room = db.session.get(Room, meeting.id)
    pinned = room is not None and room.pinned_at is not None
    form = RoomForm(
        formdata=None,
        provider=room.provider if pinned else services.FOLLOW_MEETING,
        external_url=room.external_url if room else "",
        dial_in=room.dial_in if room else "",
    )
    form.provider.choices = _room_choices(meeting.office_id)
    return render_template(
        "meetings/_session.html",
        session=meeting,
        room=room,
        form=form,
        guest_form=GuestForm(),
        guests=services.guests(meeting),
        providers=all_providers(meeting.office_id),
        pinned=pinned,
        kind=services.kind_of(meeting, room),
        followed=services.followed_kind(meeting, services.config_for(meeting.office_id)),
        planner=can(current_user, "scheduling.plan", meeting.office_id),
        moderator=services.is_moderator(current_user, meeting),
        is_open=services.room_open(meeting),
        opens_at=services.opens_at(meeting),
    )


def _room_choices(office_id: int) -> list[tuple[str, str]]:
    return [
        (services.FOLLOW_MEETING, _("Follow the meeting's mode (in the hall, or online when it is online)")),
        *((p.name, p.label) for p in all_providers(office_id).values()),
    ]


# --- the office's Jitsi ---------------------------------------------------------------------------------


@bp.route("/config", methods=["GET", "POST"], defaults={"office_id": None})
@bp.route("/config/<int:office_id>", methods=["GET", "POST"])
def config(office_id: int | None):
    office = managed_office_or_404(office_id or current_user.office_id)
    current = services.config_for(office.id)
    form = ConfigForm(obj=current if request.method == "GET" else None)
    if request.method == "GET":
        form.auth.data = current.auth.value
        # secrets never go back to a browser
        form.app_secret.data = form.jaas_private_key.data = form.turn_credential.data = form.turn_secret.data = ""
    if form.validate_on_submit():
        # A text field left out of the post counts as empty, as an empty one does.
        texts = ("jitsi_domain", "backup_domains", "app_id", "jaas_key_id", "turn_urls", "turn_username")
        fields = {name: getattr(form, name).data or "" for name in texts}
        fields.update({name: getattr(form, name).data for name in services.THRESHOLDS})
        fields["auth"] = JitsiAuth(form.auth.data)
        given = {name: getattr(form, name).data or "" for name in services.SECRETS}
        try:
            services.save_config(office.id, current_user, secrets_given=given, **fields)
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("The online meeting settings of %(office)s are saved.", office=office.name), "success")
            return redirect(url_for("meetings.config", office_id=office.id))
    elif request.method == "POST":
        flash(form_errors_text(form), "error")
    return render_template(
        "meetings/config.html",
        form=form,
        office=office,
        has_secret=bool(current.app_secret),
        has_key=bool(current.jaas_private_key),
        has_turn_secret=bool(current.turn_secret),
        has_turn_credential=bool(current.turn_credential),
    )


@cli.command("roll-up")
@click.option("--hours", type=int, default=None, help="Fold samples older than this (default: the setting).")
def roll_up_command(hours: int | None):
    """Fold old quality samples into per-participant summaries (for cron)."""
    keep = hours if hours is not None else current_app.config["MEETINGS_SAMPLE_KEEP_HOURS"]
    folded = services.roll_up(timedelta(hours=keep))
    db.session.commit()
    click.echo(f"{folded} samples rolled up")
