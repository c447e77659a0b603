"""A plugin reaches another only through what it declared: the plugins it ``requires`` (their endpoints,
URLs, modules) and the template slots other plugins fill. Anything else is a dependency nobody sees —
switch the other plugin off, or rename its route or live region, and the page breaks silently."""

import re
from pathlib import Path

from intranet.plugins import manager

SOURCES = ("*.py", "*.html", "*.js")
QUOTED = re.compile(r"""["'`]([^"'`\s]+)["'`]""")
IMPORT = re.compile(r"^\s*(?:from|import)\s+(\w+)", re.M)
REGION = re.compile(r"""data-live-region=["']([^"']+)["']""")


def _plugins(app) -> dict[str, dict]:
    """Per installed plugin: its package folder, top-level module, blueprints and URL prefixes."""
    plugins = {}
    for name in manager(app).infos:
        module = manager(app).pm.get_plugin(name).__name__.split(".")[0]
        blueprints = {bp_name for bp_name, bp in app.blueprints.items() if bp.import_name.split(".")[0] == module}
        plugins[name] = {
            "module": module,
            "folder": manager(app).package_dir(name),
            "blueprints": blueprints,
            "prefixes": {app.blueprints[b].url_prefix for b in blueprints if app.blueprints[b].url_prefix},
        }
    return plugins


def _sources(folder: Path):
    for pattern in SOURCES:
        for path in sorted(folder.rglob(pattern)):
            yield path, path.read_text(encoding="utf-8")


def _reaches(text: str, other: dict, endpoints: set[str]) -> list[str]:
    found = [m for m in IMPORT.findall(text) if m == other["module"]]
    for literal in QUOTED.findall(text):
        if literal in endpoints and literal.split(".")[0] in other["blueprints"]:
            found.append(literal)  # url_for('other.view'), a NavItem's endpoint, …
        elif any(literal.startswith(prefix + "/") for prefix in other["prefixes"]):
            found.append(literal)  # a hard-coded URL of the other plugin
    return found


def test_plugins_reach_other_plugins_only_through_what_they_declare(app):
    plugins = _plugins(app)
    endpoints = set(app.view_functions)
    hidden = []
    for name, plugin in plugins.items():
        if plugin["folder"] is None:
            continue
        allowed = {name, *manager(app).infos[name].requires}
        others = [
            other
            for other_name, other in plugins.items()
            if other_name not in allowed and other["module"] != plugin["module"]
        ]
        for path, text in _sources(plugin["folder"]):
            for other in others:
                hidden += [
                    f"{path.relative_to(plugin['folder'].parent)}: {hit}" for hit in _reaches(text, other, endpoints)
                ]
    assert hidden == [], "reaches a plugin it does not require (use a template slot):\n" + "\n".join(hidden)


def test_templates_show_only_their_own_plugins_declared_live_regions(app):
    """``data-live-region`` names a region the plugin declared itself (intranet/live_regions.py): a
    renamed region fails here, not silently in a browser."""
    declared: dict[str, set[str]] = {}
    for endpoint, view in app.view_functions.items():
        if hasattr(view, "live_regions"):
            declared.setdefault(endpoint.split(".")[0], set()).update(view.live_regions.regions)
    plugins = _plugins(app)
    assert declared.keys() >= {"questions", "meetings", "hello"}
    stray = []
    for plugin in plugins.values():
        own = set().union(*(declared.get(bp, set()) for bp in plugin["blueprints"]))
        for path, text in _sources(plugin["folder"]) if plugin["folder"] else ():
            stray += [f"{path.name}: {region}" for region in REGION.findall(text) if region not in own]
    assert stray == []
