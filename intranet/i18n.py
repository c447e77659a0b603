"""Locale and time zone: Vietnamese unless the user or the visitor chose otherwise; dates shown in
Asia/Ho_Chi_Minh (BABEL_DEFAULT_TIMEZONE), stored in UTC."""

from __future__ import annotations

from flask import Flask, current_app, has_request_context, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from .labels import ROLE_LABELS, STATUS_LABELS

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}
DATETIME = "HH:mm dd/MM/yyyy"
DATE = "dd/MM/yyyy"


def select_locale() -> str:
    codes = current_app.config["LANGUAGE_CODES"]
    if not has_request_context():  # CLI and background work speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in codes:
        return current_user.locale
    if session.get("lang") in codes:
        return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def init_app(app: Flask) -> None:
    # Day first with a four-digit year, as Vietnamese documents write it; also read well in English.
    app.jinja_env.filters["datetime"] = lambda value, fmt=DATETIME: format_datetime(value, fmt) if value else ""
    app.jinja_env.filters["date"] = lambda value, fmt=DATE: format_date(value, fmt) if value else ""
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["role_label"] = ROLE_LABELS.__getitem__
    app.jinja_env.globals["status_label"] = lambda status: STATUS_LABELS[status] if status else ""
