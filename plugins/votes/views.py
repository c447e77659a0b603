"""Votes pages: a meeting's votes (the member's ballot, the chair's controls, the counting committee's
tally), the projector part, the office's rules, their live regions, and what other plugins' pages
show through template slots.

A posted action answers through ``respond``: a page gets a redirect and a flash, htmx and the browser's
outbox (``X-Outbox``) 204 or 422 with the reason. The ballot is cheap: a few statements, no page
rendered; the live regions bring the change, rendered once per change for everyone."""

from __future__ import annotations

from functools import partial
from types import SimpleNamespace

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from intranet import live
from intranet.access import can
from intranet.extensions import db
from intranet.idempotency import idempotent
from intranet.live_regions import LiveRegions
from intranet.models import User
from intranet.params import parse_int
from intranet.refusals import ServiceError, respond
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionStatus

from . import rules, services
from .models import Base, Choice, Form, Status, Subject, Vote

bp = Blueprint("votes", __name__, url_prefix="/votes", template_folder="templates", static_folder="static")

SUBJECT_LABELS = {
    Subject.RESOLUTION: _l("The meeting's resolution"),
    Subject.MOTION: _l("A motion"),
    Subject.ADMISSION: _l("Admitting a member"),
    Subject.OFFICIAL_MEMBERSHIP: _l("Recognising an official member"),
    Subject.COMMENDATION: _l("A commendation"),
    Subject.DISCIPLINE: _l("Discipline"),
}
FORM_LABELS = {Form.OPEN: _l("Open vote"), Form.SECRET: _l("Secret ballot"), Form.EITHER: _l("The chair chooses")}
BASE_LABELS = {
    Base.OFFICIAL: _l("of the cell's official members"),
    Base.PRESENT: _l("of the official members present"),
}
CHOICE_LABELS = {Choice.FOR: _l("In favour"), Choice.AGAINST: _l("Against"), Choice.OTHER: _l("Other opinion")}
STATUS_LABELS = {
    Status.OPEN: _l("Voting"),
    Status.COUNTING: _l("Closed: the counting committee is counting"),
    Status.FINAL: _l("Final"),
}


@bp.app_template_global("votes_labels")
def votes_labels():
    return {
        "subject": SUBJECT_LABELS,
        "form": FORM_LABELS,
        "base": BASE_LABELS,
        "choice": CHOICE_LABELS,
        "status": STATUS_LABELS,
    }


@bp.app_template_global("votes_share")
def votes_share(rule) -> str:
    """ "more than 1/2 of the cell's official members": a rule or a vote, as the chair reads it."""
    share = f"{rule.numerator}/{rule.denominator}"
    words = _("more than %(share)s", share=share) if rule.strict else _("at least %(share)s", share=share)
    return f"{words} {BASE_LABELS[rule.base]}"


# --- access ------------------------------------------------------------------------------------------


def _meeting(session_id: int) -> Meeting:
    """The right first (403 whether or not the meeting exists), then the meeting of the user's office."""
    if not services.may_follow(current_user, current_user.office_id):
        abort(403)
    meeting = db.session.get(Meeting, session_id)
    if meeting is None or meeting.office_id != current_user.office_id:
        abort(404)
    return meeting


def _vote(vote_id: int) -> Vote:
    if not services.may_follow(current_user, current_user.office_id):
        abort(403)
    vote = db.session.get(Vote, vote_id, options=[joinedload(Vote.session)])  # every action reads its meeting
    if vote is None or vote.office_id != current_user.office_id:
        abort(404)
    return vote


def _is_chair(meeting: Meeting) -> bool:
    return services.is_chair(current_user, meeting)


def _counts_or_chairs(meeting: Meeting) -> bool:
    return _is_chair(meeting) or any(services.on_committee(current_user, v) for v in services.votes_of(meeting))


def _page_url(session_id: int, anchor: str = "") -> str:
    return url_for("votes.meeting", session_id=session_id) + anchor


# --- regions -----------------------------------------------------------------------------------------


def _region_html(region: str, session_id: int, user_id: int | None = None) -> str:
    """Rendered afresh for a stream; forms carry ``live.TOKEN_SLOT`` (the page fills in the viewer's token)."""
    meeting = db.session.get(Meeting, session_id)
    votes = services.votes_of(meeting)
    common = {"session": meeting, "votes": votes, "csrf": live.TOKEN_SLOT, "Status": Status}
    if region in ("panel", "screen"):
        shown = votes if region == "panel" else votes[:1]
        return render_template(
            "votes/_panel.html" if region == "panel" else "votes/_screen.html",
            counts={v.id: services.counts(v) for v in shown if v.status == Status.FINAL or v.live_counts},
            voted={v.id: services.voted_count(v) for v in shown if v.status != Status.FINAL},
            voters={v.id: services.named_choices(v) for v in shown if v.status == Status.FINAL and not v.secret},
            codes={v.id: services.counted_codes(v) for v in shown if v.secret},
            **common,
        )
    if region == "mine":
        if not votes:  # nothing to say yet (one statement on every queue page before the first vote)
            return render_template("votes/_mine.html", mine={}, refusal=None, **common)
        return render_template(
            "votes/_mine.html",
            mine=services.my_voters(meeting, user_id),
            refusal=services.refusal(meeting, db.session.get(User, user_id)),
            **common,
        )
    if region == "conduct":
        present = services.eligible_present(meeting)
        official = len(services.official_members(meeting.office_id))
        current = next((v for v in votes if v.status == Status.OPEN), None)
        return render_template(
            "votes/_conduct.html",
            previews={s: services.preview(meeting, s, present=present, official=official) for s in Subject},
            present=present,
            current=current,
            recorded={v.user_id: v for v in services.voters(current)} if current else {},
            members=scheduling.members(meeting.office_id),
            named=services.named_chair(meeting),
            in_progress=meeting.status == SessionStatus.IN_PROGRESS,
            **common,
        )
    if region == "count":
        counting = [v for v in votes if v.secret and v.status != Status.FINAL]
        present = services.eligible_present(meeting)
        return render_template(
            "votes/_count.html",
            counting=counting,
            present=present,
            recorded={v.id: {r.user_id: r for r in services.voters(v)} for v in counting},
            paper={v.id: services.paper_voters(v) for v in counting},
            **common,
        )
    abort(404)


live_regions = LiveRegions(bp, "/sessions/<int:session_id>", load=_meeting)
live_regions.region("panel", services.panel_channel, partial(_region_html, "panel"))
live_regions.region("mine", services.mine_channel, partial(_region_html, "mine"), per_user=True)
live_regions.region("conduct", services.panel_channel, partial(_region_html, "conduct"), allowed=_is_chair)
live_regions.region("count", services.panel_channel, partial(_region_html, "count"), allowed=_counts_or_chairs)
live_regions.region("screen", services.panel_channel, partial(_region_html, "screen"))
live_regions.page("member", "panel", "mine")
live_regions.page("counter", "panel", "mine", "count")
live_regions.page("chair", "panel", "mine", "conduct", "count")
live_regions.page("screen", "screen")


def _live_page(meeting: Meeting, page: str) -> dict:
    context = live_regions.page_context(page, {"session_id": meeting.id}, {})
    token = generate_csrf()
    context["regions"] = {name: live.with_token(part, token) for name, part in context["regions"].items()}
    return context


def _settle(meeting: Meeting) -> None:
    """A vote whose time ran out (or whose meeting ended) is closed when anyone next looks (in a
    transaction of its own)."""
    for vote in services.votes_of(meeting):
        services.close_if_due(vote)


# --- pages -------------------------------------------------------------------------------------------


@bp.route("/")
def index():
    if not services.may_follow(current_user, current_user.office_id):
        abort(403)
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.office_id == current_user.office_id).order_by(Meeting.starts_at.desc()).limit(30)
    ).all()
    return render_template(
        "votes/index.html",
        ongoing=[m for m in meetings if m.status == SessionStatus.IN_PROGRESS],
        others=[m for m in meetings if m.status != SessionStatus.IN_PROGRESS][:10],
        may_set_rules=can(current_user, "votes.rules", current_user.office_id),
    )


@bp.route("/sessions/<int:session_id>")
def meeting(session_id: int):
    meeting = _meeting(session_id)
    _settle(meeting)
    chair = _is_chair(meeting)
    page = "chair" if chair else "counter" if _counts_or_chairs(meeting) else "member"
    return render_template("votes/meeting.html", session=meeting, chair=chair, page=page, **_live_page(meeting, page))


@bp.route("/sessions/<int:session_id>/screen")
def screen(session_id: int):
    meeting = _meeting(session_id)
    _settle(meeting)
    return render_template("votes/screen.html", session=meeting, **_live_page(meeting, "screen"))


# --- actions -----------------------------------------------------------------------------------------


def _refuse(message: str):
    raise ServiceError(message)


def _choice() -> Choice | None:
    try:
        return Choice(request.form.get("choice", ""))
    except ValueError:
        return None


def _member(vote: Vote) -> User | None:
    """A member of the vote's cell named by the form (None: no such member; the service says why not)."""
    member_id = parse_int(request.form.get("member_id", ""))
    member = db.session.get(User, member_id) if member_id else None
    return member if member is not None and member.office_id == vote.office_id else None


@bp.post("/sessions/<int:session_id>/open")
def open_vote(session_id: int):
    meeting = _meeting(session_id)
    try:
        subject = Subject(request.form.get("subject", ""))
    except ValueError:
        return respond(lambda: _refuse(_("Choose what kind of vote this is.")), _page_url(meeting.id))
    committee_ids = [parse_int(raw) for raw in request.form.getlist("committee")]
    committee = [db.session.get(User, i) for i in committee_ids if i]
    if None in committee or len(committee) != len(committee_ids):
        return respond(
            lambda: _refuse(_("Choose the counting committee among the members present.")), _page_url(meeting.id)
        )
    actor = current_user._get_current_object()
    return respond(
        lambda: services.open_vote(
            meeting,
            actor,
            subject=subject,
            title=request.form.get("title", ""),
            secret=request.form.get("secret") == "1",
            minutes=parse_int(request.form.get("minutes", ""), 0, 1000),
            live_counts=request.form.get("live_counts") == "1",
            committee=committee,
        ),
        _page_url(meeting.id),
        _("The vote is open."),
    )


@bp.post("/sessions/<int:session_id>/chair")
def name_chair(session_id: int):
    meeting = _meeting(session_id)
    member_id = parse_int(request.form.get("member_id", ""))
    member = db.session.get(User, member_id) if member_id else None
    if member_id is None or (member_id and member is None):
        return respond(lambda: _refuse(_("Choose a member of the cell, or nobody.")), _page_url(meeting.id))
    actor = current_user._get_current_object()
    return respond(
        lambda: services.name_chair(meeting, actor, member),
        _page_url(meeting.id, "#conduct"),
        _("The chair of this meeting's votes is named."),
    )


@bp.post("/votes/<int:vote_id>/cast")
@idempotent(private=("choice",))  # the key row names its member: it must not tell a secret ballot's choice
def cast(vote_id: int):
    vote = _vote(vote_id)
    back = _page_url(vote.session_id, "#votes-mine")
    choice, user, due = _choice(), current_user._get_current_object(), services.is_due(vote)
    if choice is None:
        return respond(lambda: _refuse(_("Choose in favour, against or other opinion.")), back)

    def success(code):
        if code:
            return _("Your ballot is in the box. Your receipt code: %(code)s", code=code)
        return _("Your vote is recorded.")

    answer = respond(lambda: services.cast(vote, user, choice), back, success)
    if due:  # refused above (rolled back with its idempotency key); the close is a transaction of its own
        services.close_if_due(vote)
    return answer


@bp.post("/votes/<int:vote_id>/hand")
def hand(vote_id: int):
    vote = _vote(vote_id)
    back = _page_url(vote.session_id, "#conduct")
    member, choice, actor = _member(vote), _choice(), current_user._get_current_object()
    if member is None or choice is None:
        return respond(lambda: _refuse(_("Choose a member present and how they voted.")), back)
    return respond(lambda: services.record_hand(vote, actor, member, choice), back, _("The hand is recorded."))


@bp.post("/votes/<int:vote_id>/paper")
def paper(vote_id: int):
    vote = _vote(vote_id)
    back = _page_url(vote.session_id, "#count")
    member, actor = _member(vote), current_user._get_current_object()
    if member is None:
        return respond(lambda: _refuse(_("Choose a member present.")), back)
    return respond(
        lambda: services.hand_paper_ballot(vote, actor, member),
        back,
        _("%(name)s votes on paper.", name=member.full_name),
    )


@bp.post("/votes/<int:vote_id>/close")
def close(vote_id: int):
    vote = _vote(vote_id)
    actor = current_user._get_current_object()
    return respond(lambda: services.close(vote, actor), _page_url(vote.session_id), _("The vote is closed."))


@bp.post("/votes/<int:vote_id>/tally")
def tally(vote_id: int):
    vote = _vote(vote_id)
    numbers = {
        name: parse_int(request.form.get(name, ""), 0, services.TALLY_MAX) for name in ("in_favour", "against", "other")
    }
    actor = current_user._get_current_object()
    return respond(
        lambda: services.enter_tally(vote, actor, **numbers),
        _page_url(vote.session_id, "#count"),
        _("The paper ballots' tally is entered."),
    )


@bp.post("/votes/<int:vote_id>/confirm")
def confirm(vote_id: int):
    vote = _vote(vote_id)
    actor = current_user._get_current_object()
    return respond(
        lambda: services.confirm(vote, actor),
        _page_url(vote.session_id),
        _("The count is confirmed: it goes to the minutes."),
    )


# --- the office's rules --------------------------------------------------------------------------------


@bp.route("/rules", methods=["GET", "POST"])
def rules_page():
    office_id = current_user.office_id
    if not can(current_user, "votes.rules", office_id):
        abort(403)
    if request.method == "POST":
        return _save_rules(office_id)
    return _rules_html(current={s: services.rule(office_id, s) for s in Subject})


def _rules_html(current: dict):
    return render_template("votes/rules.html", current=current, defaults=rules.DEFAULTS)


def _save_rules(office_id: int):
    """All six rules or none; refused, the page comes back with what was typed (nothing lost)."""
    actor = current_user._get_current_object()
    try:
        for subject in Subject:
            prefix = subject.value
            try:
                form = Form(request.form.get(f"{prefix}-form", ""))
                base = Base(request.form.get(f"{prefix}-base", ""))
            except ValueError:
                raise ServiceError(_("Choose the form and the base of each kind of vote."), f"{prefix}-form") from None
            numerator = parse_int(request.form.get(f"{prefix}-numerator", ""), 0, 1000)
            denominator = parse_int(request.form.get(f"{prefix}-denominator", ""), 0, 1000)
            services.save_rule(
                office_id,
                subject,
                actor,
                form=form,
                base=base,
                numerator=numerator or 0,
                denominator=denominator or 0,
                strict=request.form.get(f"{prefix}-strict") == "1",
            )
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _rules_html(current={s: _typed_rule(s.value) for s in Subject}), 422
    flash(_("The cell's voting rules are saved."), "success")
    return redirect(url_for("votes.rules_page"))


def _typed_rule(prefix: str) -> SimpleNamespace:
    """A rule as the form sent it, for the page to show again (the template compares and escapes)."""
    typed = {name: request.form.get(f"{prefix}-{name}", "") for name in ("form", "base", "numerator", "denominator")}
    return SimpleNamespace(**typed, strict=request.form.get(f"{prefix}-strict") == "1")


# --- what other plugins' pages show (template slots) -------------------------------------------------------


def _in_cell(meeting: Meeting) -> bool:
    return meeting.office_id == current_user.office_id and services.may_follow(current_user, meeting.office_id)


def slot_panel_html(meeting: Meeting) -> str:
    """The queue page and the follow-along page: the votes and the member's ballot, live."""
    if not _in_cell(meeting):
        return ""
    return render_template("votes/_slot_panel.html", session=meeting, **_live_page(meeting, "member"))


def slot_screen_html(meeting: Meeting) -> str:
    """The projector view: the current vote in large type (counts after closing for a secret ballot)."""
    if not _in_cell(meeting):
        return ""
    return render_template("votes/_slot_screen.html", session=meeting, **_live_page(meeting, "screen"))


def slot_link_html(meeting: Meeting) -> str:
    """The meeting's page: the way to its votes."""
    return render_template("votes/_slot_link.html", session=meeting) if _in_cell(meeting) else ""
