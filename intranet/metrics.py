"""Prometheus metrics (prometheus_client), served at ``/metrics`` to the allowed only.

Labels are bounded: requests are timed by URL rule (``/questions/sessions/<int:session_id>/poll``),
never by raw path, and no metric names a user. Under gunicorn with several workers set
``PROMETHEUS_MULTIPROC_DIR`` (an empty directory, emptied at each start) so that every worker writes
its values there and any worker's ``/metrics`` sums them all; gunicorn's ``child_exit`` hook must call
``child_exit`` below so a dead worker's open streams stop counting.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import threading
import time

from flask import Flask, Response, current_app, request, request_started
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

REQUEST_SECONDS = Histogram(
    "intranet_http_request_duration_seconds",
    "Time to answer a request (until the response starts), by URL rule",
    ["method", "endpoint", "status"],
)
LIVE_STREAMS = Gauge(
    "intranet_live_streams_open", "Live-update streams open (the live bus's subscribers)", multiprocess_mode="livesum"
)
POLLS_UNCHANGED = Counter("intranet_live_polls_unchanged", "Live polls answered 304 Not Modified")
EVENTS_PUBLISHED = Counter("intranet_live_events_published", "Events published on the live bus")
SIGNIN_FAILURES = Counter("intranet_signin_failures", "Refused sign-ins", ["reason"])

_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
_REFRESH_SECONDS = 5
_refresher_pid: list[int | None] = [None]


def multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR")


def child_exit(server, worker) -> None:
    """gunicorn's ``child_exit`` hook (``deploy/`` config): forget the dead worker's live gauge."""
    if multiprocess_dir():
        multiprocess.mark_process_dead(worker.pid)


def init_app(app: Flask) -> None:
    request_started.connect(_start_timer, app)  # before every before_request hook (the 304 shortcut)
    app.after_request(_observe)


def _start_timer(sender, **extra) -> None:
    request.environ["intranet.started"] = time.perf_counter()


def _observe(response):
    started = request.environ.get("intranet.started")
    if started is not None:
        rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
        method = request.method if request.method in _METHODS else "OTHER"
        REQUEST_SECONDS.labels(method, rule, str(response.status_code)).observe(time.perf_counter() - started)
    if multiprocess_dir():
        _ensure_refresher(current_app._get_current_object())
    return response


def _live_streams(app: Flask) -> int:
    return app.extensions["intranet_live"].subscriber_count()


def _ensure_refresher(app: Flask) -> None:
    """In multi-process mode each worker publishes its own stream count every few seconds (the scrape
    is answered by one worker, which cannot ask the others). Started after a fork, like the bus."""
    if _refresher_pid[0] == os.getpid():
        return
    _refresher_pid[0] = os.getpid()

    def refresh() -> None:
        while True:
            LIVE_STREAMS.set(_live_streams(app))
            time.sleep(_REFRESH_SECONDS)

    threading.Thread(target=refresh, name="metrics-live-streams", daemon=True).start()


def allowed() -> bool:
    """A bearer token equal to ``METRICS_TOKEN`` (when set), or a client address in ``METRICS_ALLOW``.
    A forwarded request whose address is still the proxy's (no trusted-proxy setting, or fewer hops in
    ``X-Forwarded-For`` than it expects) has no known client address: only the token lets it in."""
    cfg = current_app.config
    token = cfg["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and hmac.compare_digest(given[7:].encode(), token.encode()):
        return True
    proxy = request.environ.get("werkzeug.proxy_fix.orig", {}).get("REMOTE_ADDR", request.remote_addr)
    if "HTTP_X_FORWARDED_FOR" in request.environ and request.remote_addr == proxy:
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(
        address in ipaddress.ip_network(net.strip(), strict=False)
        for net in cfg["METRICS_ALLOW"].split(",")
        if net.strip()
    )


def exposition() -> Response:
    LIVE_STREAMS.set(_live_streams(current_app))  # exact for the worker answering; others refresh
    registry = REGISTRY
    if multiprocess_dir():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
