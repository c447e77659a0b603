"""Configuration: defaults in code, overridden by the environment.

``INTRANET_<NAME>`` overrides ``<NAME>``; ``DATABASE_URL``, ``REDIS_URL`` and ``SECRET_KEY`` are read
as such. Values are parsed with the type of their default so ``INTRANET_LOGIN_IP_LIMIT`` stays a string
and ``INTRANET_MAX_CONTENT_LENGTH`` an int.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DEFAULTS: dict[str, object] = {
    "ENV": "production",  # "development" relaxes the Secure cookie flag for http://127.0.0.1
    "DATABASE_URL": "",  # empty: SQLite file in the instance folder
    "REDIS_URL": "",  # empty: in-process live bus, memory rate-limit storage
    "SECRET_KEY": "",  # empty: generated once and kept in instance/secret_key
    "BABEL_DEFAULT_LOCALE": "vi",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
    "LANGUAGES": "vi,en",
    "MAX_CONTENT_LENGTH": 60 * 1024 * 1024,  # a view marked accepts_uploads; others get MAX_FORM_SIZE
    "MAX_FORM_SIZE": 1024 * 1024,
    # Failed sign-ins from one address, all usernames: high enough for an office behind one NAT address.
    "LOGIN_IP_LIMIT": "300 per 10 minutes",
    # Per username and address (intranet/lockout.py): free failures, then a delay doubling per failure.
    "LOGIN_FREE_FAILURES": 5,
    "LOGIN_DELAY_SECONDS": 30,
    "LOGIN_MAX_DELAY_SECONDS": 15 * 60,
    "REMEMBER_DAYS": 30,  # a remember-me cookie, and a server-side session left idle, last this long
    "SESSION_TOUCH_SECONDS": 300,  # a session's "last seen" is written at most this often
    "LIVE_HEARTBEAT_SECONDS": 15,
    "LIVE_STREAM_MAX_SECONDS": 300,  # then the browser reconnects and the user's rights are re-checked
    # A plugin switched or a right changed anywhere ends every open stream within this many seconds (spread,
    # so that they do not all reconnect at once); reconnecting re-checks the user's rights.
    "LIVE_RECHECK_SPREAD_SECONDS": 10,
    "LIVE_PREFIX": "intranet:live",
    # Open live streams: past either cap a page polls instead (every 2 s, 304 while nothing changed).
    "LIVE_STREAMS_PER_USER": 8,
    "LIVE_STREAMS_PER_PROCESS": 2000,  # under the gunicorn worker's connections (intranet/gunicorn_conf.py)
    "PUSHPIN_SIG_KEY": "",  # empty: streams are held in-process; set: Pushpin holds them (same key as its sig_key)
    "PUSHPIN_PUBLISH_URLS": "http://127.0.0.1:5561",  # every Pushpin's control URL, space-separated
    "AUDIT_PAGE_SIZE": 50,
    "SMTP_HOST": "",  # empty: notifications stay in-app only
    "SMTP_PORT": 25,
    "SMTP_USER": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "SMTP_FROM": "intranet@localhost",
    "BASE_URL": "http://127.0.0.1:5000",  # links in e-mails and CLI output: the public https address
    # Proxies in front of the app (nginx: 1) whose X-Forwarded-For/-Proto/-Host/-Port are believed;
    # 0 ignores those headers, so a client cannot forge its address (README, "Production").
    "TRUSTED_PROXIES": 0,
    "STATIC_BUILD_DIR": "",  # empty: instance/static-build (hashed, pre-compressed static files)
    "LOG_FORMAT": "text",  # "json": one JSON object per line (intranet/logs.py)
    "LOG_LEVEL": "INFO",
    "TRUST_REQUEST_ID": False,  # take X-Request-ID from the proxy in front (it must overwrite the client's)
    "METRICS_ALLOW": "127.0.0.1,::1",  # addresses or networks that may read /metrics, comma-separated
    "METRICS_TOKEN": "",  # a bearer token that may read /metrics from anywhere; empty: none
}


def _coerce(default: object, raw: str) -> object:
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


def from_environment(environ: os._Environ | dict = os.environ) -> dict[str, object]:
    config = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        for name in (f"INTRANET_{key}", key if key in {"DATABASE_URL", "REDIS_URL", "SECRET_KEY"} else None):
            if name and name in environ:
                config[key] = _coerce(default, environ[name])
    return config


def with_plugin_defaults(config: dict, defaults: dict[str, object], environ=os.environ) -> None:
    """Add a plugin's keys (``PluginInfo.config``) that the app was not given, read like the core's."""
    for key, default in defaults.items():
        if key not in config:
            raw = environ.get(f"INTRANET_{key}")
            config[key] = default if raw is None else _coerce(default, raw)


def persistent_secret_key(instance_path: str) -> str:
    """Read the instance's secret key, creating it (mode 600) on first start."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key)
    return key


def sqlalchemy_url(url: str, instance_path: str) -> str:
    if not url:
        return f"sqlite:///{Path(instance_path) / 'intranet.sqlite3'}"
    # Heroku-style and bare postgres URLs go through psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url
