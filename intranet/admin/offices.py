"""Admin start page and offices."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..access import managed_office_or_404, require_admin
from ..extensions import db
from ..models import AuditEvent, Office, User
from ..params import int_param
from ..party_docx import default_recipients
from ..refusals import ServiceError
from .blueprint import bp
from .forms import OfficeEditForm, OfficeForm
from .services import create_office, update_office


def managed_offices() -> list[tuple[Office, int]]:
    """The admin's offices in tree order, each with its depth below the admin's top office."""
    ids = require_admin()
    offices = {o.id: o for o in db.session.scalars(select(Office).where(Office.id.in_(ids)))}
    roots = sorted((o for o in offices.values() if o.parent_id not in offices), key=lambda o: o.name)
    ordered: list[tuple[Office, int]] = []

    def walk(office: Office, depth: int) -> None:
        ordered.append((office, depth))
        for child in sorted((c for c in offices.values() if c.parent_id == office.id), key=lambda o: o.name):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return ordered


def filter_by_office(query, column):
    """Limit a listing to the admin's offices, or to the one chosen in ``?office=``; returns the
    query and the chosen office id (None for all)."""
    ids = require_admin()
    office_id = int_param("office")
    if office_id in ids:
        return query.where(column == office_id), office_id
    return query.where(column.in_(ids)), None


def chosen_office() -> Office:
    """The managed office named in ``?office=``, else the admin's own (or their first) office."""
    ids = require_admin()
    office_id = int_param("office")
    if office_id not in ids:
        office_id = current_user.office_id if current_user.office_id in ids else min(ids)
    return managed_office_or_404(office_id)


def office_choices(with_none: bool = False) -> list[tuple[int, str]]:
    choices = [(o.id, "\u2003" * depth + f"{o.name} ({o.code})") for o, depth in managed_offices()]
    return ([(0, _l("— none (top level) —"))] if with_none else []) + choices


def form_error(form, exc: Exception) -> None:
    """Roll back a refused change and show why beside the field concerned. An IntegrityError is a
    unique code or username taken by a concurrent request between our check and the commit."""
    db.session.rollback()
    if isinstance(exc, ServiceError):
        field, message = getattr(form, exc.field or "", None), str(exc)
    else:
        field, message = None, _("Someone else saved the same code or username just now. Choose another.")
    (field.errors if field is not None else form.form_errors).append(message)


@bp.route("/")
def index():
    ids = require_admin()
    counts = {
        "offices": len(ids),
        "users": db.session.scalar(select(func.count()).select_from(User).where(User.office_id.in_(ids))),
        "inactive": db.session.scalar(
            select(func.count()).select_from(User).where(User.office_id.in_(ids), User.active.is_(False))
        ),
    }
    recent = db.session.scalars(
        select(AuditEvent).where(AuditEvent.office_id.in_(ids)).order_by(AuditEvent.id.desc()).limit(10)
    ).all()
    return render_template("admin/index.html", counts=counts, recent=recent)


@bp.route("/offices", methods=["GET", "POST"])
def offices():
    tree = managed_offices()
    form = OfficeForm()
    form.parent_id.choices = office_choices()
    if form.validate_on_submit():
        parent = managed_office_or_404(form.parent_id.data)
        try:
            office = create_office(
                code=form.code.data,
                name=form.name.data,
                parent=parent,
                party_committee=form.party_committee.data,
                cell_name=form.cell_name.data,
            )
            db.session.commit()
        except (ServiceError, IntegrityError) as exc:
            form_error(form, exc)
        else:
            flash(_("Office “%(name)s” created.", name=office.name), "success")
            return redirect(url_for("admin.offices"))
    return render_template("admin/offices.html", tree=tree, form=form)


@bp.route("/offices/<int:office_id>", methods=["GET", "POST"])
def edit_office(office_id: int):
    office = managed_office_or_404(office_id)
    top_level_for_admin = office.parent_id not in require_admin()
    form = OfficeEditForm(obj=office)
    # The admin's own top office keeps its parent: moving it would leave the admin's reach.
    form.parent_id.choices = (
        [(office.parent_id or 0, office.parent.name if office.parent else _l("— none —"))]
        if top_level_for_admin
        else office_choices()
    )
    if not form.is_submitted():
        form.parent_id.data = office.parent_id or 0
    if form.validate_on_submit():
        fields = dict(
            code=form.code.data,
            name=form.name.data.strip(),
            party_committee=form.party_committee.data,
            cell_name=form.cell_name.data,
            document_place=form.document_place.data.strip(),
            document_number_suffix=form.document_number_suffix.data.strip(),
            document_recipients=form.document_recipients.data.strip(),
        )
        if not top_level_for_admin:
            fields["parent"] = managed_office_or_404(form.parent_id.data)
        try:
            update_office(office, **fields)
            db.session.commit()
        except (ServiceError, IntegrityError) as exc:
            form_error(form, exc)
        else:
            flash(_("Office “%(name)s” saved.", name=office.name), "success")
            return redirect(url_for("admin.offices"))
    return render_template(
        "admin/office_edit.html", office=office, form=form, default_recipients=default_recipients(office)
    )
