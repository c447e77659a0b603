"""What the directory says about one username in one office: its entry, and what the office's group
mapping makes of it (roles, party status, name, e-mail). Shared by the sign-in, the sync and the
administrator's test."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace

from ldap3.utils.dn import escape_rdn

from intranet.models import PartyStatus
from intranet.text import clean_text

from . import client
from .client import Settings
from .settings import MAPPED_TO, STATUS_WORDS


@dataclass(frozen=True)
class Verdict:
    """The entry found for a username and what it maps to in the office (``granted``, role names; empty:
    no access)."""

    dn: str
    full_name: str
    email: str
    granted: frozenset[str]
    status: PartyStatus | None
    groups: tuple[str, ...]


def verdict(connection, settings: Settings, username: str) -> Verdict | None:
    """Looked up through the search account's ``connection`` (None: no single entry)."""
    entry = client.find_user(connection, settings, username)
    return None if entry is None else _mapped(connection, settings, entry)


def _mapped(connection, settings: Settings, entry: client.Entry) -> Verdict:
    groups = client.member_of(connection, settings, entry.dn)
    targets = [MAPPED_TO[target] for dn, target in settings.groups if dn in groups]
    granted = frozenset(t for t in targets if not isinstance(t, PartyStatus))
    status = _status(entry.first(settings.status_attribute)) or next(
        (t for t in targets if isinstance(t, PartyStatus)), None
    )
    return Verdict(
        dn=entry.dn,
        # cleaned as the column will be, so that a name with nothing visible is seen here as none
        full_name=clean_text(entry.first(settings.name_attribute))[:200],
        email=clean_text(entry.first(settings.email_attribute))[:254],
        granted=granted,
        status=status,
        groups=tuple(groups),
    )


def _status(value: str) -> PartyStatus | None:
    word = value.strip().lower()
    try:
        return PartyStatus(word)
    except ValueError:
        return STATUS_WORDS.get(word)


def check_password(settings: Settings, username: str, password: str, binds: dict | None = None) -> Verdict | None:
    """The verdict when ``password`` is the entry's (a bind as the entry: never a hash compared here),
    else None. Raises Unreachable. Every answer costs the same: an unknown username binds with a DN that
    cannot exist, and the groups are read whatever the bind said (for that DN too), so neither an unknown
    username nor a right password of an entry in no group takes a different time.

    ``binds``, kept across the offices of one sign-in, holds each server's bind results: offices sharing
    a directory bind as the person once (the directory's own lock-out must not count one attempt per
    office), and a DN that cannot exist is not bound again on a server already asked — so an unknown
    username binds as often as a known one."""
    if not password:
        return None  # an empty password is an anonymous bind, which "succeeds"
    binds = {} if binds is None else binds
    service = client.connect(settings)
    try:
        entry = client.find_user(service, settings, username)
        dn = (
            entry.dn
            if entry is not None
            else f"cn={escape_rdn('no-such-' + secrets.token_hex(8))},{settings.search_base}"
        )
        servers = frozenset(settings.urls)
        if (servers, dn) in binds:
            bound = binds[servers, dn]
        elif entry is None and any(key[0] == servers for key in binds):
            bound = False  # that server was asked once already in this sign-in
        else:
            # the bind goes first to the server that just answered, not again through one that failed
            answered = service.server.name
            first = replace(settings, urls=(answered, *(u for u in settings.urls if u != answered)))
            connection = client.connect(first, dn, password)
            if connection is not None:
                connection.unbind()
            bound = binds[servers, dn] = connection is not None
        found = _mapped(service, settings, entry or client.Entry(dn, {}))
        return found if bound and entry is not None else None
    finally:
        service.unbind()
