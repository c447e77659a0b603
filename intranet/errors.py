"""Error pages in the user's language: every 4xx gets a clear message, and a 500 is logged and polite."""
from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from .extensions import db

MESSAGES = {
    400: _l("The request could not be understood. Go back, reload the page and try again."),
    403: _l("You do not have the right to see this page."),
    404: _l("This page does not exist, or you cannot see it."),
    405: _l("This action cannot be done this way."),
    413: _l("What you sent is too large."),
    429: _l("Too many attempts. Wait a few minutes, then try again."),
    500: _l("Something went wrong on our side. Nothing was saved; please try again."),
}
TITLES = {
    400: _l("Bad request"),
    403: _l("Not allowed"),
    404: _l("Not found"),
    405: _l("Not allowed"),
    413: _l("Too large"),
    429: _l("Too many attempts"),
    500: _l("Server error"),
}
CSRF_MESSAGE = _l("The form expired or did not come from this site. Reload the page and send it again; "
                  "what you typed may need to be entered again.")


def _render(code: int, message=None):
    message = message or MESSAGES.get(code, MESSAGES[400])
    if request.headers.get("X-Outbox"):  # the browser's outbox shows the text next to the form
        return str(message), code, {"Content-Type": "text/plain; charset=utf-8"}
    if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
        return jsonify(error=str(message)), code
    return render_template("error.html", code=code, title=TITLES.get(code, TITLES[400]), message=message), code


def accepts_uploads(view):
    """Let a view receive up to MAX_CONTENT_LENGTH; every other request is capped at MAX_FORM_SIZE."""
    view._accepts_uploads = True
    return view


def _cap_request_size():
    view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
    if not getattr(view, "_accepts_uploads", False):
        request.max_content_length = current_app.config["MAX_FORM_SIZE"]


def init_app(app: Flask) -> None:
    app.before_request(_cap_request_size)
    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _render(400, CSRF_MESSAGE)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        return _render(exc.code, getattr(exc, "user_message", None))  # e.g. params.BadParameter

    @app.errorhandler(Exception)
    def server_error(exc: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        try:
            return _render(500)
        except Exception:  # the page itself failed: answer plainly rather than recurse
            return str(MESSAGES[500]), 500, {"Content-Type": "text/plain; charset=utf-8"}
