"""Scheduling pages: meetings list, the meeting hub, the yearly programme, the topic catalogue, my
assignments. Every lookup is limited to the signed-in user's office (404 otherwise)."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from intranet import days, files, party_docx
from intranet.access import can
from intranet.admin.forms import ActionForm
from intranet.errors import accepts_uploads
from intranet.extensions import db
from intranet.models import User, utcnow
from intranet.params import YEAR_MAX, YEAR_MIN, int_list_param
from intranet.plugins import manager, public_view
from intranet.refusals import ServiceError, respond

from . import calendar, documents, programme_document, services
from .forms import (
    ANSWER_LABELS,
    DOCUMENT_LABELS,
    KIND_LABELS,
    MODE_LABELS,
    AnswerForm,
    AskForm,
    DocumentForm,
    GroupForm,
    ProgrammeItemForm,
    QuestionForm,
    QuorumForm,
    SessionForm,
    TopicGroupForm,
)
from .labels import PROGRAMME_LABELS, STATUS_LABELS
from .models import (
    Answer,
    DiscussionQuestion,
    Document,
    DocumentKind,
    Meeting,
    Programme,
    ProgrammeItem,
    SessionKind,
    SessionMode,
    SessionStatus,
    TopicGroup,
)

bp = Blueprint("scheduling", __name__, url_prefix="/scheduling", template_folder="templates")


@bp.app_template_global("scheduling_labels")
def scheduling_labels():
    return {
        "kind": KIND_LABELS,
        "mode": MODE_LABELS,
        "answer": ANSWER_LABELS,
        "status": STATUS_LABELS,
        "programme": PROGRAMME_LABELS,
    }


def _office_id() -> int:
    return current_user.office_id


def planner() -> bool:
    return can(current_user, "scheduling.plan", _office_id())


def secretary() -> bool:
    return can(current_user, "scheduling.approve", _office_id())


def _require(allowed: bool) -> None:
    if not allowed:
        abort(403)


def _own(model, ident: int):
    obj = db.session.get(model, ident)
    if obj is None or obj.office_id != _office_id():
        abort(404)
    return obj


def _refused(form, exc: ServiceError) -> None:
    db.session.rollback()
    field = getattr(form, exc.field, None) if (form is not None and exc.field) else None
    if field is not None:
        field.errors = [*field.errors, str(exc)]
    else:
        flash(str(exc), "error")


def _next_or_refuse(meeting: Meeting) -> SessionStatus:
    target = _next_status(meeting)
    if target is None:
        raise ServiceError(_("This meeting is already closed."))
    return target


# --- meetings ---------------------------------------------------------------------------------------


@bp.route("/")
def index():
    now = utcnow()
    meetings = db.session.scalars(
        select(Meeting).where(Meeting.office_id == _office_id()).order_by(Meeting.starts_at)
    ).all()
    upcoming = [s for s in meetings if s.starts_at >= now and s.status != SessionStatus.CLOSED]
    past = [s for s in reversed(meetings) if s not in upcoming]
    quorum = QuorumForm(quorum_percent=services.summary_quorum(_office_id()))
    return render_template(
        "scheduling/index.html",
        upcoming=upcoming,
        past=past,
        planner=planner(),
        secretary=secretary(),
        distancing=services.distancing(_office_id()),
        action=ActionForm(),
        quorum_form=quorum,
    )


@bp.post("/quorum")
def quorum():
    _require(secretary())
    form = QuorumForm()
    return respond(
        lambda: services.set_quorum(_office_id(), form.quorum_percent.data, current_user),
        url_for("scheduling.index"),
        _("Quorum rule saved."),
        form=form,
    )


@bp.route("/month", defaults={"year": None, "month": None})
@bp.route("/month/<int:year>/<int:month>")
def month(year: int | None, month: int | None):
    tz = days.zone()
    if year is None:
        today = days.today()
        return redirect(url_for("scheduling.month", year=today.year, month=today.month))
    if not (YEAR_MIN <= year <= YEAR_MAX and 1 <= month <= 12):
        abort(404)
    weeks = pycalendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
    start, end = days.at(weeks[0][0]), days.at(weeks[-1][-1] + timedelta(days=1))
    by_day: dict = {}
    for meeting in db.session.scalars(
        select(Meeting)
        .where(Meeting.office_id == _office_id(), Meeting.starts_at >= start, Meeting.starts_at < end)
        .order_by(Meeting.starts_at)
    ):
        by_day.setdefault(days.day_of(meeting.starts_at), []).append(meeting)
    first = date(year, month, 1)
    previous = first - timedelta(days=1)
    following = first + timedelta(days=32)
    return render_template(
        "scheduling/month.html",
        weeks=weeks,
        by_day=by_day,
        first=first,
        tz=tz,
        previous=previous,
        following=following,
        today=days.today(),
    )


def _session_form(meeting: Meeting | None = None) -> SessionForm:
    form = SessionForm(obj=meeting)
    items = db.session.scalars(
        select(ProgrammeItem)
        .join(Programme)
        .where(ProgrammeItem.office_id == _office_id())
        .order_by(Programme.year.desc(), ProgrammeItem.quarter)
    ).all()
    form.programme_item_id.choices = [(0, _("— not from the programme —"))] + [
        (i.id, f"{i.programme.year} Q{i.quarter}: {i.title}") for i in items
    ]
    if meeting is not None and not form.is_submitted():
        local = days.local(meeting.starts_at)
        form.day.data, form.time.data = local.date(), local.time()
        form.kind.data, form.mode.data = meeting.kind.value, meeting.mode.value
        form.programme_item_id.data = meeting.programme_item_id or 0
    return form


def _fields(form: SessionForm) -> dict:
    starts = days.at(form.day.data, form.time.data)
    item = _own(ProgrammeItem, form.programme_item_id.data) if form.programme_item_id.data else None
    return dict(
        kind=SessionKind(form.kind.data),
        title=form.title.data,
        starts_at=starts,
        duration_minutes=form.duration_minutes.data,
        place=form.place.data or "",
        mode=SessionMode(form.mode.data),
        programme_item=item,
    )


@bp.route("/sessions/new", methods=["GET", "POST"])
def new_session():
    _require(planner())
    form = _session_form()
    if form.validate_on_submit():
        try:
            meeting = services.create_session(current_user.office, actor=current_user, **_fields(form))
            db.session.commit()
        except ServiceError as exc:
            _refused(form, exc)
        else:
            flash(_("Meeting planned."), "success")
            return redirect(url_for("scheduling.session", session_id=meeting.id))
    return render_template("scheduling/session_form.html", form=form, session=None)


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
def edit_session(session_id: int):
    _require(planner())
    meeting = _own(Meeting, session_id)
    form = _session_form(meeting)
    if form.validate_on_submit():
        fields = _fields(form)
        if fields["mode"] == meeting.mode:
            fields.pop("mode")  # keep the distancing memory unless the mode was really changed
        try:
            services.update_session(meeting, actor=current_user, corrector=secretary(), **fields)
            db.session.commit()
        except ServiceError as exc:
            _refused(form, exc)
        else:
            flash(_("The meeting “%(title)s” is updated.", title=meeting.title), "success")
            return redirect(url_for("scheduling.session", session_id=meeting.id))
    return render_template("scheduling/session_form.html", form=form, session=meeting)


@bp.route("/sessions/<int:session_id>")
def session(session_id: int):
    meeting = _own(Meeting, session_id)
    is_planner, grouped = planner(), services.in_group(meeting, current_user)
    show_questions = is_planner or grouped or meeting.status != SessionStatus.PLANNED
    mine = next((a for a in meeting.attendance if a.user_id == current_user.id), None)
    answer_form = AnswerForm(obj=mine)
    if mine and mine.answer:
        answer_form.answer.data = mine.answer.value
    group_form = GroupForm()
    people = services.members(_office_id())
    group_form.members.choices = [(u.id, u.full_name) for u in people]
    group_form.lead_id.choices = [(u.id, u.full_name) for u in people]
    group_form.members.data = [m.user_id for m in meeting.group]
    group_form.lead_id.data = next((m.user_id for m in meeting.group if m.is_lead), None)
    group_form.report_due.data = meeting.report_due
    return render_template(
        "scheduling/session.html",
        session=meeting,
        planner=is_planner,
        in_group=grouped,
        show_questions=show_questions,
        question_warning=services.question_warning(meeting),
        summary=services.summary(meeting, people),
        answer_form=answer_form,
        group_form=group_form,
        question_form=QuestionForm(),
        action=ActionForm(),
        is_member=services.is_member(current_user, _office_id()),
        next_status=_next_status(meeting),
        ask_form=AskForm(prefix="ask"),
        member_questions=services.member_questions(meeting),
        member_question_author=services.member_question_author,
        **documents_context(meeting, people),
    )


def _next_status(meeting: Meeting) -> SessionStatus | None:
    i = services.ORDER.index(meeting.status)
    return services.ORDER[i + 1] if i + 1 < len(services.ORDER) else None


@bp.post("/sessions/<int:session_id>/advance")
def advance(session_id: int):
    _require(planner())
    meeting = _own(Meeting, session_id)
    return respond(
        lambda: services.advance(meeting, _next_or_refuse(meeting), current_user),
        url_for("scheduling.session", session_id=meeting.id),
        form=ActionForm(),
    )


@bp.post("/sessions/<int:session_id>/group")
def set_group(session_id: int):
    _require(planner())
    meeting = _own(Meeting, session_id)
    form = GroupForm()
    people = {u.id: u for u in services.members(_office_id())}
    form.members.choices = form.lead_id.choices = [(i, u.full_name) for i, u in people.items()]
    return respond(
        lambda: services.set_group(
            meeting,
            [people[i] for i in form.members.data],
            people[form.lead_id.data],
            form.report_due.data,
            current_user,
        ),
        url_for("scheduling.session", session_id=meeting.id),
        _("Presenting group saved."),
        form=form,
    )


@bp.post("/sessions/<int:session_id>/questions")
def add_question(session_id: int):
    _require(planner())
    meeting = _own(Meeting, session_id)
    form = QuestionForm()
    return respond(
        lambda: services.add_question(meeting, form.text.data, current_user),
        url_for("scheduling.session", session_id=meeting.id) + "#questions",
        form=form,
    )


@bp.post("/sessions/<int:session_id>/questions/<int:discussion_question_id>/delete")
def remove_question(session_id: int, discussion_question_id: int):
    _require(planner())
    meeting = _own(Meeting, session_id)
    question = _own(DiscussionQuestion, discussion_question_id)
    if question.session_id != meeting.id:
        abort(404)
    return respond(
        lambda: services.remove_question(question, current_user),
        url_for("scheduling.session", session_id=meeting.id) + "#questions",
        form=ActionForm(),
    )


@bp.post("/sessions/<int:session_id>/answer")
def answer(session_id: int):
    meeting = _own(Meeting, session_id)
    form = AnswerForm()
    return respond(
        lambda: services.answer(
            meeting, current_user._get_current_object(), Answer(form.answer.data), form.reason.data
        ),
        url_for("scheduling.session", session_id=meeting.id) + "#attendance",
        _("Your answer is recorded."),
        form=form,
    )


@bp.post("/sessions/<int:session_id>/ask")
def ask(session_id: int):
    meeting = _own(Meeting, session_id)
    form = AskForm(prefix="ask")
    anonymous = services.anonymity(meeting) == services.ANONYMOUS
    return respond(
        lambda: services.ask_about_report(meeting, current_user._get_current_object(), form.text.data),
        url_for("scheduling.session", session_id=meeting.id) + "#member-questions",
        _("Your question is sent without your name: it is kept under no name, so it is not listed here.")
        if anonymous
        else _("Your question is sent to the presenting group."),
        form=form,
    )


@bp.post("/sessions/<int:session_id>/attendance")
def take_attendance(session_id: int):
    _require(planner())
    meeting = _own(Meeting, session_id)
    present = set(int_list_param("present"))
    return respond(
        lambda: services.take_attendance(meeting, present, current_user),
        url_for("scheduling.session", session_id=meeting.id) + "#attendance",
        _("Attendance saved."),
        form=ActionForm(),
    )


@bp.post("/distancing")
def distancing():
    _require(planner())
    on = request.form.get("on") == "1"
    changed = services.set_distancing(current_user.office, on, current_user)
    db.session.commit()
    flash(
        _("Distancing mode is on: %(n)d upcoming in-person meetings are now online.", n=len(changed))
        if on
        else _("Distancing mode is off: %(n)d meetings are back in person.", n=len(changed)),
        "success",
    )
    return redirect(url_for("scheduling.index"))


# --- programme and catalogue ------------------------------------------------------------------------


@bp.route("/programme", defaults={"year": None})
@bp.route("/programme/<int:year>", methods=["GET", "POST"])
def programme(year: int | None):
    if year is None:
        return redirect(url_for("scheduling.programme", year=days.today().year))
    if not YEAR_MIN <= year <= YEAR_MAX:
        abort(404)
    prog = services.programme_for(_office_id(), year)
    form = ProgrammeItemForm()
    form.topic_group_id.choices = [(t.id, t.name) for t in services.topic_groups(_office_id())]
    form.lead_id.choices = [(0, _("— to be decided —"))] + [(u.id, u.full_name) for u in services.members(_office_id())]
    if form.validate_on_submit():
        _require(planner())
        try:
            services.add_programme_item(
                prog,
                quarter=form.quarter.data,
                topic_group=_own(TopicGroup, form.topic_group_id.data),
                title=form.title.data,
                lead=db.session.get(User, form.lead_id.data) if form.lead_id.data else None,
                actor=current_user,
            )
            db.session.commit()
        except ServiceError as exc:
            _refused(form, exc)
        else:
            return redirect(url_for("scheduling.programme", year=year))
    db.session.commit()  # the programme row and a seeded catalogue, made on first view
    return render_template(
        "scheduling/programme.html",
        programme=prog,
        form=form,
        planner=planner(),
        secretary=secretary(),
        action=ActionForm(),
        missing=services.quarters_without_thematic(prog),
        pdf=party_docx.pdf_available(),
    )


@bp.route("/programme/<int:year>.docx", defaults={"extension": "docx"})
@bp.route("/programme/<int:year>.pdf", defaults={"extension": "pdf"})
def programme_file(year: int, extension: str):
    """The programme as the cell issues it (.docx; PDF when LibreOffice is installed)."""
    if not YEAR_MIN <= year <= YEAR_MAX:
        abort(404)
    prog = services.programme_for(_office_id(), year)
    db.session.commit()  # the programme row, made on first view
    return party_docx.send(programme_document.to_docx(prog), f"chuong-trinh-{year}", extension)


@bp.post("/programme/<int:year>/approve")
def approve_programme(year: int):
    _require(secretary())
    prog = services.programme_for(_office_id(), year)
    return respond(
        lambda: services.approve_programme(prog, current_user),
        url_for("scheduling.programme", year=year),
        _("Programme %(year)d approved.", year=year),
        form=ActionForm(),
    )


@bp.post("/programme/items/<int:item_id>/delete")
def remove_programme_item(item_id: int):
    _require(planner())
    item = _own(ProgrammeItem, item_id)
    year = item.programme.year
    return respond(
        lambda: services.remove_programme_item(item, current_user),
        url_for("scheduling.programme", year=year),
        form=ActionForm(),
    )


@bp.route("/topics", methods=["GET", "POST"])
def topics():
    form = TopicGroupForm()
    if form.validate_on_submit():
        _require(planner())
        try:
            services.add_topic_group(_office_id(), form.name.data, current_user)
            db.session.commit()
        except ServiceError as exc:
            _refused(form, exc)
        else:
            return redirect(url_for("scheduling.topics"))
    groups = services.topic_groups(_office_id(), active_only=False)
    db.session.commit()
    return render_template("scheduling/topics.html", groups=groups, form=form, planner=planner(), action=ActionForm())


@bp.post("/topics/<int:group_id>/toggle")
def toggle_topic(group_id: int):
    _require(planner())
    group = _own(TopicGroup, group_id)
    return respond(
        lambda: services.set_topic_group_active(group, not group.active, current_user),
        url_for("scheduling.topics"),
        form=ActionForm(),
    )


@bp.route("/mine")
def mine():
    now = utcnow()
    upcoming = db.session.scalars(
        select(Meeting)
        .where(Meeting.office_id == _office_id(), Meeting.starts_at >= now, Meeting.status != SessionStatus.CLOSED)
        .order_by(Meeting.starts_at)
    ).all()
    groups = [s for s in upcoming if services.in_group(s, current_user)]
    unanswered = [s for s in upcoming if not any(a.user_id == current_user.id and a.answer for a in s.attendance)]
    return render_template("scheduling/mine.html", groups=groups, unanswered=unanswered)


def home_panel_context(user) -> dict:
    """What the start page shows: the next meetings, and the user's group assignments."""
    upcoming = db.session.scalars(
        select(Meeting)
        .where(
            Meeting.office_id == user.office_id, Meeting.starts_at >= utcnow(), Meeting.status != SessionStatus.CLOSED
        )
        .order_by(Meeting.starts_at)
        .limit(3)
    ).all()
    return {"upcoming": upcoming, "assigned": [s for s in upcoming if services.in_group(s, user)]}


# --- private calendar feed --------------------------------------------------------------------------


@bp.get("/calendar/<token>.ics")
@public_view
def calendar_feed(token: str):
    user = calendar.user_for(token[:100])
    if user is None or not manager().is_enabled(user.office_id, "scheduling"):
        abort(404)
    body = calendar.feed(user, request.host.split(":")[0], scheduling_labels())
    return files.send(body, content_type="text/calendar", filename="lich-hop.ics", max_age=300)


@bp.post("/calendar/issue")
def issue_calendar():
    token = calendar.issue_token(current_user._get_current_object())
    db.session.commit()
    url = url_for("scheduling.calendar_feed", token=token, _external=True)
    return render_template("scheduling/calendar_issued.html", url=url)


@bp.post("/calendar/revoke")
def revoke_calendar():
    if calendar.revoke_token(current_user._get_current_object()):
        db.session.commit()
        flash(_("Your calendar link no longer works."), "success")
    return redirect(url_for("auth.account"))


# --- documents sent ahead ---------------------------------------------------------------------------


def _sees_documents(meeting: Meeting) -> bool:
    return planner() or services.in_group(meeting, current_user) or meeting.status != SessionStatus.PLANNED


def _may_upload(meeting: Meeting) -> bool:
    return (planner() or services.in_group(meeting, current_user)) and meeting.status != SessionStatus.CLOSED


@bp.post("/sessions/<int:session_id>/documents")
@accepts_uploads
def upload_document(session_id: int):
    meeting = _own(Meeting, session_id)
    _require(_may_upload(meeting))
    form = DocumentForm()
    return respond(
        lambda: documents.upload(
            meeting,
            DocumentKind(form.kind.data),
            form.file.data.filename or "",
            form.file.data.read(current_app.config["SCHEDULING_MAX_UPLOAD"] + 1),
            current_user,
        ),
        url_for("scheduling.session", session_id=meeting.id) + "#documents",
        lambda document: _("“%(name)s” uploaded (version %(v)d).", name=document.filename, v=document.version),
        form,
    )


def _readable(document_id: int) -> Document:
    document = _own(Document, document_id)
    if not _sees_documents(document.session):
        abort(404)
    documents.mark_read(document, current_user)
    db.session.commit()
    return document


@bp.get("/documents/<int:document_id>")
def document_file(document_id: int):
    document = _readable(document_id)
    path = documents.path_of(document)
    if not path.exists():
        abort(404)
    return files.send(path, content_type=document.content_type, filename=document.filename)


@bp.get("/documents/<int:document_id>/preview")
def document_preview(document_id: int):
    document = _readable(document_id)
    return render_template("scheduling/document_preview.html", document=document)


def documents_context(meeting: Meeting, people: list[User]) -> dict:
    """The documents block of the meeting page, with read receipts (over the cell's ``people``) for the
    planners."""
    if not _sees_documents(meeting):
        return {"sees_documents": False}
    shelf = documents.shelf(meeting)
    receipts = {}
    if planner():  # document id -> {member id: first opened}
        member_ids = {m.id for m in people}
        receipts = {d.id: {r.user_id: r.opened_at for r in d.reads if r.user_id in member_ids} for d in shelf.latest}
    return {
        "sees_documents": True,
        "shelf": shelf,
        "receipts": receipts,
        "may_upload": _may_upload(meeting),
        "document_form": DocumentForm(),
        "kind_labels": DOCUMENT_LABELS,
    }
