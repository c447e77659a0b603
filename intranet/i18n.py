"""Locale and time zone: Vietnamese unless the user or the visitor chose otherwise; dates shown in
Asia/Ho_Chi_Minh (BABEL_DEFAULT_TIMEZONE), stored in UTC."""

from __future__ import annotations

from babel.numbers import format_decimal
from flask import Flask, current_app, has_request_context, session
from flask_babel import format_date, format_datetime, get_locale
from flask_login import current_user

from .labels import ROLE_LABELS, STATUS_LABELS
from .models import Role

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


def number(value, digits: int = 2, locale=None) -> str:
    """A figure in the locale's way (4,05 in Vietnamese, 4.05 in English), at most ``digits`` decimals;
    "—" when not known. ``locale`` for party documents, Vietnamese whatever the screen's language."""
    if value is None:
        return "—"
    return format_decimal(value, "#,##0." + "#" * digits if digits else "#,##0", locale=locale or get_locale())


def percent(value, digits: int = 1, locale=None) -> str:
    """A rate already in percent (90.3): "90,3 %" in Vietnamese, which spaces the sign as French does,
    "90.3%" in English."""
    if value is None:
        return "—"
    locale = str(locale or get_locale())
    return number(value, digits, locale) + ("%" if locale.startswith("en") else "\u00a0%")


def init_app(app: Flask) -> None:
    # Day first with a four-digit year, as Vietnamese documents write it; also read well in English.
    app.jinja_env.filters["datetime"] = lambda value, fmt=DATETIME: format_datetime(value, fmt) if value else ""
    app.jinja_env.filters["date"] = lambda value, fmt=DATE: format_date(value, fmt) if value else ""
    app.jinja_env.filters["number"] = number
    app.jinja_env.filters["percent"] = percent
    app.jinja_env.globals["LANGUAGE_NAMES"] = LANGUAGE_NAMES
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.globals["role_label"] = lambda role: ROLE_LABELS[Role(role)]  # a Role or its name
    app.jinja_env.globals["status_label"] = lambda status: STATUS_LABELS[status] if status else ""
