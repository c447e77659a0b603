"""The intranet core: ``create_app`` builds the Flask application."""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from . import config as config_module
from . import live, live_grip, logs, metrics, schema
from .errors import CappedRequest
from .extensions import babel, csrf, db, htmx, limiter, login_manager, migrate
from .params import IdConverter
from .schema import MIGRATIONS


def create_app(config: dict | None = None) -> Flask:
    """Build the app. ``config`` overrides both the defaults and the environment (tests use it)."""
    settings = config_module.from_environment()
    settings.update(config or {})
    instance_path = settings.get("INSTANCE_PATH") or os.environ.get("INTRANET_INSTANCE_PATH")
    app = Flask(__name__, instance_path=instance_path and str(Path(instance_path).resolve()))
    app.request_class = CappedRequest  # the body-size cap holds before any hook reads a form
    app.url_map.converters["int"] = IdConverter  # before any route: <int:…> stays within a column's range
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.update(settings)
    _derive_config(app)
    logs.init_app(app)  # first: lines logged while the app is built have the format too
    metrics.init_app(app)

    db.init_app(app)
    from .models import render_migration_type

    migrate.init_app(app, db, directory=str(MIGRATIONS), render_as_batch=True, render_item=render_migration_type)
    app.cli.add_command(schema.db_group())  # replaces Flask-Migrate's: upgrade to every branch's head
    login_manager.init_app(app)
    csrf.init_app(app)
    limiter.init_app(app)
    # Flask-Limiter tells when Redis is away (counting falls back to memory) and when it is back.
    limiter.logger.setLevel(logging.INFO)
    htmx.init_app(app)

    from . import i18n

    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    live.init_app(app)
    live_grip.init_app(app)

    from . import assets, auth, core_hooks, errors, idempotency, notifications, offline, security  # noqa: F401  (idempotency: its table)
    from .cli import register_cli
    from .plugins import CORE, PluginManager

    pm = PluginManager()
    pm.register(core_hooks, CORE)
    pm.load_entry_points()
    pm.init_app(app)  # registers every blueprint (the core's too, through its own hooks)
    assets.init_app(app)  # after the blueprints: their static folders get hashed names too
    offline.init_app(app)

    auth.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    notifications.init_app(app)
    register_cli(app)
    _trust_proxies(app)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES proxies, the client's address, scheme and host come from their
    X-Forwarded-* headers, so rate limits, the lock-out, the sessions list and external URLs see the
    client and the public https address. Outermost, so every layer below sees the corrected request."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)


def _derive_config(app: Flask) -> None:
    cfg = app.config
    cfg["SECRET_KEY"] = cfg.get("SECRET_KEY") or config_module.persistent_secret_key(app.instance_path)
    cfg.setdefault("SQLALCHEMY_DATABASE_URI", config_module.sqlalchemy_url(cfg["DATABASE_URL"], app.instance_path))
    if cfg["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        cfg.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 20})
    production = cfg["ENV"] == "production" and not cfg.get("TESTING")
    cfg.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=production,
        REMEMBER_COOKIE_DURATION=timedelta(days=cfg["REMEMBER_DAYS"]),
        WTF_CSRF_TIME_LIMIT=None,  # valid for the whole session: a form left open over lunch still posts
        RATELIMIT_STORAGE_URI=cfg["REDIS_URL"] or "memory://",
        RATELIMIT_HEADERS_ENABLED=True,
        # Redis away: Flask-Limiter logs a warning and counts in this process's memory (the same limits,
        # per worker) until its periodic check finds Redis again. Errors it cannot fall back from
        # (a deduction after the response) are logged, never a 500: signing in must not depend on Redis.
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
        RATELIMIT_SWALLOW_ERRORS=True,
    )
    if cfg["REDIS_URL"]:  # a Redis that hangs must not hold a sign-in for long either
        cfg.setdefault("RATELIMIT_STORAGE_OPTIONS", {"socket_connect_timeout": 1, "socket_timeout": 1})
    cfg.setdefault("LANGUAGE_CODES", [c.strip() for c in str(cfg["LANGUAGES"]).split(",") if c.strip()])
