"""The plugin manager: discovery through entry points, per-office switches, office-scoped hook calls.

A plugin is any object (usually a module) whose functions carry ``@hookimpl``. It is found through the
``intranet.plugins`` entry-point group, so a built-in plugin and one installed with ``pip install`` are
found the same way. The manager lives on the app (``app.extensions["intranet_plugins"]``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from types import ModuleType
from typing import Any

import pluggy
from flask import Flask, abort, current_app, g, request
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import select

from . import hookspecs, live, office_state
from .extensions import db
from .hookspecs import hookimpl  # re-exported for plugins: ``from intranet.plugins import hookimpl``
from .models import Office, PluginState, Role

ENTRY_POINT_GROUP = "intranet.plugins"
CORE = "core"

__all__ = [
    "hookimpl",
    "PluginInfo",
    "NavItem",
    "Permission",
    "SignInAnswer",
    "PluginError",
    "public_view",
    "cross_office_view",
    "manager",
]


@dataclass(frozen=True)
class PluginInfo:
    name: str
    title_vi: str
    title_en: str
    version: str
    default_enabled: bool = False
    requires: tuple[str, ...] = ()
    description_vi: str = ""
    description_en: str = ""
    hookspecs: ModuleType | None = None  # hooks this plugin defines for other plugins to implement
    config: dict = field(default_factory=dict)  # its settings' defaults; INTRANET_<KEY> overrides them
    # The folder of its own migration branch (labelled with its name); default: the package's
    # ``migrations/`` folder. See intranet/schema.py.
    migrations: str | os.PathLike | None = None

    def title(self) -> str:
        return self.title_en if str(get_locale()) == "en" else self.title_vi

    def description(self) -> str:
        return self.description_en if str(get_locale()) == "en" else self.description_vi


@dataclass(frozen=True)
class NavItem:
    label: Any  # a string or a lazy_gettext string
    endpoint: str
    order: int = 100
    permission: str | None = None
    url_kwargs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Permission:
    name: str
    label: Any
    roles: frozenset[Role]


@dataclass(frozen=True)
class SignInAnswer:
    """An authentication plugin's answer (``intranet_authenticate``): ``user`` signed in, or ``refusal``
    (``WRONG``: shown as the one "wrong username or password" message and counted by the lock-out;
    ``UNREACHABLE``: the plugin's server cannot be reached, not counted; ``REFUSED``: the password was
    right but the plugin will not sign the user in, ``message`` says why, translated)."""

    WRONG = "wrong"
    UNREACHABLE = "unreachable"
    REFUSED = "refused"

    user: Any = None
    refusal: str = ""
    message: str = ""


class PluginError(Exception):
    """A switch that cannot be made; ``str(err)`` is a translated message for the user."""


def public_view(view):
    """Let a plugin view answer without a login (e.g. a calendar feed with a token in the URL).
    The view must then check the object's office with ``manager().is_enabled(office_id, name)``."""
    view._intranet_public = True
    return view


def cross_office_view(office_of: Callable[..., int | None]):
    """Let a signed-in user of another office reach a plugin view (an invited guest). ``office_of`` is
    called with the URL's arguments and returns the office that owns the object they name (None: no
    such object); the gate answers 404 unless the plugin is on for that office. The view still checks
    the user's right to the object. Usage: ``guest_view = cross_office_view(lambda session_id: ...)``,
    then ``@guest_view`` on each such view."""

    def mark(view):
        view._intranet_office_of = office_of
        return view

    return mark


def manager(app: Flask | None = None) -> PluginManager:
    return (app or current_app).extensions["intranet_plugins"]


class OfficeHooks:
    """``manager().for_office(id).intranet_x(...)`` calls only the plugins enabled for that office: the
    one way to call an office hook (a test refuses ``pm.hook.intranet_x`` for them). One instance per
    set of enabled plugins, each subset caller made once and kept, as pytest's ``FSHookProxy`` does
    per folder."""

    def __init__(self, pm: pluggy.PluginManager, disabled: list[object]):
        self._pm, self._disabled = pm, disabled

    def __getattr__(self, name: str):
        if not name.startswith(hookspecs.PROJECT + "_") or name in hookspecs.STARTUP_HOOKS:
            raise AttributeError(f"{name} is not an office hook")
        caller = self._pm.subset_hook_caller(name, self._disabled)
        setattr(self, name, caller)  # found on the instance from now on: __getattr__ is not asked again
        return caller


class PluginManager:
    def __init__(self) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT)
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self.permissions: dict[str, Permission] = {}
        self._blueprint_owner: dict[str, str] = {}
        self._office_hooks: dict[frozenset[str], OfficeHooks] = {}  # by the set of enabled plugins

    # --- discovery --------------------------------------------------------------------------------

    def load_entry_points(self) -> None:
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            if self.pm.has_plugin(ep.name):
                continue
            self.register(ep.load(), ep.name)

    def register(self, plugin: object, name: str) -> None:
        self.pm.register(plugin, name=name)
        self._office_hooks.clear()
        if name == CORE:
            return
        impl = getattr(plugin, "intranet_plugin_info", None)
        if impl is None:
            raise pluggy.PluginValidationError(plugin, f"plugin {name!r} does not implement intranet_plugin_info")
        info = impl()
        if info.name != name:
            raise pluggy.PluginValidationError(plugin, f"entry point {name!r} declares the name {info.name!r}")
        if info.hookspecs is not None:
            self.pm.add_hookspecs(info.hookspecs)
        self.infos[name] = info

    def init_app(self, app: Flask) -> None:
        from .config import with_plugin_defaults

        app.extensions["intranet_plugins"] = self
        for info in self.infos.values():
            with_plugin_defaults(app.config, info.config)
        self.pm.check_pending()  # a misspelt hook name fails here, at start-up
        for name, result in self._per_plugin("intranet_blueprints"):
            for bp in result:
                app.register_blueprint(bp)
                if name != CORE:
                    self._blueprint_owner[bp.name] = name
        for _, result in self._per_plugin("intranet_cli_commands"):
            for command in result:
                app.cli.add_command(command)
        for _, result in self._per_plugin("intranet_permissions"):
            self.permissions.update((p.name, p) for p in result)
        app.before_request(self._gate)
        app.jinja_env.globals["slot"] = self.render_slot
        # A plugin's own catalogue (``translations/`` in its package) is merged under the core's, so its
        # ``_()`` in code and templates needs nothing more; the core's wording wins a clash.
        babel = app.extensions["babel"]
        for name in self.infos:
            package = self.package_dir(name)
            folder = package / "translations" if package else None
            if folder and folder.is_dir() and str(folder) not in babel.translation_directories:
                babel.translation_directories.insert(0, str(folder))

    def package_dir(self, name: str) -> Path | None:
        """The folder of the plugin's package (None for a plugin that is a plain module)."""
        paths = getattr(self.pm.get_plugin(name), "__path__", None)
        return Path(next(iter(paths))).resolve() if paths else None

    def _per_plugin(self, hook: str) -> Iterable[tuple[str, Any]]:
        """Start-up hooks are called per implementation so the core knows which plugin returned what."""
        assert hook in hookspecs.STARTUP_HOOKS, hook
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):  # registration order
            yield impl.plugin_name, impl.function()

    def authenticate(self, username: str, password: str, user) -> SignInAnswer | None:
        """Ask the authentication plugins (``intranet_authenticate``) about a sign-in."""
        return self.pm.hook.intranet_authenticate(username=username, password=password, user=user)

    # --- per-office state -------------------------------------------------------------------------

    def is_enabled(self, office_id: int, name: str) -> bool:
        return name in self.enabled(office_id)

    def enabled(self, office_id: int) -> frozenset[str]:
        """The plugins on in the office, read again only after a switch (intranet.office_state)."""

        def read() -> frozenset[str]:
            rows = db.session.execute(
                select(PluginState.plugin, PluginState.enabled).where(PluginState.office_id == office_id)
            ).all()
            return self._resolve(dict(rows))

        return office_state.kept("plugins", office_id, read)

    def offices_with(self, name: str) -> list[int]:
        """The offices where ``name`` is on: what a command run outside any office (cron) works on."""
        chosen: dict[int, dict[str, bool]] = {office_id: {} for office_id in db.session.scalars(select(Office.id))}
        for office_id, plugin, enabled in db.session.execute(
            select(PluginState.office_id, PluginState.plugin, PluginState.enabled)
        ):
            chosen.setdefault(office_id, {})[plugin] = enabled
        return [office_id for office_id, states in chosen.items() if name in self._resolve(states)]

    def _resolve(self, chosen: dict[str, bool]) -> frozenset[str]:
        wanted = {n for n, info in self.infos.items() if chosen.get(n, info.default_enabled)}
        # A plugin is effectively on only while everything it requires is on (e.g. a newly installed
        # default-on plugin whose requirement this office switched off).
        changed = True
        while changed:
            changed = False
            for name in list(wanted):
                if any(req not in wanted for req in self.infos[name].requires):
                    wanted.discard(name)
                    changed = True
        return frozenset(wanted)

    def for_office(self, office_id: int) -> OfficeHooks:
        on = self.enabled(office_id)
        hooks = self._office_hooks.get(on)
        if hooks is None:
            hooks = OfficeHooks(self.pm, [self.pm.get_plugin(n) for n in self.infos if n not in on])
            self._office_hooks[on] = hooks
        return hooks

    def check_switch(self, office_id: int, name: str, enabled: bool) -> None:
        """Raise PluginError with a translated reason when the switch cannot be made."""
        from flask_babel import gettext as _

        info = self.infos.get(name)
        if info is None:
            raise PluginError(_("Unknown plugin “%(name)s”.", name=name))
        on = self.enabled(office_id)
        if enabled:
            missing = [r for r in info.requires if r not in on]
            if missing:
                raise PluginError(
                    _(
                        "“%(plugin)s” needs %(missing)s. Turn that on first.",
                        plugin=info.title(),
                        missing=", ".join(self._title(m) for m in missing),
                    )
                )
        else:
            dependants = [n for n in on if name in self.infos[n].requires]
            if dependants:
                raise PluginError(
                    _(
                        "“%(plugin)s” is needed by %(dependants)s. Turn those off first.",
                        plugin=info.title(),
                        dependants=", ".join(self._title(d) for d in dependants),
                    )
                )

    def _title(self, name: str) -> str:
        return f"“{self.infos[name].title()}”" if name in self.infos else f"“{name}”"

    def set_enabled(self, office, name: str, enabled: bool, actor=None) -> None:
        """Switch ``name`` on or off for ``office``; never deletes plugin data. Caller commits."""
        from .audit import record

        self.check_switch(office.id, name, enabled)
        state = db.session.get(PluginState, (office.id, name))
        if state is None:
            state = PluginState(office_id=office.id, plugin=name)
            db.session.add(state)
        state.enabled = enabled
        state.updated_by_id = getattr(actor, "id", None)
        office_state.restamp(office.id)
        live.rights_changed(office_id=office.id)
        record("plugin.enable" if enabled else "plugin.disable", "plugin", name, office_id=office.id, actor=actor)
        self.for_office(office.id).intranet_plugin_switched(office=office, plugin=name, enabled=enabled, actor=actor)

    # --- request-time integration -----------------------------------------------------------------

    def _gate(self):
        """Every route of a plugin: 404 while the plugin is off for the office concerned (the user's,
        or for a ``cross_office_view`` the one owning the URL's object), the sign-in page for an
        anonymous visitor. The one answer given before it, the unchanged-poll 304, carries the
        version of SWITCHES in its ETag, so no tag from before a switch is answered 304 after it."""
        owner = self._blueprint_owner.get(request.blueprints[-1]) if request.blueprints else None
        if owner is None:
            return None
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "_intranet_public", False):
            return None
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        office_of = getattr(view, "_intranet_office_of", None)
        office_id = office_of(**(request.view_args or {})) if office_of else current_user.office_id
        if office_id is None or not self.is_enabled(office_id, owner):
            abort(404)
        g.gate_office_id = office_id  # a stream held by Pushpin ends when this office's switches change
        return None

    def render_slot(self, slot: str, **context):
        from markupsafe import Markup, escape

        if not current_user.is_authenticated:
            return Markup("")
        results = self.for_office(current_user.office_id).intranet_template_slot(
            slot=slot, office=current_user.office, user=current_user, context=context
        )
        return Markup("\n").join(escape(r) for r in reversed(results) if r)
