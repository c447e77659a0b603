"""Error pages in the user's language: every 4xx gets a clear message, and a 500 is logged and polite."""

from __future__ import annotations

from flask import Flask, Request, current_app, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.utils import cached_property
from werkzeug.wsgi import LimitedStream

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
CSRF_MESSAGE = _l(
    "The form expired or did not come from this site. Reload the page and send it again; "
    "what you typed may need to be entered again."
)


def _render(code: int, message=None):
    message = message or MESSAGES.get(code, MESSAGES[400])
    # The browser's outbox and htmx forms (a file being sent) show the text next to the form.
    if request.headers.get("X-Outbox") or request.headers.get("HX-Request"):
        return str(message), code, {"Content-Type": "text/plain; charset=utf-8"}
    if request.accept_mimetypes.best == "application/json" or request.path.endswith(".json"):
        return jsonify(error=str(message)), code
    return render_template("error.html", code=code, title=TITLES.get(code, TITLES[400]), message=message), code


def accepts_uploads(view):
    """Let a view receive up to MAX_CONTENT_LENGTH; every other request is capped at MAX_FORM_SIZE."""
    view._accepts_uploads = True
    return view


class CappedRequest(Request):
    """The body-size cap is a property of the request itself, decided from the matched view the first
    time anything reads the body: no before_request hook (CSRF, the rate limiter's key) can parse a
    form before the cap is in force. A Content-Length over the cap is refused unread; a chunked body
    is cut off with 413 as soon as it passes the cap."""

    @property
    def max_content_length(self) -> int | None:
        if self._max_content_length is None and current_app:
            view = current_app.view_functions.get(self.endpoint) if self.endpoint else None
            key = "MAX_CONTENT_LENGTH" if getattr(view, "_accepts_uploads", False) else "MAX_FORM_SIZE"
            self._max_content_length = current_app.config[key]
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value

    @cached_property
    def stream(self):
        cap = self.max_content_length
        if cap is None or "wsgi.input_terminated" not in self.environ or (self.content_length or 0) > cap:
            return super().stream  # werkzeug refuses a Content-Length over the cap unread
        return _RefusedPastCap(self.environ["wsgi.input"], cap)


class _RefusedPastCap(LimitedStream):
    """A chunked body read up to one byte past the cap: reaching that byte is a 413, where werkzeug's
    own stream would stop at the cap and hand on a silently truncated form."""

    def __init__(self, stream, cap: int) -> None:
        super().__init__(stream, cap + 1, is_max=True)

    def readinto(self, b) -> int | None:
        size = super().readinto(b)
        if self.is_exhausted:
            raise RequestEntityTooLarge()
        return size


def init_app(app: Flask) -> None:
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
