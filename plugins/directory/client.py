"""The directory itself, through ldap3: a TLS-protected connection with failover, the user's entry by
the office's filter, a bind as the user, the mapped groups the entry is a member of.

Every connection is encrypted before anything is sent: ``ldaps://`` from the start, ``ldap://`` with
StartTLS; the server's certificate must chain to the configured CA (or the system's) and name the host.
No value from a user reaches a filter unescaped (``escape_filter_chars``).
"""

from __future__ import annotations

import logging
import ssl
from dataclasses import dataclass, field

import ldap3
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars

log = logging.getLogger(__name__)

# Active Directory's "in chain" matching rule: membership through nested groups.
IN_CHAIN = "1.2.840.113556.1.4.1941"


class Unreachable(Exception):
    """No URL gave a usable connection (down, refused TLS, or refused the search account); ``str()`` is
    a plain English reason for the administrator's test and the log, never a secret."""


@dataclass(frozen=True)
class Settings:
    """One office's effective directory settings (intranet_directory.settings)."""

    urls: tuple[str, ...]
    ca_pem: str
    bind_dn: str
    bind_secret: str = field(repr=False)
    search_base: str
    user_filter: str
    name_attribute: str
    email_attribute: str
    status_attribute: str
    nested_groups: bool
    groups: tuple[tuple[str, str], ...]  # (group DN, what membership maps to), in the order written
    timeout: float


@dataclass(frozen=True)
class Entry:
    dn: str
    attributes: dict[str, list[str]]

    def first(self, name: str) -> str:
        values = self.attributes.get(name.lower()) if name else None
        return str(values[0]).strip() if values else ""


def user_filter(settings: Settings, username: str) -> str:
    """The office's filter for one username; the username is escaped, so ``*``, parentheses, a backslash
    or a NUL match themselves and never another entry."""
    return settings.user_filter.replace("{username}", escape_filter_chars(username))


def _tls(settings: Settings) -> ldap3.Tls:
    # No version: ldap3 then starts from ssl.create_default_context (TLS 1.2 at least, the system's CAs
    # unless one is given) and checks the certificate's names against the URL's host itself.
    return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_data=settings.ca_pem or None)


def connect(settings: Settings, dn: str | None = None, password: str | None = None) -> ldap3.Connection | None:
    """A bound connection, as ``dn`` or else as the search account (anonymous without one), through the
    first URL that answers over TLS. ``None`` when that server refuses the credentials (a wrong password);
    raises ``Unreachable`` when no URL answers."""
    as_user = dn is not None
    who, secret = (dn, password) if as_user else (settings.bind_dn or None, settings.bind_secret or None)
    problems = []
    for url in settings.urls:
        try:
            server = ldap3.Server(url, tls=_tls(settings), get_info=ldap3.NONE, connect_timeout=settings.timeout)
            connection = ldap3.Connection(
                server,
                user=who,
                password=secret,
                receive_timeout=max(1, round(settings.timeout)),  # a whole number: ldap3 packs it into SO_RCVTIMEO
                read_only=True,
                auto_referrals=False,
                raise_exceptions=False,
            )
            connection.open()
            if not url.lower().startswith("ldaps://") and not connection.start_tls():
                raise Unreachable(f"{url}: StartTLS refused ({connection.result.get('description', '')})")
            if connection.bind():
                return connection
            result = connection.result or {}
            connection.unbind()
            if as_user and result.get("result") == 49:  # invalidCredentials
                return None
            if as_user:
                # e.g. unwillingToPerform: this server said no, another might not
                raise Unreachable(f"{url}: bind refused ({result.get('description', '')})")
            raise Unreachable(f"{url}: the search account was refused ({result.get('description', '')})")
        # ValueError: ldap3 lets the IDNA codec's UnicodeError out for a host that is no DNS name
        except (LDAPException, OSError, ValueError, Unreachable) as exc:
            problems.append(str(exc) if isinstance(exc, Unreachable) else f"{url}: {type(exc).__name__}: {exc}")
            log.warning("directory: %s", problems[-1])
    raise Unreachable("; ".join(problems) or "no server URL is set")


def find_user(connection: ldap3.Connection, settings: Settings, username: str) -> Entry | None:
    """The one entry the office's filter finds for ``username`` under its base (None: none, or more than
    one — an ambiguous filter signs nobody in)."""
    attributes = [a for a in (settings.name_attribute, settings.email_attribute, settings.status_attribute) if a]
    ok = connection.search(
        settings.search_base,
        user_filter(settings, username),
        search_scope=ldap3.SUBTREE,
        attributes=attributes or ldap3.NO_ATTRIBUTES,
        size_limit=2,
    )
    if not ok and connection.result.get("result") not in (0, 4, 32):  # success, sizeLimitExceeded, noSuchObject
        raise Unreachable(f"search failed: {connection.result.get('description', '')}")
    found = [r for r in connection.response or () if r.get("type") == "searchResEntry"]
    if len(found) != 1:
        return None
    values = {k.lower(): v if isinstance(v, list) else [v] for k, v in found[0]["attributes"].items()}
    return Entry(found[0]["dn"], values)


def member_of(connection: ldap3.Connection, settings: Settings, dn: str) -> list[str]:
    """The mapped groups (DNs as configured) that have ``dn`` as a member — directly, or for Active
    Directory with nested groups, through any chain of groups."""
    rule = f":{IN_CHAIN}:" if settings.nested_groups else ""
    value = escape_filter_chars(dn)
    member_filter = f"(|(member{rule}={value})(uniqueMember={value}))"
    found = []
    for group_dn, _ in settings.groups:
        ok = connection.search(group_dn, member_filter, search_scope=ldap3.BASE, attributes=ldap3.NO_ATTRIBUTES)
        if ok and any(r.get("type") == "searchResEntry" for r in connection.response or ()):
            found.append(group_dn)
        elif connection.result.get("result") not in (0, 32):  # a group that does not exist is no membership
            raise Unreachable(f"group search failed: {connection.result.get('description', '')}")
    return found


def check_filter(template: str) -> str | None:
    """Why the filter template cannot be used (None: it can)."""
    from ldap3.operation.search import parse_filter

    if "{username}" not in template:
        return "missing {username}"
    try:
        parse_filter(template.replace("{username}", "x"), None, False, False, None, False)
    except LDAPException as exc:
        return str(exc)
    return None
