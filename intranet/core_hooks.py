"""The core's own hook implementations: it uses the same hooks as the plugins (Datasette's way)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .hookspecs import hookimpl
from .models import Role
from .plugins import NavItem, Permission


@hookimpl
def intranet_blueprints():
    from .admin import bp as admin_bp
    from .auth import bp as auth_bp
    from .main import bp as main_bp
    from .notifications import bp as notifications_bp

    return [main_bp, auth_bp, admin_bp, notifications_bp]


@hookimpl
def intranet_permissions():
    return [
        Permission("core.admin", _l("Administer the office and the offices below it"), frozenset({Role.ADMIN})),
    ]


@hookimpl
def intranet_nav_items(office, user):
    return [
        NavItem(_l("Home"), "main.index", order=0),
        NavItem(_l("Administration"), "admin.index", order=1000, permission="core.admin"),
    ]
