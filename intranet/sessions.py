"""Server-side sessions: every sign-in makes a ``UserSession`` row, and the cookies only name it.

Flask-Login keeps ``User.get_id()`` — "<user id>.<random token>" — in the signed session cookie and
in the remember-me cookie; the user loader accepts it only while a row with that token's hash exists
for an active user at the same ``auth_version``. So signing out (the row is deleted) ends the session
for every copy of either cookie, and "sign out everywhere" deletes all of a user's rows. The live
streams the user holds open end too (``live.rights_changed``): each reconnects, and only a session
still alive is let back in.

``last_seen_at`` and the address are written at most once per ``SESSION_TOUCH_SECONDS`` per session,
in their own short transaction, so a page view costs no write.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, request
from sqlalchemy import delete, event, select, update
from sqlalchemy.orm import joinedload

from . import live
from .extensions import db
from .models import User, UserSession, utcnow
from .params import parse_int


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _client_address() -> str:
    return (request.remote_addr or "")[:45]


def start(user: User) -> UserSession:
    """A new session for ``user`` (added to the caller's transaction); ``user.get_id()`` now names it."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user_id=user.id,
        token_hash=_hash(token),
        auth_version=user.auth_version,
        address=_client_address(),
        user_agent=(request.user_agent.string or "")[:255],
    )
    db.session.add(row)
    _prune(user.id)
    user.session_token = token
    return row


def _prune(user_id: int) -> None:
    """Drop the user's sessions idle longer than a remember-me cookie lives."""
    idle = current_app.config["REMEMBER_COOKIE_DURATION"]
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user_id, UserSession.last_seen_at < utcnow() - idle)
    )


def load(user_id: str) -> User | None:
    """Flask-Login's user loader: the user of a live session, or None."""
    raw_uid, _, token = user_id.partition(".")
    uid = parse_int(raw_uid)
    if uid is None or not token:
        return None
    row = db.session.scalar(
        select(UserSession)
        .where(UserSession.token_hash == _hash(token))
        # Roles and office come in the same query: nearly every page checks the roles (a live poll does
        # little else), and every page's frame names the office.
        .options(
            joinedload(UserSession.user).joinedload(User.roles),
            joinedload(UserSession.user).joinedload(User.office),
        )
    )
    if row is None or row.user_id != uid:
        return None
    user = row.user
    if not user.active or user.auth_version != row.auth_version:
        return None
    if row.last_seen_at < utcnow() - timedelta(seconds=current_app.config["SESSION_TOUCH_SECONDS"]):
        _touch(row.id)
    user.session_token = token
    return user


def _touch(session_id: int) -> None:
    # Its own connection and transaction: a GET commits nothing, and the request's session stays clean.
    with db.engine.begin() as connection:
        connection.execute(
            update(UserSession)
            .where(UserSession.id == session_id)
            .values(last_seen_at=utcnow(), address=_client_address())
        )


def current_id(user: User) -> int | None:
    """The row id of the session ``user`` was loaded for."""
    if not user.session_token:
        return None
    return db.session.scalar(select(UserSession.id).where(UserSession.token_hash == _hash(user.session_token)))


def end(user: User, session_id: int | None = None) -> int:
    """End one of ``user``'s sessions (by row id), or all of them; returns how many ended."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if session_id is not None:
        query = query.where(UserSession.id == session_id)
    ended = db.session.execute(query).rowcount
    if ended:
        live.rights_changed(user_id=user.id)
    return ended


@event.listens_for(User.auth_version, "set")
def _all_ended(user: User, value, old, initiator) -> None:
    """A new ``auth_version`` (a password set or reset, the account deactivated) ends every session of
    the user at once, and so the streams they hold open."""
    if user.id is not None and value != old:
        live.rights_changed(user_id=user.id)


def end_current(user: User) -> None:
    if user.session_token:
        db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash(user.session_token)))
        live.rights_changed(user_id=user.id)


@dataclass(frozen=True)
class ShownSession:
    id: int
    browser: str
    system: str
    address: str
    created_at: datetime
    last_seen_at: datetime
    current: bool


def listing(user: User) -> list[ShownSession]:
    """The user's live sessions, most recently seen first, with browser and system read from the
    User-Agent (ua-parser)."""
    from ua_parser import parse

    current = current_id(user)
    rows = db.session.scalars(
        select(UserSession)
        .where(UserSession.user_id == user.id, UserSession.auth_version == user.auth_version)
        .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
    )
    shown = []
    for row in rows:
        parsed = parse(row.user_agent)
        browser = parsed.user_agent.family if parsed.user_agent else ""
        system = parsed.os.family if parsed.os else ""
        if parsed.device and parsed.device.family not in ("Other", "") and parsed.device.family != system:
            system = f"{system} ({parsed.device.family})" if system else parsed.device.family
        shown.append(
            ShownSession(row.id, browser, system, row.address, row.created_at, row.last_seen_at, row.id == current)
        )
    return shown
