"""The schema's migration histories: the core's, then one branch per plugin.

The core's revisions (``intranet/migrations/versions``, labelled ``core``) stay one linear history; it
still holds the built-in plugins' tables up to ``0015_anon`` (the shared base every database already
has). A plugin's new tables live on its own Alembic branch, in its package's ``migrations/`` folder
(or the one ``PluginInfo.migrations`` names), labelled with its name and depending on the core revision
it was written against. Every such folder is added to Alembic's ``version_locations``, so ``flask db upgrade``
(whose default here is ``heads``) migrates the core and every installed plugin, and
``flask db new-revision OWNER -m …`` writes a revision into that owner's folder only.
"""

from __future__ import annotations

import argparse
import copy
import os
from pathlib import Path

import click
from alembic import command
from alembic.script import ScriptDirectory
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate.cli import db as flask_migrate_group

from .extensions import db, migrate
from .plugins import CORE, manager

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CORE_VERSIONS = MIGRATIONS / "versions"
OWNER_KEY = "intranet_owner"  # set in the Alembic config's attributes: autogenerate compares only its tables


def plugin_locations() -> dict[str, Path]:
    """Each installed plugin's migrations folder: the one its PluginInfo declares, else ``migrations/``
    inside its package (a plugin that is a plain module has none unless it declares one). The folder
    may not exist until the plugin's first revision."""
    found = {}
    for name, info in manager().infos.items():
        package = manager().package_dir(name)
        if info.migrations:
            found[name] = Path(info.migrations).resolve()
        elif package:
            found[name] = package / "migrations"
    return found


@migrate.configure
def _version_locations(config):
    """Flask-Migrate calls this for every command, inside the app: core first, then each plugin."""
    locations = dict.fromkeys([CORE_VERSIONS, *plugin_locations().values()])  # two plugins may share one
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(str(p) for p in locations).replace("%", "%%"))
    return config


def scripts() -> ScriptDirectory:
    """Every revision the code knows: the core's and each installed plugin's (inside the app)."""
    return ScriptDirectory.from_config(migrate.get_config(str(MIGRATIONS)))


def code_heads() -> list[str]:
    """What ``alembic_version`` holds for a database at the code's schema: each branch's head, except a
    head that another branch depends on (Alembic records only the dependent one)."""
    script = scripts()
    heads = set(script.get_heads())
    below = {r.revision for head in heads for r in script.iterate_revisions(head, "base") if r.revision != head}
    return sorted(heads - below)


def table_owners() -> dict[str, str]:
    """Each model's table and its owner: the plugin whose package defines the model (the longest
    matching module name), else the core. A table of no current model (dropped, or of an uninstalled
    plugin) is absent, so no owner's autogenerate proposes dropping it."""
    prefixes = {manager().pm.get_plugin(name).__name__: name for name in manager().infos}
    owners = {}
    for mapper in db.Model.registry.mappers:
        module = mapper.class_.__module__
        matching = [p for p in prefixes if module == p or module.startswith(p + ".")]
        for table in mapper.tables:
            owners[table.name] = prefixes[max(matching, key=len)] if matching else CORE
    return owners


def include_object_for(owner: str | None):
    """Alembic's ``include_object`` hook: with an owner, autogenerate looks at that owner's tables only."""
    owners = table_owners() if owner else {}

    def include_object(obj, name, type_, reflected, compare_to):
        if owner is None:
            return True
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        return table is None or owners.get(table) == owner

    return include_object


def _has_branch(script: ScriptDirectory, label: str) -> bool:
    return any(label in rev.branch_labels for rev in script.walk_revisions())


def new_revision(owner: str, message: str, autogenerate: bool = True) -> None:
    """Write a revision for ``owner`` (``core`` or a plugin) into its own folder, starting the plugin's
    branch on its first revision (depending on the core's head and on the heads of the plugins it
    requires, whose tables it may reference)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    config.attributes[OWNER_KEY] = owner
    config.cmd_opts = argparse.Namespace(autogenerate=autogenerate)  # env.py skips an empty autogenerate
    script = ScriptDirectory.from_config(config)
    if owner == CORE or _has_branch(script, owner):
        command.revision(config, message, autogenerate=autogenerate, head=f"{owner}@head")
        return
    folder = plugin_locations().get(owner)
    if folder is None:
        raise click.UsageError(f"plugin {owner!r} declares no migrations folder (PluginInfo.migrations)")
    folder.mkdir(parents=True, exist_ok=True)
    requires = [r for r in manager().infos[owner].requires if _has_branch(script, r)]
    depends_on = [script.get_revision(f"{label}@head").revision for label in (CORE, *requires)]
    command.revision(
        config,
        message,
        autogenerate=autogenerate,
        head="base",
        branch_label=owner,
        version_path=str(folder),
        depends_on=depends_on,
    )


@click.command("new-revision")
@click.argument("owner")
@click.option("-m", "--message", required=True, help="What the revision changes.")
@click.option("--empty", is_flag=True, help="An empty revision to fill by hand (no autogenerate).")
@with_appcontext
def new_revision_command(owner: str, message: str, empty: bool) -> None:
    """Write a migration for OWNER (core or a plugin's name) into its own folder."""
    if owner != CORE and owner not in manager().infos:
        raise click.UsageError(f"unknown owner {owner!r} (core or one of: {', '.join(sorted(manager().infos))})")
    new_revision(owner, message, autogenerate=not empty)


def db_group() -> click.Group:
    """Flask-Migrate's ``db`` commands, with ``upgrade`` going to every branch's head by default (with
    several branches Alembic's ``head`` is ambiguous) and ``new-revision`` added."""
    upgrade = copy.deepcopy(flask_migrate_group.commands["upgrade"])
    for param in upgrade.params:
        if param.name == "revision":
            param.default = "heads"
    group = copy.copy(flask_migrate_group)  # keeps its -d/-x options and their callback
    group.commands = {**flask_migrate_group.commands, "upgrade": upgrade, "new-revision": new_revision_command}
    return group
