"""Evaluation pages: a meeting's closing (record, tasks, group evaluation, ratings, documents), the
documents' editor, members' participation, the periodic review."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from intranet import days, party_docx
from intranet.extensions import db
from intranet.forms import Form
from intranet.models import User
from intranet.params import int_param, parse_decimal, parse_int, year_param
from intranet.refusals import ServiceError, respond
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionKind, SessionStatus

from . import classification, documents, participation, services, shelf, vote_results
from . import review as reviews
from .forms import (
    RATING_LABELS,
    STATUS_LABELS,
    CorrectionForm,
    GroupEvaluationForm,
    NoteForm,
    ProgressForm,
    RateForm,
    RecordForm,
    SettingsForm,
    TaskForm,
)
from .models import CellDocument as Document
from .models import GroupRating, NoteKind, Task, TaskStatus

bp = Blueprint("evaluations", __name__, url_prefix="/evaluations", template_folder="templates", static_folder="static")


@bp.app_template_global("evaluations_labels")
def evaluations_labels():
    return {"rating": RATING_LABELS, "status": STATUS_LABELS}


# --- access and posting -----------------------------------------------------------------------------


def _office_id() -> int:
    return current_user.office_id


def _member_or_403() -> None:
    if not (scheduling.is_member(current_user, _office_id()) or services.is_drafter(current_user, _office_id())):
        abort(403)


def _meeting(session_id: int) -> Meeting:
    _member_or_403()  # the right first: whether the meeting exists is no answer to someone without it
    meeting = db.session.get(Meeting, session_id)
    if meeting is None or meeting.office_id != _office_id():
        abort(404)
    return meeting


def _own(model, ident):
    _member_or_403()
    obj = db.session.get(model, ident)
    if obj is None or obj.office_id != _office_id():
        abort(404)
    return obj


def _people() -> list[User]:
    return scheduling.members(_office_id())


def _person(form_field) -> User | None:
    return next((u for u in _people() if u.id == form_field.data), None)


def _page(meeting: Meeting, anchor: str = "") -> str:
    return url_for("evaluations.session", session_id=meeting.id) + anchor


# --- a meeting's closing ----------------------------------------------------------------------------


@bp.route("/")
def index():
    _member_or_403()
    closed = db.session.scalars(
        select(Meeting)
        .where(Meeting.office_id == _office_id(), Meeting.status == SessionStatus.CLOSED)
        .order_by(Meeting.starts_at.desc())
        .limit(24)
    ).all()
    signed = {
        d.session_id
        for d in db.session.scalars(
            select(Document).where(
                Document.office_id == _office_id(), Document.kind == "minutes", Document.signed_at.is_not(None)
            )
        )
    }
    return render_template(
        "evaluations/index.html",
        closed=closed,
        signed=signed,
        overdue=services.overdue_tasks(_office_id(), days.today()),
        drafter=services.is_drafter(current_user, _office_id()),
    )


@bp.route("/sessions/<int:session_id>")
def session(session_id: int):
    meeting = _meeting(session_id)
    drafter = services.is_drafter(current_user, meeting.office_id)
    people = _people()
    choices = [(0, "—"), *((u.id, u.full_name) for u in people)]
    record = services.record_for(meeting)
    record_form = RecordForm(
        formdata=None, chair_id=record.chair_id or 0, taker_id=record.taker_id or 0, conclusion=record.conclusion
    )
    record_form.chair_id.choices = record_form.taker_id.choices = choices
    task_form = TaskForm()
    task_form.owner_id.choices = choices
    evaluation = services.group_evaluation(meeting)
    group_form = GroupEvaluationForm(formdata=None, obj=evaluation)
    if evaluation is not None:
        group_form.rating.data = evaluation.rating.value
    in_group = scheduling.in_group(meeting, current_user)
    ratings = services.ratings(meeting)
    closed = meeting.status == SessionStatus.CLOSED
    return render_template(
        "evaluations/session.html",
        session=meeting,
        drafter=drafter,
        secretary=services.is_secretary(current_user, meeting.office_id),
        record=record,
        record_form=record_form,
        tasks=services.tasks(meeting),
        task_form=task_form,
        progress_form=ProgressForm(),
        evaluation=evaluation if (drafter or in_group) else None,
        group_form=group_form,
        sees_evaluation=drafter or in_group,
        ratings=ratings,
        assessment=reviews.assessment(meeting, ratings) if closed else None,
        rate_form=RateForm(),
        may_rate=services.may_rate(meeting, current_user) and not services.has_rated(meeting, current_user),
        has_rated=services.has_rated(meeting, current_user),
        minutes=shelf.current(meeting, "minutes"),
        resolution=shelf.current(meeting, "resolution"),
        tallies=[
            (vote, shelf.current(meeting, "tally", vote.vote_id))
            for vote in vote_results.of_meeting(meeting)
            if vote.secret
        ],
        today=days.today(),
    )


@bp.post("/sessions/<int:session_id>/record")
def save_record(session_id: int):
    meeting = _meeting(session_id)
    form = RecordForm()
    form.chair_id.choices = form.taker_id.choices = [(0, "—"), *((u.id, u.full_name) for u in _people())]
    final = request.form.get("final") == "1"
    return respond(
        lambda: services.save_record(
            meeting,
            current_user,
            chair=_person(form.chair_id),
            taker=_person(form.taker_id),
            conclusion=form.conclusion.data,
            final=final,
        ),
        _page(meeting, "#record"),
        _("The conclusion is recorded.") if final else _("Draft saved."),
        form,
    )


@bp.post("/sessions/<int:session_id>/tasks")
def add_task(session_id: int):
    meeting = _meeting(session_id)
    form = TaskForm()
    form.owner_id.choices = [(0, "—"), *((u.id, u.full_name) for u in _people())]
    return respond(
        lambda: services.add_task(
            meeting, current_user, what=form.what.data, owner=_person(form.owner_id), due=form.due.data
        ),
        _page(meeting, "#tasks"),
        _("Task added."),
        form,
    )


@bp.post("/tasks/<int:task_id>/delete")
def remove_task(task_id: int):
    task = _own(Task, task_id)
    meeting = db.session.get(Meeting, task.session_id)
    return respond(lambda: services.remove_task(task, current_user), _page(meeting, "#tasks"))


@bp.post("/tasks/<int:task_id>/progress")
def report_progress(task_id: int):
    task = _own(Task, task_id)
    form = ProgressForm()
    back = (
        request.form.get("back") == "mine"
        and url_for("evaluations.me")
        or _page(db.session.get(Meeting, task.session_id), "#tasks")
    )
    return respond(
        lambda: services.report_progress(
            task, current_user, status=TaskStatus(form.status.data), progress=form.progress.data
        ),
        back,
        _("Progress saved."),
        form,
    )


@bp.post("/sessions/<int:session_id>/group")
def evaluate_group(session_id: int):
    meeting = _meeting(session_id)
    form = GroupEvaluationForm()
    final = request.form.get("final") == "1"
    return respond(
        lambda: services.save_group_evaluation(
            meeting,
            current_user,
            strengths=form.strengths.data,
            weaknesses=form.weaknesses.data,
            rating=GroupRating(form.rating.data),
            commend=form.commend.data,
            final=final,
        ),
        _page(meeting, "#group"),
        _("The evaluation is given.") if final else _("Draft saved."),
        form,
    )


@bp.post("/sessions/<int:session_id>/rate")
def rate(session_id: int):
    meeting = _meeting(session_id)
    form = RateForm()

    def score(field) -> int | None:
        return parse_int(field.data, 1, 5)

    response = respond(
        lambda: services.rate(
            meeting,
            current_user,
            preparation=score(form.preparation),
            content=score(form.content),
            discussion=score(form.discussion),
            comment=form.comment.data,
        ),
        _page(meeting, "#ratings"),
        _("Thank you: your rating is recorded, without your name."),
    )
    if services.release_ratings(meeting):  # a transaction of its own, after the receipt's commit
        db.session.commit()
    return response


# --- minutes, resolution and tally reports -----------------------------------------------------------


@bp.post("/sessions/<int:session_id>/minutes", defaults={"kind": "minutes"})
@bp.post("/sessions/<int:session_id>/resolution", defaults={"kind": "resolution"})
def draft_document(session_id: int, kind: str):
    return _drafted(_meeting(session_id), kind)


@bp.post("/sessions/<int:session_id>/votes/<int:vote_id>/tally")
def draft_tally(session_id: int, vote_id: int):
    return _drafted(_meeting(session_id), "tally", vote_id)


def _drafted(meeting: Meeting, kind: str, vote_id: int = 0):
    try:
        document = documents.draft(meeting, kind, current_user, vote_id)
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(_page(meeting, "#documents"))
    return redirect(url_for("evaluations.document", cell_document_id=document.id))


@bp.route("/documents/<int:cell_document_id>", methods=["GET", "POST"])
def document(cell_document_id: int):
    doc = _own(Document, cell_document_id)
    meeting = db.session.get(Meeting, doc.session_id)
    drafter = services.is_drafter(current_user, doc.office_id)
    correction = CorrectionForm()
    if request.method == "POST":
        if not drafter:
            abort(403)
        texts = request.form.getlist("section")
        action = request.form.get("action")
        change = {
            "save": lambda: documents.edit(doc, current_user, texts),
            "sign": lambda: (documents.edit(doc, current_user, texts), documents.sign(doc, current_user)),
            "correct": lambda: documents.correct(doc, current_user, texts, correction.reason.data),
        }.get(action)
        if change is None:
            abort(400)
        try:
            change()
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(
                {
                    "save": _("Draft saved."),
                    "sign": _("Signed."),
                    "correct": _("The correction is signed; the earlier version is kept."),
                }[action],
                "success",
            )
            newest = shelf.current(meeting, doc.kind.value, doc.vote_id)
            return redirect(url_for("evaluations.document", cell_document_id=newest.id))
    return render_template(
        "evaluations/document.html",
        document=doc,
        session=meeting,
        drafter=drafter,
        secretary=services.is_secretary(current_user, doc.office_id),
        newest=shelf.current(meeting, doc.kind.value, doc.vote_id),
        versions=shelf.versions(meeting, doc.kind.value, doc.vote_id),
        unsignable=None if doc.signed_at else documents.unsignable(doc),
        correction=correction,
        pdf=party_docx.pdf_available(),
    )


FILE_NAMES = {"minutes": "bien-ban", "resolution": "nghi-quyet", "tally": "bien-ban-kiem-phieu"}


def _send(doc: Document, extension: str):
    vote = f"-{doc.vote_id}" if doc.vote_id else ""
    name = f"{FILE_NAMES[doc.kind.value]}-{doc.session_id}{vote}-v{doc.version}"
    return party_docx.send(documents.to_docx(doc), name, extension)


@bp.route("/documents/<int:cell_document_id>.docx")
def document_docx(cell_document_id: int):
    return _send(_own(Document, cell_document_id), "docx")


@bp.route("/documents/<int:cell_document_id>.pdf")
def document_pdf(cell_document_id: int):
    return _send(_own(Document, cell_document_id), "pdf")


# --- participation ----------------------------------------------------------------------------------


def _year() -> int:
    return year_param(days.today().year)


@bp.route("/me")
def me():
    _member_or_403()
    year = _year()
    record = next(
        (
            r
            for r in participation.cell_records(_office_id(), *reviews.period(year, None), current_user)
            if r.user.id == current_user.id
        ),
        None,
    )
    return render_template(
        "evaluations/me.html",
        record=record,
        year=year,
        notes=services.notes(_office_id(), current_user.id),
        tasks=services.my_tasks(current_user),
        progress_form=ProgressForm(),
        today=days.today(),
    )


@bp.route("/participation")
def cell_participation():
    if not services.is_drafter(current_user, _office_id()):
        abort(403)
    year = _year()
    settings = services.office_settings(_office_id())
    form = SettingsForm(formdata=None, obj=settings)
    rules = classification.rules_of(settings)
    return render_template(
        "evaluations/participation.html",
        year=year,
        records=participation.cell_records(_office_id(), *reviews.period(year, None), current_user),
        settings=settings,
        settings_form=form,
        criteria=classification.CRITERIA,
        rules=rules,
        scale=classification.scale_text(rules),
        note_form=NoteForm(),
        secretary=services.is_secretary(current_user, _office_id()),
        notes=services.notes(_office_id())[:30],
    )


@bp.post("/members/<int:user_id>/commendation", defaults={"kind": "commendation"})
@bp.post("/members/<int:user_id>/reminder", defaults={"kind": "reminder"})
def give_note(user_id: int, kind: str):
    if not services.is_secretary(current_user, _office_id()):
        abort(403)
    member = db.session.get(User, user_id)
    if member is None or member.office_id != _office_id():
        abort(404)
    form = NoteForm()
    return respond(
        lambda: services.give_note(member, current_user, NoteKind(kind), form.reason.data),
        url_for("evaluations.cell_participation"),
        _("Commendation recorded.") if kind == "commendation" else _("Reminder sent."),
    )


@bp.post("/settings")
def save_settings():
    form = SettingsForm()
    return respond(
        lambda: services.save_office_settings(
            _office_id(),
            current_user,
            absences_per_quarter=form.absences_per_quarter.data,
            silent_meetings=form.silent_meetings.data,
        ),
        url_for("evaluations.cell_participation"),
        _("The participation rules are saved."),
        form,
    )


@bp.post("/settings/classification")
def save_classification():
    form = Form()  # its CSRF token
    field = request.form.get
    return respond(
        lambda: services.save_classification(
            _office_id(),
            current_user,
            weights={c.key: parse_int(field(f"weight_{c.key}")) for c in classification.CRITERIA},
            lines={c.key: parse_decimal(field(f"line_{c.key}")) for c in classification.CRITERIA if c.rule},
            scale=field("scale", ""),
        ),
        url_for("evaluations.cell_participation") + "#classification",
        _("The classification of meetings is saved."),
        form,
    )


# --- the periodic review ----------------------------------------------------------------------------


def _period() -> tuple[int, int | None]:
    return _year(), int_param("quarter", None, 1, 4)


@bp.route("/review")
def review():
    _member_or_403()
    year, quarter = _period()
    result = reviews.review(_office_id(), year, quarter, days.today())
    return render_template(
        "evaluations/review.html",
        review=result,
        year=year,
        quarter=quarter,
        chart=reviews.chart(result),
        pdf=party_docx.pdf_available(),
    )


@bp.route("/review.docx", defaults={"extension": "docx"})
@bp.route("/review.pdf", defaults={"extension": "pdf"})
def review_file(extension: str):
    """The review as the cell's report (.docx; PDF when LibreOffice is installed)."""
    _member_or_403()
    year, quarter = _period()
    with force_locale("vi"):  # a party document: the grades in Vietnamese whatever the screen's language
        result = reviews.review(_office_id(), year, quarter, days.today())
    return party_docx.send(
        reviews.to_docx(current_user.office, result, days.today()),
        f"bao-cao-{result.label.replace('/', '-')}",
        extension,
    )


# --- panels for other pages (template slots) ---------------------------------------------------------


def home_panel(user) -> str:
    overdue = services.overdue_tasks(user.office_id, days.today()) if services.is_drafter(user, user.office_id) else []
    mine = [t for t in services.my_tasks(user) if t.status != TaskStatus.DONE][:5]
    if not overdue and not mine:
        return ""
    return render_template("evaluations/_home.html", overdue=overdue, mine=mine, today=days.today())


def session_panel(meeting: Meeting) -> str:
    """On a meeting's page: the tasks of earlier meetings still overdue (for the agenda), and the link
    to the meeting's closing once it is closed."""
    overdue = services.overdue_tasks(meeting.office_id, days.today(), before=meeting)
    return render_template(
        "evaluations/_session.html", session=meeting, overdue=overdue, thematic=meeting.kind == SessionKind.THEMATIC
    )
