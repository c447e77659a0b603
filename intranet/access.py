"""Who may do what where: role checks, the office tree, and lookups that 404 outside one's reach."""
from __future__ import annotations

from flask import abort, g
from flask_login import current_user
from sqlalchemy import select

from .extensions import db
from .models import Office, Role, User
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


def can(user, permission: str, office_id: int) -> bool:
    perm = manager().permissions.get(permission)
    if perm is None or not user.is_authenticated:
        return False
    if permission == "core.admin":
        return office_id in managed_office_ids(user)
    return bool(user.roles_in(office_id) & perm.roles)


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
