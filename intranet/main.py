"""Start page, language switch, liveness and readiness checks, metrics, and the navigation every page
shows."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from flask import Blueprint, abort, current_app, jsonify, redirect, request, session, url_for
from flask_login import current_user, login_required

from . import live, metrics
from .access import can
from .extensions import db, limiter
from .plugins import manager
from .schema import code_heads
from .security import same_site_path

bp = Blueprint("main", __name__)


@bp.app_context_processor
def navigation():
    def nav_items():
        if not current_user.is_authenticated:
            return []
        office_id = current_user.office_id
        items = [
            item
            for result in manager()
            .for_office(office_id)
            .intranet_nav_items(office=current_user.office, user=current_user)
            for item in result
            if item.permission is None or can(current_user, item.permission, office_id)
        ]
        return sorted(items, key=lambda i: (i.order, str(i.label)))

    return {"nav_items": nav_items}


@bp.route("/")
@login_required
def index():
    from flask import render_template

    return render_template("index.html")


@bp.post("/lang/<code>")
def set_language(code: str):
    if code not in current_app.config["LANGUAGE_CODES"]:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        current_user.locale = code
        db.session.commit()
    return redirect(same_site_path(request.referrer) or url_for("main.index"))


@bp.get("/healthz")
def healthz():
    """Liveness for the load balancer: the process answers. No database query, no Redis call (a
    slow dependency must not make every instance look dead); /readyz checks them."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Each dependency's ``status``: "ok", or "down" (the rate limits: "fallback"). Without the
    database, or with its schema not at the migrations' head, nothing works: 503, status "down".
    Without Redis the intranet keeps working (live pages poll, rate limits count in each process) and
    says so with 200, status "degraded": a load balancer must not take every instance out of service
    because Redis is away."""
    try:
        with db.engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
        database = {"status": "ok", "dialect": db.engine.dialect.name}
    except Exception as exc:  # reported, not raised: this is the readiness check
        current, database = None, {"status": "down", "error": type(exc).__name__}
    heads = set(code_heads())
    migrations = {
        "status": "ok" if current == heads else "down",
        "head": sorted(heads),
        "current": None if current is None else sorted(current),
    }
    bus = live.bus().status()
    live_bus = {"status": "ok" if bus.pop("ok") else "down", **bus}
    counting_in_memory = limiter.limiter.storage is not limiter.storage  # Flask-Limiter's fallback is on
    rate_limits = {
        "backend": "redis" if current_app.config["REDIS_URL"] else "memory",
        "status": "fallback" if counting_in_memory or not limiter.storage.check() else "ok",
    }
    if database["status"] != "ok" or migrations["status"] != "ok":
        status = "down"
    elif live_bus["status"] != "ok" or rate_limits["status"] != "ok":
        status = "degraded"
    else:
        status = "ok"
    return (
        jsonify(status=status, database=database, migrations=migrations, live_bus=live_bus, rate_limits=rate_limits),
        503 if status == "down" else 200,
    )


@bp.get("/metrics", endpoint="metrics")
def metrics_view():
    """Prometheus metrics, for the allowed address list or bearer token only (intranet/metrics.py)."""
    if not metrics.allowed():
        abort(404)  # tells a stranger nothing, not even that the endpoint exists
    return metrics.exposition()
