"""The plugin contract: discovery by entry point, per-office switches, gating, hooks, requirements."""

import ast
import inspect
import re
from pathlib import Path

import hello_plugin
import pluggy
import pytest
from sqlalchemy import func, select, text
from support import sql_statements

from intranet import hookspecs
from intranet.extensions import db
from intranet.models import AuditEvent, PluginState
from intranet.plugins import CORE, PluginError, PluginManager, hookimpl, manager

ROOT = Path(__file__).resolve().parent.parent


def test_outside_plugin_is_discovered_through_its_entry_point(app):
    pm = manager(app)
    assert pm.pm.get_plugin("hello") is hello_plugin
    assert pm.infos["hello"].title_en == "Hello"
    assert pm.infos["hello_extra"].requires == ("hello",)
    assert "hello.greet" in pm.permissions
    app.extensions["intranet_plugins"].pm.check_pending()


def test_outside_plugin_serves_its_page_only_where_enabled(client, data, cell, login):
    data.enable("hello", "DIST")
    login("member1")
    page = client.get("/hello/")
    assert page.status_code == 200 and "Hello DIST" in page.text
    home = client.get("/")
    assert "Hello-nav" in home.text and 'id="hello-slot"' in home.text

    other = client.application.test_client()
    login("othermember", c=other)
    assert other.get("/hello/").status_code == 404
    assert other.post("/hello/").status_code == 404
    home = other.get("/")
    assert "Hello-nav" not in home.text and "hello-slot" not in home.text


def test_plugin_pages_need_a_login(client, data, cell):
    data.enable("hello", "DIST")
    response = client.get("/hello/")
    assert response.status_code == 302 and "/login" in response.location


def test_turning_off_hides_but_keeps_data(app, client, data, cell, login):
    data.enable("hello", "DIST")
    login("member1")
    assert client.post("/hello/").status_code == 200
    data.enable("hello", "DIST", False)
    assert client.get("/hello/").status_code == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(hello_plugin.hello_note)) == 1
    data.enable("hello", "DIST")
    assert "<li>hi</li>" in client.get("/hello/").text


def test_a_switch_made_by_another_process_is_seen_at_the_next_request(app, client, data, cell, login):
    """Each process keeps the office's switches and grants while its stamp is unchanged: a page then
    reads neither; a switch written by another process (here its SQL, on a connection of its own)
    changes the stamp, and this process reads them again at the next request."""
    data.enable("hello", "DIST")
    login("member1")
    assert client.get("/hello/").status_code == 200
    with sql_statements(app) as statements:
        assert client.get("/hello/").status_code == 200
    assert not [s for s in statements if "plugin_state" in s or "permission_grant" in s], statements
    with app.app_context(), db.engine.begin() as elsewhere:
        office_id = elsewhere.scalar(text("SELECT id FROM office WHERE code = 'DIST'"))
        elsewhere.execute(
            text("UPDATE plugin_state SET enabled = :off WHERE office_id = :o AND plugin = 'hello'"),
            {"off": False, "o": office_id},
        )
        elsewhere.execute(text("UPDATE office SET state_stamp = 'elsewhere' WHERE id = :o"), {"o": office_id})
    assert client.get("/hello/").status_code == 404


def test_office_hooks_skip_disabled_plugins(data, cell):
    hello_plugin.heard.clear()
    data.user("quiet", "DIST")
    assert not [h for h in hello_plugin.heard if h[0] == "user_added"]
    data.enable("hello", "DIST")
    assert ("switched", "DIST", "hello", True) in hello_plugin.heard  # a plugin hears its own switching on
    data.user("heard", "DIST")
    data.user("unheard", "OTHER")
    added = [h for h in hello_plugin.heard if h[0] == "user_added"]
    assert added == [("user_added", "heard", "DIST")]


def test_requirements_are_enforced_both_ways(app, data, cell):
    with app.test_request_context():
        from intranet.models import Office

        pm = manager(app)
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        with pytest.raises(PluginError, match="“Xin chào thêm” cần “Xin chào”. Hãy bật"):
            pm.set_enabled(dist, "hello_extra", True)
        db.session.rollback()
        pm.set_enabled(dist, "hello", True)
        pm.set_enabled(dist, "hello_extra", True)
        db.session.commit()
        with pytest.raises(PluginError, match="“Xin chào thêm” cần “Xin chào”. Hãy tắt"):
            pm.set_enabled(dist, "hello", False)
        db.session.rollback()
        assert {"hello", "hello_extra"} <= pm.enabled(dist.id)


def test_a_plugin_whose_requirement_is_off_counts_as_off(app, data, cell):
    """Defensive: rows written behind the manager's back (or a requirement uninstalled) never leave a
    dependant running without what it needs."""
    data.office("RAW")
    with app.test_request_context():
        from intranet.models import Office

        raw = db.session.scalar(select(Office).where(Office.code == "RAW"))
        db.session.add(PluginState(office_id=raw.id, plugin="hello_extra", enabled=True))
        db.session.commit()
        assert "hello_extra" not in manager(app).enabled(raw.id)


def test_switches_are_audited(app, data, cell):
    data.enable("hello", "DIST")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "plugin.enable"))
        assert event.object_id == "hello" and event.office.code == "DIST"


def test_misspelt_hook_fails_at_startup():
    class Sloppy:
        @hookimpl
        def intranet_nav_item(self, office, user):  # missing "s"
            return []

    pm = PluginManager()
    pm.pm.register(Sloppy(), name="sloppy")
    with pytest.raises(pluggy.PluginValidationError):
        pm.pm.check_pending()


def test_plugin_without_metadata_is_refused():
    class Anonymous:
        @hookimpl
        def intranet_blueprints(self):
            return []

    with pytest.raises(pluggy.PluginValidationError, match="intranet_plugin_info"):
        PluginManager().register(Anonymous(), "anonymous")


def test_entry_point_name_must_match_declared_name():
    class Liar:
        @hookimpl
        def intranet_plugin_info(self):
            from intranet.plugins import PluginInfo

            return PluginInfo(name="other", title_vi="x", title_en="x", version="1")

    with pytest.raises(pluggy.PluginValidationError, match="declares the name"):
        PluginManager().register(Liar(), "liar")


def _hook_names():
    return sorted(n for n in dir(hookspecs) if n.startswith("intranet_"))


def _all_specs(app):
    """The core's hooks and those the built-in plugins define for others."""
    modules = [hookspecs] + [i.hookspecs for i in manager(app).infos.values() if i.hookspecs]
    return {n: getattr(m, n) for m in modules for n in dir(m) if n.startswith("intranet_")}


def _heading(name: str, spec) -> str:
    """The README's heading for a hook: its typed signature (annotations are strings: ``__future__``),
    and whether the first answer ends the call."""
    signature = inspect.signature(spec)
    arguments = ", ".join(f"{n}: {p.annotation}" for n, p in signature.parameters.items())
    first = " (firstresult)" if spec.intranet_spec.get("firstresult") else ""
    return f"#### `{name}({arguments}) -> {signature.return_annotation}`{first}"


def test_every_hookspec_is_typed(app):
    for name, spec in _all_specs(app).items():
        signature = inspect.signature(spec)
        assert signature.return_annotation is not inspect.Signature.empty, f"{name} does not say what it returns"
        untyped = [n for n, p in signature.parameters.items() if p.annotation is inspect.Parameter.empty]
        assert not untyped, f"{name} leaves {untyped} untyped"


def test_every_hook_is_documented_in_the_readme(app):
    readme = (ROOT / "README.md").read_text()
    flat = " ".join(readme.split())
    specs = _all_specs(app)
    for name, spec in specs.items():
        assert spec.__doc__ and len(spec.__doc__) > 40, f"{name} has no docstring"
        assert re.search(rf"^#### `{name}\(", readme, re.M), f"{name} is not documented in README.md"
        # each argument, in order (as Datasette checks), with its type and what the hook returns
        assert _heading(name, spec) in readme, f"README's heading for {name} should read: {_heading(name, spec)}"
        assert " ".join(spec.__doc__.split()) in flat, f"README's text for {name} differs from its docstring"
    documented = set(re.findall(r"^#### `(intranet_\w+)\(", readme, re.M))
    assert documented == set(specs), "README documents hooks that do not exist"


def test_office_hooks_are_called_only_through_the_office_scoped_caller():
    """``pm.hook.intranet_x`` would reach plugins switched off for the office: only start-up hooks may
    be called that way (and only the manager fetches one by name)."""
    offenders = []
    files = [*(ROOT / "intranet").rglob("*.py"), *(ROOT / "plugins").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            through_pm = (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "hook"
                and node.attr not in hookspecs.STARTUP_HOOKS
            )
            by_name = (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", None) == "getattr"
                and node.args
                and isinstance(node.args[0], ast.Attribute)
                and node.args[0].attr == "hook"
                and path != ROOT / "intranet" / "plugins.py"
            )
            if through_pm or by_name:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, "office hooks called unscoped: " + ", ".join(offenders)


def test_the_office_scoped_caller_is_made_once_per_office_state(app, data, cell):
    with app.test_request_context():
        from intranet.models import Office

        pm = manager(app)
        dist, other = (db.session.scalar(select(Office).where(Office.code == code)) for code in ("DIST", "OTHER"))
        hooks = pm.for_office(dist.id)
        assert hooks is pm.for_office(other.id)  # the same plugins on: the same callers
        assert hooks.intranet_user_added is hooks.intranet_user_added
        with pytest.raises(AttributeError, match="not an office hook"):
            hooks.intranet_blueprints  # noqa: B018  (a start-up hook has no office scope)
        pm.set_enabled(dist, "hello", True)
        db.session.commit()
        assert pm.for_office(dist.id) is not hooks and pm.for_office(other.id) is hooks


def test_builtin_plugins_implement_only_known_hooks(app):
    pm = manager(app).pm
    known = set(_hook_names()) | {
        name
        for info in manager(app).infos.values()
        if info.hookspecs
        for name in dir(info.hookspecs)
        if name.startswith("intranet_")
    }
    for name, plugin in pm.list_name_plugin():
        for attr in dir(plugin):
            if attr.startswith("intranet_") and callable(getattr(plugin, attr)):
                assert attr in known, f"{name} implements unknown hook {attr}"
    assert pm.get_plugin(CORE) is not None


def test_plugin_tables_are_prefixed_and_carry_office_id(app):
    core = {
        "office",
        "user_account",
        "role_assignment",
        "plugin_state",
        "audit_event",
        "notification",
        "idempotency_key",
        "user_session",
        "login_throttle",
        "permission_grant",
    }
    plugins = set(manager(app).infos)
    for table in db.metadata.sorted_tables:
        if table.name in core:
            continue
        assert table.name.split("_")[0] in plugins, f"{table.name} is not prefixed with its plugin's name"
        assert "office_id" in table.c, f"{table.name} has no office_id"


def test_builtins_register_through_the_same_entry_point_group():
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '[project.entry-points."intranet.plugins"]' in pyproject


def test_offices_with_a_plugin_follow_switches_defaults_and_requirements(app, data, cell):
    """What a command run outside any office (cron) works on: the same answer ``enabled`` gives."""
    from intranet.models import Office

    data.enable("hello", "DIST")
    with app.app_context():
        ids = {o.code: o.id for o in db.session.scalars(select(Office))}
        pm = manager(app)
        assert pm.offices_with("hello") == [ids["DIST"]]
        assert set(pm.offices_with("scheduling")) == set(ids.values())  # on by default
        db.session.add(PluginState(office_id=ids["OTHER"], plugin="hello_extra", enabled=True))  # lacks "hello"
        db.session.commit()
        assert ids["OTHER"] not in pm.offices_with("hello_extra")
        for name in pm.infos:
            assert set(pm.offices_with(name)) == {i for i in ids.values() if name in pm.enabled(i)}, name
