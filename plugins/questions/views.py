"""Question-queue pages: the member view, the chair's view, the projector view, their live regions
(one SSE stream per page, polling as the fallback) and the CSV exports.

A posted action answers a plain form with a redirect and a flash, an htmx request with 204 (the live
regions bring the change), and the browser's outbox (``X-Outbox``) with 204 or 422 and the reason."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from intranet import live
from intranet.csv_export import csv_response
from intranet.extensions import db
from intranet.idempotency import idempotent
from intranet.live_regions import LiveRegions
from intranet.offline import offline_copy
from intranet.params import parse_int
from intranet.refusals import ServiceError, respond
from intranet_scheduling.models import Meeting, SessionStatus

from . import services
from .forms import (
    SORT_LABELS,
    SOURCE_LABELS,
    SPEAKER_STATE_LABELS,
    STATUS_LABELS,
    TO_GROUP,
    AskForm,
    EditForm,
    HallSpeakerForm,
    HandForm,
    HideForm,
    MergeForm,
    SettingsForm,
)
from .models import Anonymity, Question, QuestionStatus, Sort, Speaker, SpeakerSource, SpeakerState

bp = Blueprint("questions", __name__, url_prefix="/questions", template_folder="templates", static_folder="static")


@bp.app_template_global("questions_sort_labels")
def questions_sort_labels():
    return SORT_LABELS


@bp.app_template_global("questions_state_labels")
def questions_state_labels():
    """The labels of questions' states and speakers' sources: the pages and the CSV say the same."""
    return {**STATUS_LABELS, **SOURCE_LABELS}


@bp.app_template_global("question_author")
def question_author(question: Question, settings, to_chair: bool) -> str | None:
    """The author's name where this viewer may see it, else None (the template says "Anonymous")."""
    return question.author.full_name if services.author_shown(question, settings, to_chair=to_chair) else None


# --- access ----------------------------------------------------------------------------------------


# The right is checked before anything is looked up (403 whether or not the thing exists), and what
# the user may not know of is answered exactly as what does not exist (404).


def _meeting(session_id: int, *options) -> Meeting:
    """The meeting, if the user takes part in the office's meetings (403 first) and it is this office's;
    ``options`` load what the page reads of it in the same statement."""
    if not services.is_cell_member(current_user, current_user.office_id):
        abort(403)
    meeting = db.session.get(Meeting, session_id, options=options)
    if meeting is None or meeting.office_id != current_user.office_id:
        abort(404)
    return meeting


def _question(question_id: int) -> tuple[Question, Meeting]:
    """A question the user may know of: in the members' queue, their own, or (for the chair) any."""
    if not services.is_cell_member(current_user, current_user.office_id):
        abort(403)
    question = db.session.get(Question, question_id)
    if (
        question is None
        or question.office_id != current_user.office_id
        or not services.visible_to(question, current_user)
    ):
        abort(404)
    return question, _meeting(question.session_id)


def _turn(turn_id: int) -> tuple[Speaker, Meeting]:
    if not services.is_cell_member(current_user, current_user.office_id):
        abort(403)
    turn = db.session.get(Speaker, turn_id)
    if turn is None or turn.office_id != current_user.office_id:
        abort(404)
    return turn, _meeting(turn.session_id)


def _chair_page(meeting: Meeting):
    settings = services.queue_settings(meeting)
    if not services.is_chair(current_user, meeting, settings):
        abort(403)
    return settings


def _sort(meeting: Meeting, settings=None) -> Sort:
    """The order asked for in the URL, else the meeting's default (read only then: polls name theirs)."""
    try:
        return Sort(request.args["sort"])
    except (KeyError, ValueError):
        return (settings or services.queue_settings(meeting)).sort


def _member_url(meeting: Meeting, anchor: str = "") -> str:
    return url_for("questions.member", session_id=meeting.id) + anchor


def _chair_url(meeting: Meeting, anchor: str = "") -> str:
    return url_for("questions.chair", session_id=meeting.id) + anchor


def _back(meeting: Meeting) -> str:
    """Back to the page the action came from (the chair acts from both views)."""
    chair = services.is_chair(current_user, meeting)
    return _chair_url(meeting) if chair and request.form.get("from") == "chair" else _member_url(meeting)


# --- regions ---------------------------------------------------------------------------------------


def _region_html(region: str, session_id: int, sort: Sort, user_id: int | None = None) -> str:
    """Render a live region afresh (a stream renders long after the request began). The forms' token
    fields hold ``live.TOKEN_SLOT``: the page puts the viewer's token there for a browser without
    scripts, frames leave it empty. The member's votes are marked by the page script, never here."""
    meeting = db.session.get(Meeting, session_id)
    settings = services.queue_settings(meeting)
    common = {
        "session": meeting,
        "settings": settings,
        "sort": sort,
        "closed": meeting.status == SessionStatus.CLOSED,
        "csrf": live.TOKEN_SLOT,
    }
    if region in ("queue", "screen"):
        current = services.current_question(meeting, settings)
        questions = [q for q in services.queue(meeting, sort) if current is None or q.id != current.id]
        template = "questions/_queue.html" if region == "queue" else "questions/_screen.html"
        return render_template(template, questions=questions, current=current, **common)
    if region == "moderation":
        people = services.participants(meeting)
        return render_template(
            "questions/_moderation.html",
            current=services.current_question(meeting, settings),
            pending=services.queue(meeting, Sort.TIME, statuses=(QuestionStatus.PENDING,)),
            questions=services.queue(meeting, sort, statuses=(QuestionStatus.OPEN,)),
            done=services.queue(meeting, Sort.TIME, statuses=(QuestionStatus.ANSWERED, QuestionStatus.HIDDEN)),
            counters=services.counters(meeting, len(people)),
            **common,
        )
    if region in ("speakers", "chair-speakers", "screen-speaker"):
        return render_template(
            "questions/_speakers.html",
            listing=services.speakers(meeting, settings),
            chair=region == "chair-speakers",
            screen=region == "screen-speaker",
            people=services.participants(meeting) if region == "chair-speakers" else [],
            hall_form=HallSpeakerForm(),
            **common,
        )
    if region == "mine":  # two queries: the member's own questions and turns
        turns = services.my_turns(meeting, user_id)
        my_turn = next((t for t in turns if t.state in (SpeakerState.WAITING, SpeakerState.SPEAKING)), None)
        my_seconds = sum(t.seconds() for t in turns if t.state in (SpeakerState.SPEAKING, SpeakerState.DONE))
        return render_template(
            "questions/_mine.html",
            mine=services.my_questions(meeting, user_id),
            my_turn=my_turn,
            my_seconds=my_seconds,
            **common,
        )
    abort(404)


def _is_chair(meeting: Meeting) -> bool:
    return services.is_chair(current_user, meeting)


# The live regions of a meeting's pages (routes /sessions/<id>/stream?page=… and /sessions/<id>/poll/…).
# Every region but the member's own part is shared by all its viewers: one render per change and order.
live_regions = LiveRegions(
    bp, "/sessions/<int:session_id>", load=_meeting, options=lambda meeting: {"sort": _sort(meeting)}
)
live_regions.region("queue", services.queue_channel, partial(_region_html, "queue"))
live_regions.region("speakers", services.speakers_channel, partial(_region_html, "speakers"))
live_regions.region("mine", services.mine_channel, partial(_region_html, "mine"), per_user=True)
live_regions.region("moderation", services.queue_channel, partial(_region_html, "moderation"), allowed=_is_chair)
live_regions.region(
    "chair-speakers", services.speakers_channel, partial(_region_html, "chair-speakers"), allowed=_is_chair
)
live_regions.region("screen", services.queue_channel, partial(_region_html, "screen"))
live_regions.region("screen-speaker", services.speakers_channel, partial(_region_html, "screen-speaker"))
live_regions.page("member", "queue", "speakers", "mine")
live_regions.page("chair", "moderation", "chair-speakers")
live_regions.page("screen", "screen", "screen-speaker")
live_regions.page("follow", "queue", "speakers")  # in the meetings plugin's follow-along page (slot)


def _live_page(meeting: Meeting, page: str, sort: Sort) -> dict:
    """The page's regions as first shown: the shared renders (made once per change and order for every
    viewer), with the viewer's CSRF token put in their forms; and the page's stream and poll URLs."""
    context = live_regions.page_context(page, {"session_id": meeting.id}, {"sort": sort}, sort=sort.value)
    token = generate_csrf()
    context["regions"] = {name: live.with_token(part, token) for name, part in context["regions"].items()}
    return context


def _page_context(meeting: Meeting, page: str, settings, sort: Sort) -> dict:
    return {
        "session": meeting,
        "settings": settings,
        "sort": sort,
        "page": page,
        "closed": meeting.status == SessionStatus.CLOSED,
        **_live_page(meeting, page, sort),
    }


# --- pages -----------------------------------------------------------------------------------------


@bp.route("/")
def index():
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.office_id == current_user.office_id).order_by(Meeting.starts_at.desc()).limit(30)
    ).all()
    ongoing = [m for m in meetings if m.status != SessionStatus.CLOSED]
    return render_template(
        "questions/index.html",
        ongoing=sorted(ongoing, key=lambda m: m.starts_at),
        closed=[m for m in meetings if m.status == SessionStatus.CLOSED][:10],
    )


@bp.route("/sessions/<int:session_id>")
@offline_copy("shell")
def member(session_id: int):
    meeting = _meeting(session_id, joinedload(Meeting.questions))  # the ask form lists them
    settings = services.queue_settings(meeting)
    sort = _sort(meeting, settings)
    form = AskForm()
    form.target.choices = [(TO_GROUP, _("The presenting group")), *((q.id, q.text[:120]) for q in meeting.questions)]
    context = _page_context(meeting, "member", settings, sort)
    return render_template(
        "questions/member.html",
        form=form,
        chair=services.is_chair(current_user, meeting, settings),
        my_votes=sorted(services.voted_ids(meeting, current_user)),
        max_length=_max_length(),
        **context,
    )


def _max_length() -> int:
    return current_app.config["QUESTIONS_MAX_LENGTH"]


@bp.route("/sessions/<int:session_id>/chair")
def chair(session_id: int):
    meeting = _meeting(session_id)
    settings = _chair_page(meeting)
    sort = _sort(meeting, settings)
    form = SettingsForm(obj=settings, formdata=None)
    form.anonymity.data, form.sort.data = settings.anonymity.value, settings.sort.value
    form.chair_id.choices = [(0, "—"), *((u.id, u.full_name) for u in services.participants(meeting))]
    form.chair_id.data = settings.chair_id or 0
    return render_template("questions/chair.html", form=form, **_page_context(meeting, "chair", settings, sort))


@bp.route("/sessions/<int:session_id>/screen")
def screen(session_id: int):
    meeting = _meeting(session_id)
    settings = services.queue_settings(meeting)
    return render_template(
        "questions/screen.html", **_page_context(meeting, "screen", settings, _sort(meeting, settings))
    )


# --- member actions --------------------------------------------------------------------------------


@bp.post("/sessions/<int:session_id>/ask")
@idempotent
def ask(session_id: int):
    meeting = _meeting(session_id)
    form = AskForm()
    target = parse_int(request.form.get("target", str(TO_GROUP)))
    if target is None:
        return respond(lambda: _refuse(_("Choose one of this meeting's discussion questions.")), _member_url(meeting))
    target_id = target or None
    user = current_user._get_current_object()
    return respond(
        lambda: services.ask(
            meeting, user, form.text.data, discussion_question_id=target_id, through_chair=bool(form.through_chair.data)
        ),
        _member_url(meeting, "#mine"),
        _("Your question is in the queue."),
    )


def _refuse(message: str):
    raise ServiceError(message)


VOTE_STATES = {"1": True, "0": False}  # the form's ``on``: the state the member wants, never "switch it"


@bp.post("/questions/<int:question_id>/vote")
@idempotent
def vote(question_id: int):
    question, meeting = _question(question_id)
    user = current_user._get_current_object()
    on = VOTE_STATES.get(request.form.get("on", ""))
    if on is None:
        return respond(
            lambda: _refuse(_("Say whether you vote for this question or take your vote back.")),
            _member_url(meeting, f"#q{question.id}"),
        )
    return respond(
        lambda: services.set_vote(question, user, on),
        _member_url(meeting, f"#q{question.id}"),
        trigger=lambda now: {"questions:voted": {"id": question.id, "on": now}},
    )


@bp.post("/sessions/<int:session_id>/hand")
@idempotent
def raise_hand(session_id: int):
    meeting = _meeting(session_id)
    form = HandForm()
    question = None
    if form.question_id.data:
        question = db.session.get(Question, form.question_id.data)
        if question is None or question.session_id != meeting.id or not services.visible_to(question, current_user):
            abort(404)
    source = SpeakerSource.ROOM if request.form.get("source") == "room" else SpeakerSource.QUEUE
    user = current_user._get_current_object()
    return respond(
        lambda: services.raise_hand(meeting, user, source=source, question=question),
        _member_url(meeting, "#mine"),
        _("Your hand is raised: the chair sees you on the list."),
    )


@bp.post("/turns/<int:turn_id>/withdraw")
def withdraw(turn_id: int):
    turn, meeting = _turn(turn_id)
    return respond(lambda: services.withdraw(turn, current_user), _back(meeting))


# --- the chair's actions ---------------------------------------------------------------------------


@bp.post("/sessions/<int:session_id>/settings")
def save_settings(session_id: int):
    meeting = _meeting(session_id)
    form = SettingsForm()
    form.chair_id.choices = [(0, "—"), *((u.id, u.full_name) for u in services.participants(meeting))]
    chair_user = next((u for u in services.participants(meeting) if u.id == form.chair_id.data), None)
    return respond(
        lambda: services.save_settings(
            meeting,
            current_user,
            anonymity=Anonymity(form.anonymity.data),
            premoderation=form.premoderation.data,
            sort=Sort(form.sort.data),
            quiet_first=form.quiet_first.data,
            open_limit=form.open_limit.data,
            chair=chair_user,
        ),
        _chair_url(meeting),
        _("The queue's settings are changed."),
        form=form,
    )


ONE_CLICK = {
    "approve": services.approve,
    "pin": services.pin,
    "answer": services.mark_answered,
    "reopen": services.reopen,
}


@bp.post("/questions/<int:question_id>/approve", defaults={"action": "approve"})
@bp.post("/questions/<int:question_id>/pin", defaults={"action": "pin"})
@bp.post("/questions/<int:question_id>/answer", defaults={"action": "answer"})
@bp.post("/questions/<int:question_id>/reopen", defaults={"action": "reopen"})
def moderate_one_click(question_id: int, action: str):
    question, meeting = _question(question_id)
    return respond(lambda: ONE_CLICK[action](question, current_user), _back(meeting))


@bp.post("/sessions/<int:session_id>/unpin")
def unpin(session_id: int):
    meeting = _meeting(session_id)
    return respond(lambda: services.unpin(meeting, current_user), _back(meeting))


# What each correction says it did.
MODERATED = {
    "edit": _l("The question is corrected."),
    "hide": _l("The question is hidden."),
    "merge": _l("The question is merged into the one chosen; its support counts there."),
}


@bp.route("/questions/<int:question_id>/moderate", methods=["GET", "POST"])
def moderate(question_id: int):
    """Correct, hide or merge one question (forms with fields, so kept off the live regions)."""
    question, meeting = _question(question_id)
    settings = _chair_page(meeting)
    edit_form, hide_form, merge_form = EditForm(prefix="edit"), HideForm(prefix="hide"), MergeForm(prefix="merge")
    others = [
        q
        for q in services.queue(meeting, Sort.TIME, statuses=(QuestionStatus.OPEN, QuestionStatus.PENDING))
        if q.id != question.id
    ]
    merge_form.into.choices = [
        (0, _("— choose the question it repeats —")),
        *((q.id, f"#{q.id} · {q.text[:100]}") for q in others),
    ]
    if request.method == "POST":
        action = request.form.get("action")
        change = {
            "edit": lambda: services.edit(question, current_user, edit_form.text.data),
            "hide": lambda: services.hide(question, current_user, hide_form.reason.data),
            # validated first below: the target is one of this meeting's other questions
            "merge": lambda: services.merge(question, db.session.get(Question, merge_form.into.data), current_user),
        }.get(action)
        if change is None:
            abort(400)
        if action == "merge" and not merge_form.validate_on_submit():
            flash(_("Choose another question of this meeting."), "error")
            return redirect(request.url)
        try:
            change()
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(str(MODERATED[action]), "success")
            return redirect(_chair_url(meeting, f"#q{question.id}"))
    edit_form.text.data = edit_form.text.data or question.text
    return render_template(
        "questions/moderate.html",
        session=meeting,
        question=question,
        settings=settings,
        edit_form=edit_form,
        hide_form=hide_form,
        merge_form=merge_form,
        author_shown=services.author_shown(question, settings, to_chair=True),
    )


@bp.post("/sessions/<int:session_id>/speakers")
def add_hall_speaker(session_id: int):
    meeting = _meeting(session_id)
    form = HallSpeakerForm()
    people = {u.id: u for u in services.participants(meeting)}
    form.user_id.choices = [(i, u.full_name) for i, u in people.items()]
    if not form.validate_on_submit():
        return respond(lambda: _refuse(_("Choose a member of this cell.")), _chair_url(meeting))
    return respond(
        lambda: services.add_hall_speaker(meeting, people[form.user_id.data], current_user), _chair_url(meeting)
    )


@bp.post("/turns/<int:turn_id>/floor", defaults={"action": "floor"})
@bp.post("/turns/<int:turn_id>/finish", defaults={"action": "finish"})
def speaker_turn(turn_id: int, action: str):
    turn, meeting = _turn(turn_id)
    change = services.give_floor if action == "floor" else services.finish
    return respond(lambda: change(turn, current_user), _chair_url(meeting, "#speakers"))


# --- exports ---------------------------------------------------------------------------------------


def _when(value) -> str:
    return format_datetime(value, "dd/MM/yyyy HH:mm:ss") if value else ""


@bp.route("/sessions/<int:session_id>/queue.csv")
def export_queue(session_id: int):
    meeting = _meeting(session_id)
    settings = _chair_page(meeting)
    targets = {q.id: q.text for q in meeting.questions}
    rows = [
        [
            q.id,
            _when(q.created_at),
            q.text,
            q.original_text or "",
            q.author.full_name if services.author_shown(q, settings, to_chair=True) else "",
            _("yes") if q.through_chair else "",
            targets.get(q.discussion_question_id, _("The presenting group")),
            q.votes,
            str(STATUS_LABELS[q.status]),
            _when(q.answered_at),
            q.hidden_reason,
            q.merged_into_id or "",
        ]
        for q in services.queue(meeting, Sort.TIME, statuses=tuple(QuestionStatus))
    ]
    return csv_response(
        f"questions-{meeting.id}.csv",
        [
            "#",
            _("Asked at"),
            _("Question"),
            _("Original text"),
            _("Author"),
            _("Through the chair"),
            _("Addressed to"),
            _("Votes"),
            _("Status"),
            _("Answered at"),
            _("Reason hidden"),
            _("Merged into"),
        ],
        rows,
    )


@bp.route("/sessions/<int:session_id>/speakers.csv")
def export_speakers(session_id: int):
    meeting = _meeting(session_id)
    _chair_page(meeting)
    turns = db.session.scalars(select(Speaker).where(Speaker.session_id == meeting.id).order_by(Speaker.raised_at))
    rows = [
        [
            t.user.full_name,
            str(SOURCE_LABELS[t.source]),
            str(SPEAKER_STATE_LABELS[t.state]),
            _when(t.raised_at),
            _when(t.started_at),
            _when(t.ended_at),
            t.seconds(),
            t.question_id or "",
        ]
        for t in turns
    ]
    return csv_response(
        f"speakers-{meeting.id}.csv",
        [
            _("Member"),
            _("Source"),
            _("State"),
            _("Hand raised"),
            _("Floor given"),
            _("Finished"),
            _("Seconds spoken"),
            _("Reply to question"),
        ],
        rows,
    )


# --- what other plugins' pages show of the queue (template slots) ------------------------------------


def _in_cell(meeting: Meeting) -> bool:
    """The queue is the cell's own: not shown to an invited guest of another office."""
    return meeting.office_id == current_user.office_id and services.is_participant(current_user, meeting)


def panel_html(meeting: Meeting) -> str:
    """The scheduling plugin's meeting page (slot ``session_page``): the counters and the ways in."""
    if not _in_cell(meeting):
        return ""
    settings = services.queue_settings(meeting)
    counts = services.counters(meeting, 0)
    return render_template(
        "questions/_panel.html",
        session=meeting,
        counters=counts,
        chair=services.is_chair(current_user, meeting, settings),
    )


def follow_html(meeting: Meeting) -> str:
    """The meetings plugin's follow-along page (slot ``meeting_follow``): the queue and the speakers, live."""
    if not _in_cell(meeting):
        return ""
    return render_template("questions/_follow.html", session=meeting, **_live_page(meeting, "follow", Sort.VOTES))


def room_html(meeting: Meeting) -> str:
    """The meetings plugin's call page (slot ``meeting_room``): raising a hand from the call."""
    return render_template("questions/_room.html", session=meeting) if _in_cell(meeting) else ""
