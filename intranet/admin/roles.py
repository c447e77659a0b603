"""Admin: the roles page. Who holds each role in an office, and which roles hold each permission
there (the plugins' declared defaults until the office's admin changes them)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..access import FIXED, change_grants, grants, managed_office_or_404, require_admin
from ..extensions import db
from ..models import Role, RoleAssignment, User
from ..plugins import CORE, manager
from .blueprint import bp
from .forms import ActionForm
from .offices import chosen_office, office_choices


def _key(permission: str, role: Role) -> str:
    """A checkbox's value on the grants form."""
    return f"{permission}:{role.value}"


@bp.route("/roles")
def roles():
    office = chosen_office()
    holders = db.session.scalars(
        select(RoleAssignment)
        .where(RoleAssignment.office_id == office.id)
        .join(User)
        .order_by(RoleAssignment.role, User.full_name)
    ).all()
    by_role: dict[Role, list[RoleAssignment]] = {r: [] for r in Role}
    for assignment in holders:
        by_role[assignment.role].append(assignment)
    pm, held = manager(), grants(office.id)
    groups: dict[str, list] = {}  # the owner's title -> (permission, fixed, roles holding it); core first
    for p in sorted(pm.permissions.values(), key=lambda p: (p.name.split(".")[0] != CORE, p.name)):
        owner = p.name.split(".", 1)[0]
        fixed = p.name in FIXED
        groups.setdefault(pm.infos[owner].title() if owner in pm.infos else _("Core"), []).append(
            (p, fixed, p.roles if fixed else held[p.name])
        )
    return render_template(
        "admin/roles.html",
        office=office,
        offices=office_choices(),
        by_role=by_role,
        groups=groups,
        roles=list(Role),
        key=_key,
        action=ActionForm(),
        managed=require_admin(),
    )


@bp.post("/roles/<int:office_id>")
def save_grants(office_id: int):
    office = managed_office_or_404(office_id)
    allowed = {_key(name, role): (name, role) for name in grants(office.id) for role in Role}
    # Only the boxes this admin changed since the page was drawn ("shown": those ticked then), so two
    # admins saving at once do not undo each other's changes.
    ticked, shown = set(request.form.getlist("grant")), set(request.form.getlist("shown"))
    if not ticked | shown <= allowed.keys():
        flash(_("The form named a right that does not exist; nothing was changed."), "error")
        return redirect(url_for("admin.roles", office=office.id))
    wanted = {allowed[v]: True for v in ticked - shown} | {allowed[v]: False for v in shown - ticked}
    try:
        changed = change_grants(office, wanted, actor=current_user)
        db.session.commit()
    except IntegrityError:  # another admin granted the same pair between our read and our write
        db.session.rollback()
        flash(_("Someone else changed these rights just now. Look again, then save."), "error")
        return redirect(url_for("admin.roles", office=office.id))
    flash(_("Rights of %(office)s saved (%(count)d changed).", office=office.name, count=changed), "success")
    return redirect(url_for("admin.roles", office=office.id))
