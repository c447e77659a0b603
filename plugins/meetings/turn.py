"""The office's TURN server, for the room page's pre-call test (``@jitsi/precall-test``).

With a shared secret (coturn's ``use-auth-secret`` / ``static-auth-secret``, the "TURN REST API"),
each member gets credentials that expire: the username is ``<expiry unix time>:<user id>``, the
credential base64(HMAC-SHA1(secret, username)); coturn checks both without asking the intranet. A fixed
username and credential are handed as they are (they cannot expire: the shared secret is better)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time

from flask_babel import gettext as _

from intranet.refusals import ServiceError

from .models import OfficeConfig

LIFETIME_SECONDS = 10 * 60  # long enough for the test and a retry; the page asks again on reload
# RFC 7065's turn:/turns: URIs (host or IPv4/[IPv6], optional port and transport), and stun:.
URL = re.compile(
    r"^(turns?|stun):(\[[0-9a-f:]+\]|[a-z0-9.-]+)(:\d{1,5})?(\?transport=(udp|tcp))?$",
    re.IGNORECASE,
)


def urls(config: OfficeConfig) -> list[str]:
    return [u.strip() for u in config.turn_urls.replace(",", "\n").splitlines() if u.strip()]


def configured(config: OfficeConfig) -> bool:
    return bool(urls(config))


def check(config: OfficeConfig) -> None:
    """Refuse a TURN setting the pre-call test could not use. No URL switches the test off."""
    given = urls(config)
    for url in given:
        found = URL.match(url)
        if not found or (found.group(3) and not 0 < int(found.group(3)[1:]) <= 65535):
            raise ServiceError(
                _("“%(url)s” is not a TURN URL (e.g. turn:turn.example.gov.vn:3478).", url=url), "turn_urls"
            )
    if given and not any(u.lower().startswith("turn") for u in given):
        raise ServiceError(_("The pre-call test needs at least one turn: or turns: URL."), "turn_urls")
    if given and not (config.turn_secret or (config.turn_username and config.turn_credential)):
        raise ServiceError(_("TURN needs either the shared secret or a username with its credential."), "turn_username")


def ice_servers(config: OfficeConfig, user, *, now: float | None = None) -> tuple[list[dict], int | None]:
    """The RTCIceServer list for ``user`` and when its credentials expire (None: fixed credentials)."""
    if config.turn_secret:
        expires = int(now if now is not None else time.time()) + LIFETIME_SECONDS
        username = f"{expires}:{user.id}"
        digest = hmac.new(config.turn_secret.encode(), username.encode(), hashlib.sha1).digest()
        return [{"urls": urls(config), "username": username, "credential": base64.b64encode(digest).decode()}], expires
    return [{"urls": urls(config), "username": config.turn_username, "credential": config.turn_credential}], None
