"""A refused change and the one way a posted action answers.

Services (the core's and every plugin's) raise ``ServiceError`` to refuse; views run a change through
``respond``, which commits it or rolls it back and answers in the way the client understands: a page
gets a flash message and a redirect, htmx and the browser's outbox (``intranet.js``) get 204 on
success and 422 with the reason as plain text on refusal (the outbox shows that text beside the form).
A boosted form (``hx-boost``: a file sent with its progress shown) is a page that stays put when
refused: 422 with the reason, the chosen file still in the form, or on success the flash and an
``HX-Redirect`` to ``back``.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Response, flash, redirect, request
from flask_babel import gettext as _

from .extensions import db
from .forms import form_errors_text


class ServiceError(Exception):
    """A refused change; ``str(err)`` is a message for the user, already translated, and ``field``
    names the form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def secret_as_typed(value: str, field: str) -> str:
    """A secret typed for another server (a search password, a shared secret), to store as it is —
    its spaces count, so its column is ``info={"verbatim": True}`` — or refused with a message when it
    holds a control character, which that server would never accept."""
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ServiceError(_("A secret must not hold control characters."), field)
    return value


def _quiet() -> bool:
    """The client reads the status, not a page: htmx or the outbox."""
    return bool(request.headers.get("HX-Request") or request.headers.get("X-Outbox")) and not _boosted()


def _boosted() -> bool:
    return bool(request.headers.get("HX-Boosted"))


def _refused(message: str, back: str):
    if _quiet() or _boosted():
        return Response(message, status=422, mimetype="text/plain")
    flash(message, "error")
    return redirect(back)


def respond(
    change: Callable[[], Any],
    back: str,
    success: str | Callable[[Any], str] | None = None,
    form=None,
    trigger: dict | Callable[[Any], dict] | None = None,
):
    """Validate ``form`` (if given), run ``change()`` and commit, or roll back on ``ServiceError``;
    then answer: a redirect to ``back`` with the success (a text, or a function of ``change()``'s
    result) or refusal flashed, or for htmx and the outbox 204 (with ``trigger`` — a dict, or a
    function of the result — as ``HX-Trigger``) or 422 with the reason; a boosted form as a page,
    except that a refusal is a 422."""
    if form is not None and not form.validate_on_submit():
        return _refused(form_errors_text(form), back)
    try:
        result = change()
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        return _refused(str(exc), back)
    if _quiet():
        response = Response(status=204)
        if trigger is not None:
            response.headers["HX-Trigger"] = json.dumps(trigger(result) if callable(trigger) else trigger)
        return response
    if success:
        flash(success(result) if callable(success) else success, "success")
    if _boosted():  # htmx goes there itself, and the page loaded there shows the flash
        headers = {"HX-Redirect": back}
        if urlsplit(request.headers.get("HX-Current-URL", "")).path == urlsplit(back).path:
            headers["HX-Refresh"] = "true"  # the same page: a new #fragment alone would not load it again
        return Response(status=204, headers=headers)
    return redirect(back)
