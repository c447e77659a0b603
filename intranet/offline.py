"""Offline copies: the service worker's route and the mark that tells it which pages to store.

The service worker (``static/js/sw.js``) is served at ``/sw.js`` so that its scope is the whole site.
A view decorated with ``offline_copy("shell")`` (the follow-along and queue pages) is stored by it on
every visit and shown, marked as an offline copy, when the link is down; ``offline_copy("kept")`` (a
meeting's documents) is stored only once the member chose "keep on this device", then refreshed on
every visit. ``X-Offline-Version`` names the content's version so the page offering "keep" can tell
a kept copy is out of date and fetch the new one. Signing out empties the store (static/js/offline.js).
"""

from __future__ import annotations

from functools import wraps

from flask import Flask, current_app, g

KINDS = ("shell", "kept")


def init_app(app: Flask) -> None:
    app.add_url_rule("/sw.js", "service_worker", _service_worker)
    app.after_request(_mark)


def offline_copy(kind: str):
    assert kind in KINDS

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            g.offline_copy = kind
            return view(*args, **kwargs)

        return wrapper

    return decorate


def _service_worker():
    response = current_app.send_static_file("js/sw.js")
    response.mimetype = "text/javascript"
    # Registered with updateViaCache "all": browsers look for a new worker at most hourly, not on every page.
    response.headers["Cache-Control"] = "max-age=3600"
    return response


def _mark(response):
    kind = g.get("offline_copy")
    if kind and response.status_code == 200 and response.mimetype == "text/html":
        response.headers["X-Offline-Copy"] = kind
    return response
