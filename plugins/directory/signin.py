"""Directory sign-in (the ``intranet_authenticate`` hook): which offices' directories to try, the first
sign-in that creates the account, and later ones that refresh it.

The rule for a person in the groups of two offices: an existing account signs in only through its own
office's directory; a first sign-in creates the account in the one office whose groups give the entry a
role, and is refused (asking for the administrator) when two offices do — an administrator then creates
the account in the right office as a directory account, or removes the person from one office's groups.
A first sign-in while some office's directory cannot be reached waits for it (that office might claim
the person too).
"""

from __future__ import annotations

import logging
import secrets

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from intranet.access import can
from intranet.admin.services import create_user, set_roles
from intranet.audit import record_change
from intranet.extensions import db
from intranet.forms import USERNAME_RE
from intranet.models import AuthSource, Office, User
from intranet.plugins import SignInAnswer
from intranet.refusals import ServiceError

from . import client
from .client import Unreachable
from .lookup import Verdict, check_password, verdict
from .settings import configured, configured_offices

log = logging.getLogger(__name__)


def authenticate(username: str, password: str, user: User | None) -> SignInAnswer | None:
    if not USERNAME_RE.match(username):
        # No account can have it (a NUL, a "*" or a parenthesis among them), so the directory is not asked.
        return SignInAnswer(refusal=SignInAnswer.WRONG)
    offices = configured_offices()
    unreachable, binds = False, {}  # binds: each server's answers in this sign-in (lookup.check_password)
    if user is not None:
        own = configured(user.office_id)
        if own is None:
            return None
        found, unreachable = _claim(user.office_id, own, username, password, binds)
        if found is not None:
            refresh(user, found)
            return SignInAnswer(user=user)
        # Refused: the other offices are asked too, as a name and password no one has, so that an account
        # costs and answers as an unknown username (which asks every office, and hears "cannot be
        # reached" while one is down) — or the answer would tell which usernames exist.
        username, password = f"no-one-{secrets.token_hex(8)}", secrets.token_urlsafe(24)
        offices = [(office_id, settings) for office_id, settings in offices if office_id != user.office_id]
    elif not offices:
        return None
    claims: list[tuple[int, Verdict]] = []
    for office_id, settings in offices:
        found, down = _claim(office_id, settings, username, password, binds)
        unreachable = unreachable or down
        if found is not None:
            claims.append((office_id, found))
    if user is not None or not claims or unreachable:
        return SignInAnswer(refusal=SignInAnswer.UNREACHABLE if unreachable else SignInAnswer.WRONG)
    if len(claims) > 1:
        return SignInAnswer(
            refusal=SignInAnswer.REFUSED,
            message=_(
                "The directory places you in more than one office. Ask your office's administrator to create "
                "your account in the right office; then sign in again."
            ),
        )
    office_id, found = claims[0]
    try:
        return SignInAnswer(user=provision(username, db.session.get(Office, office_id), found))
    except (ServiceError, IntegrityError) as exc:
        db.session.rollback()
        # A sign-in of the same person made the account meanwhile (a double click; on PostgreSQL the two
        # can pass the "taken?" check together, and the later insert breaks the unique username): this
        # one signs in to it.
        made = db.session.scalar(select(User).where(User.username == username))
        if made is not None and made.auth_source == AuthSource.DIRECTORY and made.office_id == office_id:
            refresh(made, found)
            return SignInAnswer(user=made)
        if isinstance(exc, IntegrityError):
            exc = ServiceError(_("The username “%(name)s” is already taken.", name=username))
        return SignInAnswer(refusal=SignInAnswer.REFUSED, message=str(exc))


def _claim(office_id: int, settings, username: str, password: str, binds: dict) -> tuple[Verdict | None, bool]:
    """The office's claim on the sign-in (its verdict when the password is right and a group gives a
    role), and whether its directory was out of reach."""
    try:
        found = check_password(settings, username, password, binds)
    except Unreachable as exc:
        log.warning("directory of office %s cannot be reached: %s", office_id, exc)
        return None, True
    return (found if found is not None and found.granted else None), False


def provision(username: str, office: Office, found: Verdict, actor: User | None = None) -> User:
    """The account of a first sign-in (or made ahead by the office's administrator), in the office with
    the mapped roles (audited as the account's creation, "via directory", and each role's grant)."""
    user, _issued = create_user(
        username=username,
        full_name=found.full_name or username,
        office=office,
        email=found.email,
        party_status=found.status,
        actor=actor,
        via="directory",
        auth_source=AuthSource.DIRECTORY,
    )
    set_roles(user, office, found.granted, actor=actor)
    return user


def create_account(office: Office, username: str, actor: User) -> User:
    """The administrator's way to settle where a person in two offices' groups belongs: the account made
    now in ``office`` from its directory's entry (found by the office's filter), before any sign-in."""
    if not can(actor, "directory.configure", office.id):
        raise ServiceError(_("Only this office's administrator changes its directory settings."))
    settings = configured(office.id)
    if settings is None:
        raise ServiceError(_("Save the settings first, then test them."))
    try:
        connection = client.connect(settings)
        try:
            found = verdict(connection, settings, username)
        finally:
            connection.unbind()
    except Unreachable as exc:
        raise ServiceError(_("The directory cannot be reached: %(problem)s", problem=str(exc))) from None
    if found is None:
        raise ServiceError(
            _(
                "No single entry matches “%(username)s” under the search base with the user filter.",
                username=username,
            ),
            "username",
        )
    if not found.granted:  # else any office could take another office's person's username for nothing
        raise ServiceError(
            _(
                "This office's groups give “%(username)s” no role: their account belongs where their groups are.",
                username=username,
            ),
            "username",
        )
    return provision(username, office, found, actor=actor)


def refresh(user: User, found: Verdict) -> None:
    """Name, e-mail, party status and the roles in the user's office as the directory has them now; each
    change audited (the caller commits)."""
    wanted = {"full_name": found.full_name or user.full_name, "email": found.email, "party_status": found.status}
    changed = {k: v for k, v in wanted.items() if getattr(user, k) != v}
    for key, value in changed.items():
        setattr(user, key, value)
    if changed:
        record_change("directory.refresh", user, office_id=user.office_id, actor=None, fields=changed)
    set_roles(user, user.office, found.granted)
