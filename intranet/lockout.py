"""Failed sign-ins slow down one username from one address, never the owner elsewhere.

Failures are counted per (username, address), known usernames and unknown ones alike. The first
``LOGIN_FREE_FAILURES`` cost nothing; after that each attempt waits ``LOGIN_DELAY_SECONDS`` doubled per
further failure (capped at ``LOGIN_MAX_DELAY_SECONDS``) since the last failure, and is refused unread
until then. A success from that address clears its count; a count idle for a day is forgotten. An
attacker can therefore only slow down the pair they attack: the owner still signs in from any address
they have not failed from. Across usernames, one address is capped by Flask-Limiter's
``LOGIN_IP_LIMIT`` (failures only, high enough for an office behind one NAT address).

When a known account's count from one address reaches the free allowance, its owner is told (at most
once a day) through the notifications service.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from .extensions import db
from .models import LoginThrottle, User, utcnow
from .notifications import link_to, notify

FORGET_AFTER = timedelta(days=1)


def _key(username: str) -> tuple[str, str]:
    return username.strip().lower()[:64], (request.remote_addr or "")[:45]


def wait_seconds(username: str) -> int:
    """Seconds this address must still wait before trying ``username`` again (0: try now)."""
    row = db.session.get(LoginThrottle, _key(username))
    if row is None:
        return 0
    delay = _delay(row.failures)
    elapsed = (utcnow() - row.last_failure_at).total_seconds()
    return max(0, int(delay - elapsed + 0.999))


def _delay(failures: int) -> float:
    cfg = current_app.config
    extra = failures - cfg["LOGIN_FREE_FAILURES"]
    if extra < 0:
        return 0
    return min(cfg["LOGIN_DELAY_SECONDS"] * 2 ** min(extra, 30), cfg["LOGIN_MAX_DELAY_SECONDS"])


def failed(username: str, user: User | None) -> None:
    """Count a failure (commits); tell the owner of a known account when the free allowance runs out."""
    username, address = _key(username)
    now = utcnow()
    match = (LoginThrottle.username == username) & (LoginThrottle.address == address)
    # Forget an old count, then add one atomically (two failures at once both count).
    db.session.execute(
        update(LoginThrottle).where(match, LoginThrottle.last_failure_at < now - FORGET_AFTER).values(failures=0)
    )
    added = db.session.execute(
        update(LoginThrottle).where(match).values(failures=LoginThrottle.failures + 1, last_failure_at=now)
    ).rowcount
    if not added:
        try:
            with db.session.begin_nested():
                db.session.add(LoginThrottle(username=username, address=address, failures=1, last_failure_at=now))
        except IntegrityError:  # another request made the row first
            db.session.execute(
                update(LoginThrottle).where(match).values(failures=LoginThrottle.failures + 1, last_failure_at=now)
            )
    failures = db.session.get(LoginThrottle, (username, address), populate_existing=True).failures
    if user is not None and failures == current_app.config["LOGIN_FREE_FAILURES"]:
        _tell_owner(user, address, failures)
    db.session.commit()


def succeeded(username: str) -> None:
    """Clear this address's count for ``username`` (the caller commits)."""
    username, address = _key(username)
    db.session.execute(
        delete(LoginThrottle).where(LoginThrottle.username == username, LoginThrottle.address == address)
    )


def _tell_owner(user: User, address: str, failures: int) -> None:
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        title = _("Repeated failed sign-ins to your account")
        body = _(
            "%(count)d wrong passwords for your account came from the address %(address)s. If this was "
            "not you, change your password and look at your active sessions.",
            count=failures,
            address=address,
        )
    notify([user], title, body, link=link_to("auth.account"), key=f"auth.failed-sign-ins:{utcnow():%Y-%m-%d}")
