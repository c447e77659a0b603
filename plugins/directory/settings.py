"""Each office's directory settings: what the administrator saves (checked, audited without the secret),
the effective settings (an empty text field takes its ``INTRANET_DIRECTORY_*`` setting), and the offices
whose directory a sign-in tries."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from ldap3.core.exceptions import LDAPInvalidDnError
from ldap3.utils.dn import parse_dn

from intranet.access import can
from intranet.admin.services import role_names
from intranet.audit import record
from intranet.extensions import db
from intranet.models import PartyStatus
from intranet.plugins import manager
from intranet.refusals import ServiceError, secret_as_typed

from .client import Settings, check_filter
from .models import OfficeDirectory

NAME = "directory"
# The text fields, each with the setting it falls back to (INTRANET_<setting>).
TEXT_FIELDS = {
    "urls": "DIRECTORY_URLS",
    "ca_pem": "DIRECTORY_CA_PEM",
    "bind_dn": "DIRECTORY_BIND_DN",
    "search_base": "DIRECTORY_SEARCH_BASE",
    "user_filter": "DIRECTORY_USER_FILTER",
    "name_attribute": "DIRECTORY_NAME_ATTRIBUTE",
    "email_attribute": "DIRECTORY_EMAIL_ATTRIBUTE",
    "status_attribute": "DIRECTORY_STATUS_ATTRIBUTE",
}
SECRET_SETTING = "DIRECTORY_BIND_SECRET"
# What a group line may map to: a role in the office (by name), or a party status.
MAPPED_TO = {**{name: name for name in role_names()}, **{s.value: s for s in PartyStatus}}
# Words a status attribute may hold, besides the English values (case and accents as the directory has them).
STATUS_WORDS = {"chính thức": PartyStatus.OFFICIAL, "dự bị": PartyStatus.PROBATIONARY}


def row_for(office_id: int) -> OfficeDirectory | None:
    return db.session.get(OfficeDirectory, office_id)


def split_urls(text: str) -> list[str]:
    """One a line in the form; spaces or commas between them in a setting."""
    return (text or "").replace(",", " ").split()


def allowed_hosts() -> set[str]:
    """The hosts an office may name (``INTRANET_DIRECTORY_ALLOWED_HOSTS``); empty: any."""
    return {h.lower() for h in str(current_app.config.get("DIRECTORY_ALLOWED_HOSTS") or "").split()}


def url_host(url: str) -> str | None:
    """The host an ``ldap://`` or ``ldaps://`` URL names, lower-case (None: not such a URL, or its host or
    port cannot be read — urlsplit raises on ``ldap://[::1`` or a port past 65535, the IDNA encoding on
    ``ldap://a..b`` or a label past 63 characters)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not one)
        (parts.hostname or "").encode("idna")
    except ValueError:  # UnicodeError among them
        return None
    if parts.scheme.lower() not in ("ldap", "ldaps") or not parts.hostname:
        return None
    return parts.hostname.lower()


def host_allowed(url: str) -> bool:
    allowed = allowed_hosts()
    host = url_host(url)
    return host is not None and (not allowed or host in allowed)


def effective(row: OfficeDirectory) -> Settings:
    cfg = current_app.config

    def value(name: str) -> str:
        return (getattr(row, name) or "").strip() or str(cfg.get(TEXT_FIELDS[name]) or "").strip()

    own_urls = bool(split_urls(row.urls)) and split_urls(row.urls) != split_urls(cfg.get(TEXT_FIELDS["urls"]))
    # A CA of the office's own would vouch for whoever answers at the server's URLs: no server secret then.
    own_ca = (
        bool((row.ca_pem or "").strip())
        and (row.ca_pem or "").strip() != str(cfg.get(TEXT_FIELDS["ca_pem"]) or "").strip()
    )
    return Settings(
        # An office's own URLs count only on the allowed hosts (the list may have come after them).
        urls=tuple(u for u in split_urls(value("urls")) if not own_urls or host_allowed(u)),
        ca_pem=value("ca_pem"),
        bind_dn=value("bind_dn"),
        # The server's secret goes only to the server's URLs under the server's CA: an office naming its
        # own sets its own.
        bind_secret=row.bind_secret or ("" if own_urls or own_ca else str(cfg.get(SECRET_SETTING) or "")),
        search_base=value("search_base"),
        user_filter=value("user_filter"),
        name_attribute=value("name_attribute"),
        email_attribute=value("email_attribute"),
        status_attribute=value("status_attribute"),
        nested_groups=row.nested_groups,
        groups=tuple(parse_group_map(row.group_map)),
        timeout=float(cfg["DIRECTORY_TIMEOUT_SECONDS"]),
    )


def parse_group_map(text: str) -> list[tuple[str, str]]:
    """``<group DN> = <role or status>`` lines (the last ``=`` separates: a DN has its own); raises
    ServiceError naming the first line that is not one."""
    pairs = []
    for number, line in enumerate((text or "").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        dn, sep, target = line.rpartition("=")
        dn, target = dn.strip(), target.strip().lower()
        if not sep or not is_dn(dn) or target not in MAPPED_TO:
            raise ServiceError(
                _(
                    "Line %(number)d of the group mapping is not “group DN = role” (roles: %(roles)s).",
                    number=number,
                    roles=", ".join(MAPPED_TO),
                ),
                "group_map",
            )
        pairs.append((dn, target))
    return pairs


def is_dn(text: str) -> bool:
    try:
        parse_dn(text)
    except LDAPInvalidDnError:
        return False
    return "=" in text


def configured(office_id: int) -> Settings | None:
    """The office's effective settings when the plugin is on there and they can sign someone in."""
    if not manager().is_enabled(office_id, NAME):
        return None
    row = row_for(office_id)
    if row is None:
        return None
    try:
        settings = effective(row)
    except ServiceError:
        return None
    return settings if settings.urls and settings.search_base and settings.user_filter and settings.groups else None


def configured_offices() -> list[tuple[int, Settings]]:
    """Every office whose directory a first sign-in tries, by id."""
    found = []
    for office_id in sorted(manager().offices_with(NAME)):
        settings = configured(office_id)
        if settings is not None:
            found.append((office_id, settings))
    return found


def defaults() -> dict[str, str]:
    """What each empty text field stands for: the server's settings (the secret never)."""
    cfg = current_app.config
    return {name: str(cfg.get(setting) or "") for name, setting in TEXT_FIELDS.items()}


def save(
    office_id: int, actor, *, secret_given: str, nested_groups: bool, group_map: str, **fields: str
) -> OfficeDirectory:
    """Only a holder of ``directory.configure`` in the office. A secret left empty keeps the stored one
    (the form never shows it back). The audit names what changed, never the secret's value."""
    if not can(actor, "directory.configure", office_id):
        raise ServiceError(_("Only this office's administrator changes its directory settings."))
    row = row_for(office_id) or OfficeDirectory(office_id=office_id)
    fields = {name: (fields.get(name) or "").strip() for name in TEXT_FIELDS}
    fields["group_map"] = "\n".join(line.strip() for line in (group_map or "").splitlines() if line.strip())
    parse_group_map(fields["group_map"])
    for url in split_urls(fields["urls"]):
        if url_host(url) is None:
            raise ServiceError(_("“%(url)s” is not an ldap:// or ldaps:// URL.", url=url[:100]), "urls")
        if not host_allowed(url):
            raise ServiceError(
                _(
                    "This server allows only these directory hosts: %(hosts)s. Ask the intranet's operator "
                    "to add another (INTRANET_DIRECTORY_ALLOWED_HOSTS).",
                    hosts=", ".join(sorted(allowed_hosts())),
                ),
                "urls",
            )
    if fields["user_filter"]:
        problem = check_filter(fields["user_filter"])
        if problem is not None:
            raise ServiceError(
                _(
                    "The user filter must be one LDAP filter with {username} where the username goes, e.g. "
                    "(&(objectClass=inetOrgPerson)(uid={username})) (here: %(problem)s).",
                    problem=problem,
                ),
                "user_filter",
            )
    if fields["search_base"] and not is_dn(fields["search_base"]):
        raise ServiceError(_("The search base must be a DN, e.g. ou=people,dc=agency,dc=gov,dc=vn."), "search_base")
    if fields["ca_pem"] and "-----BEGIN CERTIFICATE-----" not in fields["ca_pem"]:
        raise ServiceError(_("The CA certificate must be in PEM form (-----BEGIN CERTIFICATE-----)."), "ca_pem")
    changed = sorted(k for k, v in fields.items() if (getattr(row, k, None) or "") != v)
    if bool(row.nested_groups) != nested_groups:
        changed.append("nested_groups")
    for name, value in fields.items():
        setattr(row, name, value)
    row.nested_groups = nested_groups
    if secret_given.strip():
        row.bind_secret = secret_as_typed(secret_given, "bind_secret")
    if db.inspect(row).transient:
        db.session.add(row)
    record(
        "directory.config",
        OfficeDirectory.__tablename__,
        office_id,
        office_id=office_id,
        actor=actor,
        changed=changed,
        urls=fields["urls"].split(),
        secret_changed=bool(secret_given.strip()),
    )
    return row
