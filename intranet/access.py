"""Who may do what where: permissions per office, the office tree, and lookups that 404 outside one's reach.

Plugins declare permissions with the roles that hold them by default (``intranet_permissions``); an
office's admin changes which roles hold which permission on the roles page, stored as
``PermissionGrant`` rows that override the defaults. ``can()`` is the one question a plugin asks:
no plugin compares roles itself (tests/test_permissions.py scans for it).
"""

from __future__ import annotations

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from . import live, office_state
from .audit import record
from .extensions import db
from .models import Office, PermissionGrant, Role, RoleAssignment, User
from .plugins import manager


def office_children() -> dict[int | None, list[int]]:
    """parent id -> child ids, read once per request (offices number in the hundreds at most)."""
    if "_office_children" not in g:
        children: dict[int | None, list[int]] = {}
        for office_id, parent_id in db.session.execute(select(Office.id, Office.parent_id)):
            children.setdefault(parent_id, []).append(office_id)
        g._office_children = children
    return g._office_children


def subtree(office_id: int) -> set[int]:
    children, seen, stack = office_children(), set(), [office_id]
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(children.get(current, []))
    return seen


def managed_office_ids(user) -> set[int]:
    """An admin manages the office where they hold the admin role and every office below it."""
    if not user.is_authenticated:
        return set()
    ids: set[int] = set()
    for assignment in user.roles:
        if assignment.role == Role.ADMIN:
            ids |= subtree(assignment.office_id)
    return ids


# Held through the office tree (an admin manages the offices below theirs), so not editable per office:
# an admin could otherwise take the right away from themselves.
FIXED = frozenset({"core.admin"})


def grants(office_id: int) -> dict[str, frozenset[Role]]:
    """Each editable permission -> the roles holding it in the office (defaults overridden by its
    grants), read again only after a change (intranet.office_state)."""

    def read() -> dict[str, frozenset[Role]]:
        chosen = {
            (name, role): granted
            for name, role, granted in db.session.execute(
                select(PermissionGrant.permission, PermissionGrant.role, PermissionGrant.granted).where(
                    PermissionGrant.office_id == office_id
                )
            )
        }
        return {
            name: frozenset(r for r in Role if chosen.get((name, r), r in perm.roles))
            for name, perm in manager().permissions.items()
            if name not in FIXED
        }

    return office_state.kept("grants", office_id, read)


def change_grants(office: Office, wanted: dict[tuple[str, Role], bool], *, actor=None) -> int:
    """Grant (True) or revoke (False) each editable (permission, role) pair in the office; a pair back at
    its declared default loses its row, so a later change of the default reaches it. Each change is
    audited; the caller commits. Returns how many pairs changed."""
    declared, current, changed = manager().permissions, grants(office.id), 0
    for (name, role), granted in wanted.items():
        if granted == (role in current[name]):
            continue
        row = db.session.get(PermissionGrant, (office.id, name, role))
        if granted == (role in declared[name].roles):
            db.session.delete(row)
        else:
            if row is None:
                row = PermissionGrant(office_id=office.id, permission=name, role=role)
                db.session.add(row)
            row.granted, row.updated_by_id = granted, getattr(actor, "id", None)
        record(
            "permission.grant" if granted else "permission.revoke",
            "permission",
            name,
            office_id=office.id,
            actor=actor,
            role=role.value,
        )
        changed += 1
    if changed:
        office_state.restamp(office.id)
        live.rights_changed(office_id=office.id)  # no stream or poll tag outlives the old rights
    return changed


def can(user, permission: str, office_id: int) -> bool:
    """Whether ``user`` holds ``permission`` in the office; a deactivated account holds nothing."""
    if permission not in manager().permissions or not (user.is_authenticated and user.is_active):
        return False
    if permission == "core.admin":
        return office_id in managed_office_ids(user)
    return bool(user.roles_in(office_id) & grants(office_id)[permission])


def holders(permission: str, office_id: int) -> list[User]:
    """The active users holding ``permission`` in the office, by name (e.g. a meeting's participants)."""
    query = (
        select(User)
        .join(RoleAssignment, RoleAssignment.user_id == User.id)
        .where(
            RoleAssignment.office_id == office_id,
            RoleAssignment.role.in_(list(grants(office_id)[permission])),
            User.active.is_(True),
        )
        .order_by(User.full_name)
    )
    return list(db.session.scalars(query).unique())


def require_admin() -> set[int]:
    ids = managed_office_ids(current_user)
    if not ids:
        abort(403)
    return ids


def managed_office_or_404(office_id: int) -> Office:
    managed = require_admin()  # the right before the lookup: a non-admin learns nothing of what exists
    office = db.session.get(Office, office_id)
    if office is None or office.id not in managed:
        abort(404)
    return office


def managed_user_or_404(user_id: int) -> User:
    managed = require_admin()
    user = db.session.get(User, user_id)
    if user is None or user.office_id not in managed:
        abort(404)
    return user
