"""The administrator's test of an office's settings (bind, search one user, say what it would map) and the
sync that deactivates the accounts that left the directory or its groups."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from intranet.admin.services import set_active
from intranet.audit import record
from intranet.extensions import db
from intranet.models import AuthSource, Office, User

from . import client
from .client import Settings, Unreachable
from .lookup import Verdict, verdict
from .settings import configured, configured_offices


@dataclass(frozen=True)
class Probe:
    """What the test found: the server that answered, or why none did; the user's verdict (None: not
    found by the filter)."""

    server: str = ""
    problem: str = ""
    verdict: Verdict | None = None


def probe(settings: Settings, username: str) -> Probe:
    try:
        connection = client.connect(settings)
    except Unreachable as exc:
        return Probe(problem=str(exc))
    try:
        return Probe(
            server=connection.server.name, verdict=verdict(connection, settings, username) if username else None
        )
    except Unreachable as exc:
        return Probe(server=connection.server.name, problem=str(exc))
    finally:
        connection.unbind()


# A sync that would deactivate more than half of an office's directory accounts, and at least this many,
# is held unless forced: that is what a search account that lost its read rights, or a changed filter,
# looks like, and undoing it would mean reactivating the office by hand.
MASS_LEAVING_FLOOR = 3


@dataclass
class SyncReport:
    dry_run: bool
    # (office code, username, why): "not found" or "no role"
    deactivated: list[tuple[str, str, str]] = field(default_factory=list)
    unreachable: list[str] = field(default_factory=list)  # office codes left as they were
    held: list[tuple[str, int, int]] = field(default_factory=list)  # (office code, leaving, checked): untouched
    checked: int = 0


def sync(*, dry_run: bool, office_id: int | None = None, actor=None, force: bool = False) -> SyncReport:
    """Deactivate (through the admin's own path: sessions end, hooks run) each active directory account
    whose entry the office's filter no longer finds, or whose groups give it no role. An office whose
    directory cannot be reached is left alone, and so, unless ``force``, is an office where most accounts
    would go (``MASS_LEAVING_FLOOR``). The caller commits (nothing to commit in a dry run)."""
    report = SyncReport(dry_run=dry_run)
    if office_id is None:
        offices = configured_offices()
    else:
        settings = configured(office_id)
        offices = [(office_id, settings)] if settings is not None else []
    for oid, settings in offices:
        office = db.session.get(Office, oid)
        users = db.session.scalars(
            select(User)
            .where(User.office_id == oid, User.auth_source == AuthSource.DIRECTORY, User.active.is_(True))
            .order_by(User.username)
        ).all()
        try:
            leaving = _leaving(settings, users)
        except Unreachable:
            report.unreachable.append(office.code)
            continue
        report.checked += len(users)
        if not force and len(leaving) >= MASS_LEAVING_FLOOR and 2 * len(leaving) > len(users):
            report.held.append((office.code, len(leaving), len(users)))
            continue
        for user, why in leaving:
            report.deactivated.append((office.code, user.username, why))
            if not dry_run:
                set_active(user, False, actor=actor)
        if not dry_run:
            record(
                "directory.sync",
                "office",
                oid,
                office_id=oid,
                actor=actor,
                deactivated=[u.username for u, _ in leaving],
            )
    return report


def _leaving(settings: Settings, users: list[User]) -> list[tuple[User, str]]:
    if not users:
        return []
    connection = client.connect(settings)
    try:
        leaving = []
        for user in users:
            found = verdict(connection, settings, user.username)
            if found is None:
                leaving.append((user, "not found"))
            elif not found.granted:
                leaving.append((user, "no role"))
        return leaving
    finally:
        connection.unbind()
