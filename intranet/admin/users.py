"""Admin: user accounts, their roles, and CSV import."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import sessions
from ..access import managed_office_or_404, managed_user_or_404, require_admin
from ..audit import record_change
from ..csv_export import csv_response
from ..errors import accepts_uploads
from ..extensions import db
from ..labels import ROLE_LABELS, STATUS_LABELS
from ..models import Office, PartyStatus, Role, RoleAssignment, User
from ..params import int_param, page_param, text_param
from ..refusals import ServiceError, respond
from .blueprint import bp
from .csv_import import COLUMNS, import_users
from .forms import ActionForm, ImportForm, RoleForm, UserEditForm, UserForm
from .offices import filter_by_office, form_error, office_choices
from .services import create_user, grant_role, reset_password, revoke_role, set_active, update_user

PAGE_SIZE = 50


def _status(value: str) -> PartyStatus | None:
    return PartyStatus(value) if value else None


@bp.route("/users")
def users():
    query, office_id = filter_by_office(select(User), User.office_id)
    q = text_param("q", 100)
    if q:
        like = f"%{q.lower()}%"
        query = query.where(or_(func.lower(User.username).like(like), func.lower(User.full_name).like(like)))
    query = query.options(joinedload(User.office), selectinload(User.roles).joinedload(RoleAssignment.office))
    page = db.paginate(
        query.order_by(User.office_id, User.full_name), page=page_param(), per_page=PAGE_SIZE, error_out=False
    )
    return render_template(
        "admin/users.html",
        page=page,
        offices=office_choices(),
        office_id=office_id,
        q=q,
        role_labels=ROLE_LABELS,
        status_labels=STATUS_LABELS,
        action=ActionForm(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
def new_user():
    form = UserForm()
    form.set_choices(office_choices())
    if not form.is_submitted():
        form.office_id.data = int_param("office")
    if form.validate_on_submit():
        office = managed_office_or_404(form.office_id.data)
        try:
            user, password = create_user(
                username=form.username.data,
                full_name=form.full_name.data,
                email=form.email.data,
                office=office,
                party_status=_status(form.party_status.data),
                roles=tuple(Role(r) for r in form.roles.data),
                actor=current_user,
            )
            db.session.commit()
        except (ServiceError, IntegrityError) as exc:
            form_error(form, exc)
        else:
            return render_template("admin/password_issued.html", issued=[(user, password)])
    return render_template("admin/user_new.html", form=form)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def edit_user(user_id: int):
    user = managed_user_or_404(user_id)
    form = UserEditForm(obj=user)
    form.set_choices(office_choices())
    if not form.is_submitted():
        form.party_status.data = user.party_status.value if user.party_status else ""
    if form.validate_on_submit():
        office = managed_office_or_404(form.office_id.data)
        update_user(
            user,
            full_name=form.full_name.data.strip(),
            email=(form.email.data or "").strip(),
            office_id=office.id,
            party_status=_status(form.party_status.data),
            actor=current_user,
        )
        db.session.commit()
        flash(_("The details of %(name)s are updated.", name=user.full_name), "success")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    role_form = RoleForm(prefix="role")
    role_form.office_id.choices = office_choices()
    role_form.office_id.data = user.office_id
    return render_template(
        "admin/user_edit.html",
        user=user,
        form=form,
        role_form=role_form,
        action=ActionForm(),
        role_labels=ROLE_LABELS,
        managed=require_admin(),
        sessions=sessions.listing(user),
    )


@bp.post("/users/<int:user_id>/end-sessions")
def end_user_sessions(user_id: int):
    user = managed_user_or_404(user_id)
    count = sessions.end(user)
    record_change("user.end_sessions", user, office_id=user.office_id, actor=current_user, count=count)
    db.session.commit()
    flash(_("The user is signed out on every device."), "success")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/active")
def toggle_active(user_id: int):
    user = managed_user_or_404(user_id)
    back = url_for("admin.users") if request.form.get("back") == "list" else url_for("admin.edit_user", user_id=user.id)
    return respond(
        lambda: set_active(user, not user.active, actor=current_user),
        back,
        _("Account deactivated; the user is signed out.") if user.active else _("Account activated."),
    )


@bp.post("/users/<int:user_id>/reset-password")
def reset_user_password(user_id: int):
    user = managed_user_or_404(user_id)
    try:
        password = reset_password(user, actor=current_user)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("admin.edit_user", user_id=user.id))
    db.session.commit()
    return render_template("admin/password_issued.html", issued=[(user, password)])


@bp.post("/users/<int:user_id>/roles")
def add_role(user_id: int):
    user = managed_user_or_404(user_id)
    form = RoleForm(prefix="role")
    form.office_id.choices = office_choices()
    if not form.validate_on_submit():
        flash(_("Choose an office and a role."), "error")
    else:
        office = managed_office_or_404(form.office_id.data)
        if grant_role(user, office, Role(form.role.data), actor=current_user):
            db.session.commit()
            flash(_("Role granted."), "success")
        else:
            flash(_("The user already holds this role there."), "info")
    return redirect(url_for("admin.edit_user", user_id=user.id))


@bp.post("/users/<int:user_id>/roles/<int:assignment_id>/delete")
def remove_role(user_id: int, assignment_id: int):
    user = managed_user_or_404(user_id)
    assignment = db.session.get(RoleAssignment, assignment_id)
    if assignment is None or assignment.user_id != user.id or assignment.office_id not in require_admin():
        abort(404)
    return respond(
        lambda: revoke_role(user, assignment.office, assignment.role, actor=current_user),
        url_for("admin.edit_user", user_id=user.id),
        _("Role removed."),
    )


@bp.route("/users/import", methods=["GET", "POST"])
@accepts_uploads
def import_csv():
    ids = require_admin()
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        offices = {o.code.upper(): o for o in db.session.scalars(select(Office).where(Office.id.in_(ids)))}
        report = import_users(form.file.data.read(), offices, actor=current_user)
        if report.ok:
            db.session.commit()
            return render_template(
                "admin/password_issued.html", issued=[(r, r.password) for r in report.rows], imported=True
            )
        db.session.rollback()
    return render_template("admin/import.html", form=form, report=report, columns=COLUMNS)


@bp.get("/users/import/template.csv")
def import_template():
    """A sample file an office can fill in from Excel (UTF-8 with BOM so Excel reads the accents)."""
    require_admin()
    office = db.session.get(Office, current_user.office_id)
    return csv_response(
        "users-template.csv",
        COLUMNS,
        [["nguyenvana", "Nguyễn Văn A", "a@example.org", office.code, "đảng viên", "chính thức"]],
    )
