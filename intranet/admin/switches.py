"""Admin: per-office plugin switches and the audit log."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..access import managed_office_or_404
from ..extensions import db
from ..models import AuditEvent
from ..params import page_param, text_param
from ..plugins import PluginError, manager
from .blueprint import bp
from .forms import ActionForm
from .offices import chosen_office, filter_by_office, office_choices


@bp.route("/plugins")
def plugins():
    office = chosen_office()
    pm = manager()
    enabled = pm.enabled(office.id)
    rows = [(info, info.name in enabled) for info in sorted(pm.infos.values(), key=lambda i: i.name)]
    return render_template(
        "admin/plugins.html", office=office, rows=rows, offices=office_choices(), action=ActionForm(), infos=pm.infos
    )


@bp.post("/plugins/<int:office_id>/<name>")
def switch_plugin(office_id: int, name: str):
    office = managed_office_or_404(office_id)
    pm = manager()
    if name not in pm.infos:
        abort(404)
    enable = request.form.get("enabled") == "1"
    try:
        pm.set_enabled(office, name, enable, actor=current_user)
        db.session.commit()
    except PluginError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        title = pm.infos[name].title()
        flash(
            _("“%(plugin)s” is on for %(office)s.", plugin=title, office=office.name)
            if enable
            else _("“%(plugin)s” is off for %(office)s. Its data is kept.", plugin=title, office=office.name),
            "success",
        )
    return redirect(url_for("admin.plugins", office=office.id))


@bp.route("/audit")
def audit():
    query, office_id = filter_by_office(select(AuditEvent), AuditEvent.office_id)
    action = text_param("action", 64)
    if action:
        query = query.where(AuditEvent.action.startswith(action))
    query = query.options(joinedload(AuditEvent.actor), joinedload(AuditEvent.office))
    page = db.paginate(
        query.order_by(AuditEvent.id.desc()),
        page=page_param(),
        per_page=current_app.config["AUDIT_PAGE_SIZE"],
        error_out=False,
    )
    return render_template("admin/audit.html", page=page, offices=office_choices(), office_id=office_id, action=action)
