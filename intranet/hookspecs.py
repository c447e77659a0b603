"""Every hook the core calls. Plugins implement them with ``@hookimpl``; names start with ``intranet_``.

Two kinds of call:

* **start-up hooks** (``intranet_plugin_info``, ``intranet_blueprints``, ``intranet_cli_commands``,
  ``intranet_permissions``, ``intranet_doctor_checks``) run once on every installed plugin, whatever the offices chose;
  so does ``intranet_authenticate``, at each sign-in (no office is known before it: the plugin itself
  picks the offices whose settings it tries);
* **office hooks** (all the others, and every hook a plugin defines) run only on the plugins enabled
  for the office concerned: they are called only through ``manager().for_office(office_id)``, a proxy
  built on pluggy's ``subset_hook_caller`` (a test refuses ``pm.hook.intranet_x`` for them), so a
  disabled plugin never hears them.

Every hookspec is typed; a hook that wants one answer is ``firstresult``. Each signature and docstring
below is copied into the README's plugin section; a test keeps the two in step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    import click
    from flask import Blueprint
    from markupsafe import Markup

    from .doctor import Finding
    from .models import Office, Role, User
    from .plugins import NavItem, Permission, PluginInfo, SignInAnswer

PROJECT = "intranet"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

STARTUP_HOOKS = frozenset(
    {
        "intranet_plugin_info",
        "intranet_blueprints",
        "intranet_cli_commands",
        "intranet_permissions",
        "intranet_doctor_checks",
        "intranet_authenticate",
    }
)


# --- start-up hooks -------------------------------------------------------------------------------


@hookspec
def intranet_plugin_info() -> PluginInfo:
    """Describe the plugin: return an ``intranet.plugins.PluginInfo`` (name, Vietnamese and English
    titles, version, whether it is on by default for an office that never chose, the names of the
    plugins it requires, and optionally a module of extra hookspecs the plugin defines for others).
    Called once per plugin at start-up; every plugin must implement it."""


@hookspec
def intranet_blueprints() -> list[Blueprint]:
    """Return a list of Flask blueprints. Called once at start-up; the core registers them all (Flask
    forbids later registration), requires a login for every view unless it is wrapped in
    ``intranet.plugins.public_view``, and answers 404 when the plugin is off for the user's office (for
    a ``cross_office_view``, the office that owns the URL's object)."""


@hookspec
def intranet_cli_commands() -> list[click.Command]:
    """Return a list of click commands or groups to add to ``flask --app wsgi``. Called once at
    start-up, for every installed plugin; make groups with ``flask.cli.AppGroup`` (or decorate commands
    with ``flask.cli.with_appcontext``) so they run inside the application."""


@hookspec
def intranet_permissions() -> list[Permission]:
    """Return a list of ``intranet.plugins.Permission`` (name, label, the roles that hold it by default).
    Called once at start-up. Each office's admin changes which roles hold it on the roles page (stored per
    office, audited); ``intranet.access.can(user, name, office_id)`` answers from the defaults and those
    changes, and is the only way a plugin checks a right: no plugin reads a user's roles."""


@hookspec
def intranet_doctor_checks() -> list[Finding]:
    """Return a list of ``intranet.doctor.Finding`` (level ``ok``, ``warn`` or ``fail``, subject, plain
    message) about the plugin's own settings, for ``flask --app wsgi doctor``. Called once per run inside
    the app, on every installed plugin, only when the database is reachable and migrated; a ``fail``
    makes the command exit non-zero."""


@hookspec(firstresult=True)
def intranet_authenticate(username: str, password: str, user: User | None) -> SignInAnswer | None:
    """Check a sign-in the core does not check itself: ``username`` (stripped, lower-case) has no local
    account, or ``user`` is its account from an authentication plugin (``auth_source`` not ``local``).
    Return an ``intranet.plugins.SignInAnswer``: the signed-in user (possibly just created, in the
    caller's transaction), or a refusal (``WRONG``, ``UNREACHABLE``, ``REFUSED`` with its message);
    ``None`` when the plugin has no say. Called on every installed plugin at each such sign-in; the core
    keeps the throttling, the messages and the session, and has already spent a password check's time.
    A refusal for ``user`` must cost and read as one for an unknown username (the core, for a local
    account's wrong password, calls the hook with a username and password no one has, for that reason)."""


# --- office hooks ---------------------------------------------------------------------------------


@hookspec
def intranet_nav_items(office: Office, user: User) -> list[NavItem]:
    """Return a list of ``intranet.plugins.NavItem`` (label, endpoint, order, optional permission) for
    the main navigation of ``user`` in ``office``. Called on every page render for a signed-in user."""


@hookspec
def intranet_template_slot(slot: str, office: Office, user: User, context: dict[str, Any]) -> Markup | str | None:
    """Return HTML (a ``markupsafe.Markup`` or an escaped string) to place in the named template slot,
    or ``None`` to add nothing. ``context`` is a dict of what the page passes (e.g. ``session=``).
    Templates call ``{{ slot("name", key=value) }}``; results are joined in plugin order. Slots the
    core renders: ``home`` (the start page), ``account`` (the my-account page)."""


@hookspec
def intranet_office_created(office: Office, actor: User | None) -> None:
    """Called after an office is created (in the same transaction, before commit) on the plugins
    enabled for the new office by default. ``actor`` is the user who created it or ``None`` (CLI)."""


@hookspec
def intranet_user_added(user: User, office: Office, actor: User | None) -> None:
    """Called after a user account is created in ``office`` (same transaction, before commit), whether
    by hand, by CSV import or by the CLI."""


@hookspec
def intranet_role_changed(user: User, office: Office, role: Role, granted: bool, actor: User | None) -> None:
    """Called after ``role`` (an ``intranet.models.Role``) is granted (``granted=True``) to or revoked
    from ``user`` in ``office``; same transaction, before commit."""


@hookspec
def intranet_user_deactivated(user: User, actor: User | None) -> None:
    """Called after a user account is deactivated (``user.active`` is then False), on the plugins
    enabled for the user's office; the plugin may release what the user held (e.g. a pending task)."""


@hookspec
def intranet_plugin_switched(office: Office, plugin: str, enabled: bool, actor: User | None) -> None:
    """Called after ``plugin`` was switched on or off for ``office``, on the plugins enabled for the
    office after the change (so a plugin hears its own switching on, and can seed that office's data)."""


@hookspec
def intranet_demo_data(office: Office, people: dict[str, User], actor: User) -> None:
    """Called by ``flask --app wsgi seed-demo`` after the demo offices and accounts exist, on the plugins
    enabled for the demo cell's ``office``; ``people`` maps demo usernames to users and ``actor`` is the
    cell's secretary. A plugin adds a realistic record of its own (before commit)."""
