"""Response headers for every response, and the one rule for redirect targets taken from a request.

Headers are set here and nowhere else (one ``after_request``), rather than with Flask-Talisman: its
HTTPS forcing and HSTS do not suit an intranet that may be served over plain HTTP on a LAN, and the one
per-page difference we need (the Jitsi room's frames) is a line here. Rules:

- Content-Security-Policy: scripts, styles, images, fonts, connections and form targets from this
  site only; no inline script or style, no eval, no plugins, no <base>; nobody may frame our pages.
  A view that embeds another site calls ``allow_frames(*hosts)`` (the meeting room, for its Jitsi
  domains: their external_api.js, their iframe, and the pre-call check's request to each).
- ``X-Content-Type-Options: nosniff``, ``Referrer-Policy: same-origin`` and ``X-Frame-Options: DENY``
  everywhere.
- ``Cache-Control: no-store`` on every response to a signed-in user, unless the view set its own
  Cache-Control (live polls keep their ETag revalidation, files their own rules); static files are
  never marked.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, g, request
from flask_login import current_user

_BASE_POLICY = {
    "default-src": ["'self'"],
    "script-src": ["'self'"],
    "style-src": ["'self'"],
    "img-src": ["'self'", "data:"],
    "font-src": ["'self'"],
    "connect-src": ["'self'"],
    "media-src": ["'self'"],
    "frame-src": ["'none'"],
    "object-src": ["'none'"],
    "base-uri": ["'none'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
}

# A host name with an optional port, as the meetings plugin validates Jitsi domains.
_HOST = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$")


def init_app(app: Flask) -> None:
    app.after_request(_set_headers)


def allow_frames(*hosts: str) -> None:
    """Let this response's page load scripts from, frame and send requests to ``https://<host>`` for
    each host."""
    allowed = g.setdefault("csp_frame_hosts", [])
    allowed.extend(f"https://{h}" for h in hosts if _HOST.match(h or ""))


def content_security_policy() -> str:
    policy = {name: list(sources) for name, sources in _BASE_POLICY.items()}
    hosts = g.get("csp_frame_hosts")
    if hosts:
        policy["frame-src"] = hosts
        policy["script-src"] += hosts
        policy["connect-src"] += hosts
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in policy.items())


def _set_headers(response):
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy())
    headers.setdefault("X-Frame-Options", "DENY")  # frame-ancestors for browsers without CSP level 2
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    if (
        request.endpoint != "static"
        and not (request.endpoint or "").endswith(".static")
        and "Cache-Control" not in headers
        and current_user.is_authenticated
    ):
        headers["Cache-Control"] = "no-store"
    return response


# --- redirects ------------------------------------------------------------------------------------

# A path on this site: one "/" then printable ASCII without a backslash. Rules out "//host", "/\host",
# "https:host", "javascript:", CR/LF and other controls, spaces and any non-ASCII look-alike.
_LOCAL_PATH = re.compile(r"^/(?![/\\])[\x21-\x7e]*$")


def local_path(target: str | None) -> str | None:
    """``target`` if it is a path on this site, else None."""
    if not target or not _LOCAL_PATH.match(target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def same_site_path(url: str | None) -> str | None:
    """The path of ``url`` (e.g. a Referer) if it points at this site, else None."""
    if not url or not url.isascii():
        return None
    if url.startswith("/"):
        return local_path(url)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc != request.host:
        return None
    return local_path((parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
