"""Office and user administration, free of request objects so views, CLI and tests share it.

Each function changes the session and records the audit event; the caller commits (or rolls back, so a
refused change writes nothing).
"""

from __future__ import annotations

import secrets

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import live
from ..audit import record_change
from ..extensions import db
from ..forms import USERNAME_RE
from ..models import AuthSource, Office, PartyStatus, Role, RoleAssignment, User
from ..plugins import manager
from ..refusals import ServiceError
from ..text import clean_text


def temporary_password() -> str:
    return secrets.token_urlsafe(9)  # 12 characters, ~72 bits; changed at first sign-in


# --- offices ----------------------------------------------------------------------------------------


def office_code_taken(code: str, except_id: int | None = None) -> bool:
    query = select(Office.id).where(func.lower(Office.code) == code.lower())
    if except_id is not None:
        query = query.where(Office.id != except_id)
    return db.session.scalar(query) is not None


def create_office(
    *, code: str, name: str, parent: Office | None, party_committee: str = "", cell_name: str = "", actor=None
) -> Office:
    code, name = clean_text(code).upper(), clean_text(name)
    if not name:
        raise ServiceError(_("Enter the office's name."), "name")
    if office_code_taken(code):
        raise ServiceError(_("The office code “%(code)s” is already used.", code=code), "code")
    office = Office(code=code, name=name, parent=parent, party_committee=party_committee, cell_name=cell_name)
    db.session.add(office)
    record_change(
        "office.create",
        office,
        office_id=office.id,
        actor=actor,
        code=code,
        name=office.name,
        parent=parent.code if parent else None,
    )
    manager().for_office(office.id).intranet_office_created(office=office, actor=actor)
    return office


def update_office(office: Office, *, actor=None, **fields) -> None:
    if "code" in fields:
        fields["code"] = fields["code"].strip().upper()
        if office_code_taken(fields["code"], except_id=office.id):
            raise ServiceError(_("The office code “%(code)s” is already used.", code=fields["code"]), "code")
    parent = fields.get("parent")
    if parent is not None and _is_within(parent, office):
        raise ServiceError(_("An office cannot be placed under itself or one of its own sub-offices."), "parent_id")
    _apply(office, "office.update", office.id, actor, fields)


def _apply(obj, action: str, office_id: int, actor, fields: dict) -> None:
    """Set the fields that differ and audit their names and new values (an office by its code)."""
    changed = {k: v for k, v in fields.items() if getattr(obj, k) != v}
    for key, value in changed.items():
        setattr(obj, key, value)
    if changed:
        record_change(
            action, obj, office_id=office_id, actor=actor, fields={k: getattr(v, "code", v) for k, v in changed.items()}
        )


def _is_within(candidate: Office, ancestor: Office) -> bool:
    node: Office | None = candidate
    while node is not None:
        if node.id == ancestor.id:
            return True
        node = node.parent
    return False


# --- users ------------------------------------------------------------------------------------------


def username_taken(username: str) -> bool:
    return db.session.scalar(select(User.id).where(func.lower(User.username) == username.lower())) is not None


def create_user(
    *,
    username: str,
    full_name: str,
    office: Office,
    email: str = "",
    party_status: PartyStatus | None = None,
    roles: tuple[Role, ...] = (),
    password: str | None = None,
    actor=None,
    via: str = "form",
    auth_source: AuthSource = AuthSource.LOCAL,
) -> tuple[User, str | None]:
    """Create an account. Without ``password`` a local account gets a temporary one, returned once, that
    must be changed at first sign-in; an account of another ``auth_source`` (a directory) gets none."""
    username, full_name = clean_text(username).lower(), clean_text(full_name)
    if not USERNAME_RE.match(username):
        raise ServiceError(_("“%(name)s” is not a valid username.", name=username), "username")
    if username_taken(username):
        raise ServiceError(_("The username “%(name)s” is already taken.", name=username), "username")
    if not full_name:
        raise ServiceError(_("Enter the full name."), "full_name")
    issued = None
    local = auth_source == AuthSource.LOCAL
    if password is None and local:
        password = issued = temporary_password()
    user = User(
        username=username,
        full_name=full_name,
        email=email or "",
        office=office,
        party_status=party_status,
        must_change_password=issued is not None,
        auth_source=auth_source,
    )
    if local:
        user.set_password(password)
    db.session.add(user)
    record_change("user.create", user, office_id=office.id, actor=actor, username=username, via=via, source=auth_source)
    manager().for_office(office.id).intranet_user_added(user=user, office=office, actor=actor)
    for role in roles:
        grant_role(user, office, role, actor=actor)
    return user, issued


def update_user(user: User, *, actor=None, **fields) -> None:
    moved = fields.get("office_id", user.office_id) != user.office_id
    _apply(user, "user.update", user.office_id, actor, fields)
    if moved:  # the plugin gate and the user's own office-wide rights follow the office
        live.rights_changed(user_id=user.id)


def set_active(user: User, active: bool, *, actor=None) -> None:
    if actor is not None and user.id == actor.id and not active:
        raise ServiceError(_("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    if not active:
        user.auth_version += 1  # signs the user out everywhere, and ends their streams (sessions)
    record_change("user.activate" if active else "user.deactivate", user, office_id=user.office_id, actor=actor)
    if not active:
        manager().for_office(user.office_id).intranet_user_deactivated(user=user, actor=actor)


def reset_password(user: User, *, actor=None) -> str:
    if user.auth_source != AuthSource.LOCAL:
        raise ServiceError(_("This account signs in with the agency's directory: its password is changed there."))
    password = temporary_password()
    user.set_password(password)
    user.must_change_password = True
    record_change("user.reset_password", user, office_id=user.office_id, actor=actor)
    return password


# --- roles ------------------------------------------------------------------------------------------


def grant_role(user: User, office: Office, role: Role, *, actor=None) -> bool:
    if role in user.roles_in(office.id):
        return False
    assignment = RoleAssignment(user=user, office=office, role=role)
    db.session.add(assignment)
    record_change("role.grant", assignment, office_id=office.id, actor=actor, user=user.username, role=role)
    manager().for_office(office.id).intranet_role_changed(
        user=user, office=office, role=role, granted=True, actor=actor
    )
    return True


def role_names() -> tuple[str, ...]:
    """Every role's name: what an identity source (a directory's groups) may map to."""
    return tuple(r.value for r in Role)


def set_roles(user: User, office: Office, names, *, actor=None) -> bool:
    """Make the user's roles in the office exactly ``names`` (role names), granting and revoking each one
    that differs (audited, hooks run); for an identity source that owns them. Returns whether any changed."""
    wanted = {Role(name) for name in names}
    held = user.roles_in(office.id)
    granted = [grant_role(user, office, r, actor=actor) for r in sorted(wanted - held, key=lambda r: r.value)]
    revoked = [revoke_role(user, office, r, actor=actor) for r in sorted(held - wanted, key=lambda r: r.value)]
    return any(granted) or any(revoked)


def revoke_role(user: User, office: Office, role: Role, *, actor=None) -> bool:
    if actor is not None and user.id == actor.id and role == Role.ADMIN:
        raise ServiceError(_("You cannot remove your own administrator role; ask another administrator."))
    assignment = next((a for a in user.roles if a.office_id == office.id and a.role == role), None)
    if assignment is None:
        return False
    record_change("role.revoke", assignment, office_id=office.id, actor=actor, user=user.username, role=role)
    user.roles.remove(assignment)
    live.rights_changed(user_id=user.id)  # a stream opened with the role does not outlive it
    manager().for_office(office.id).intranet_role_changed(
        user=user, office=office, role=role, granted=False, actor=actor
    )
    return True
