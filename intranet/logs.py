"""Log lines for the app and gunicorn: plain text by default, JSON lines with ``LOG_FORMAT = "json"``
(python-json-logger), every line of a request carrying that request's id.

The request id is taken from the ``X-Request-ID`` header only when ``TRUST_REQUEST_ID`` is on (a proxy
that sets the header itself, overwriting the client's, is in front) and the value is well-formed;
otherwise it is generated. It is returned in the response's ``X-Request-ID`` header.

Anonymity: no log line may link a member to an anonymous question. So nothing here logs a user id, a
client address, a browser or a request body, and no view may log them on the questions routes.
"""

from __future__ import annotations

import logging
import re
import uuid

from flask import Flask, current_app, has_request_context, request
from pythonjsonlogger.json import JsonFormatter

HEADER = "X-Request-ID"
# nginx's $request_id (32 hex digits), UUIDs and the like; nothing that could forge a log line.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,127}")
_ENVIRON_KEY = "intranet.request_id"
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
# The gunicorn access-log atoms a JSON line carries; never the address (h) nor the browser (a).
_ACCESS_FIELDS = {"m": "method", "U": "path", "s": "status", "M": "duration_ms", "B": "bytes"}


def request_id() -> str:
    """This request's id, decided on first use (a hook that answers early, like the 304 shortcut of
    live polls, needs no order among the before_request hooks)."""
    rid = request.environ.get(_ENVIRON_KEY)
    if rid is None:
        given = request.headers.get(HEADER, "")
        trusted = current_app.config["TRUST_REQUEST_ID"] and _WELL_FORMED.fullmatch(given)
        rid = request.environ[_ENVIRON_KEY] = given if trusted else uuid.uuid4().hex
    return rid


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record: the current request's, the id gunicorn's access line was
    answered with, or "-" outside a request. A gunicorn access line is rewritten to the fields of
    ``_ACCESS_FIELDS`` whatever ``access_log_format`` says, so no address or browser reaches a log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            atoms = record.args
            record.request_id = atoms.get("{x-request-id}o") or "-"
            for atom, field in _ACCESS_FIELDS.items():
                setattr(record, field, atoms.get(atom))
            record.msg, record.args = "%s %s %s %sms", (record.method, record.path, record.status, record.duration_ms)
        elif not hasattr(record, "request_id"):
            record.request_id = request_id() if has_request_context() else "-"
        return True


def formatter(fmt: str) -> logging.Formatter:
    if fmt == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "name": "logger", "asctime": "time"})
    if fmt == "text":
        return logging.Formatter(TEXT_FORMAT)
    raise ValueError(f"LOG_FORMAT must be 'text' or 'json', not {fmt!r}")


def handler(fmt: str = "text") -> logging.Handler:
    """A stderr handler with the format and the request-id filter (also named in gunicorn's config)."""
    made = logging.StreamHandler()
    made.setFormatter(formatter(fmt))
    made.addFilter(RequestIdFilter())
    made._intranet = True  # so that configuring again replaces it instead of doubling every line
    return made


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """One handler of ours on the root logger (any earlier one replaced); other handlers (pytest's,
    an operator's) are left alone. Loggers that propagate, the app's and the libraries', use it."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_intranet", False)]:
        root.removeHandler(old)
    root.addHandler(handler(fmt))
    root.setLevel(level.upper())


def gunicorn_logconfig_dict(fmt: str = "text", level: str = "INFO") -> dict:
    """For gunicorn's ``logconfig_dict`` setting: its own lines (gunicorn.error) and access lines
    (gunicorn.access) in the app's format, with the request id; the root logger gets the same handler,
    which ``create_app`` then replaces by an equal one."""
    ours = {"()": "intranet.logs.handler", "fmt": fmt}
    logger = {"level": level.upper(), "handlers": ["intranet"], "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"intranet": ours},
        "root": {"level": level.upper(), "handlers": ["intranet"]},
        "loggers": {"gunicorn.error": logger, "gunicorn.access": logger},
    }


def init_app(app: Flask) -> None:
    configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])

    @app.after_request
    def _send_request_id(response):
        response.headers[HEADER] = request_id()
        return response
