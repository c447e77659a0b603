"""Scheduling: the yearly programme, meetings, presenting groups, discussion questions, attendance."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from intranet.models import Role
from intranet.plugins import NavItem, Permission, PluginInfo, hookimpl

from . import hookspecs


@hookimpl
def intranet_plugin_info():
    return PluginInfo(
        name="scheduling",
        title_vi="Lịch sinh hoạt",
        title_en="Scheduling",
        version="0.1.0",
        default_enabled=True,
        description_vi="Chương trình năm, buổi sinh hoạt, nhóm chuẩn bị chuyên đề, câu hỏi thảo luận, điểm danh.",
        description_en="Yearly programme, meetings, presenting groups, discussion questions, attendance.",
        hookspecs=hookspecs,
        config={
            "SCHEDULING_MAX_UPLOAD": 50 * 1024 * 1024,  # one meeting document
            "SCHEDULING_UPLOAD_DIR": "",
        },  # empty: instance/uploads
    )


@hookimpl
def intranet_blueprints():
    from . import models  # noqa: F401  (tables known to the migrations)
    from .views import bp

    return [bp]


@hookimpl
def intranet_cli_commands():
    from .reminders import cli

    return [cli]


@hookimpl
def intranet_permissions():
    return [
        Permission(
            "scheduling.plan",
            _l("Plan meetings, groups, questions; take attendance"),
            frozenset({Role.SECRETARY, Role.DEPUTY, Role.COMMITTEE}),
        ),
        Permission(
            "scheduling.approve", _l("Approve the programme; correct a closed meeting"), frozenset({Role.SECRETARY})
        ),
        Permission(
            "scheduling.attend",
            _l("Attend the cell's meetings: roll call, assignments, reminders"),
            frozenset({Role.MEMBER}),
        ),
    ]


@hookimpl
def intranet_nav_items(office, user):
    return [
        NavItem(_l("Meetings"), "scheduling.index", order=10),
        NavItem(_l("Programme"), "scheduling.programme", order=20),
        NavItem(_l("My assignments"), "scheduling.mine", order=30),
    ]


@hookimpl
def intranet_template_slot(slot, office, user, context):
    from flask import render_template

    if slot == "home":
        from .views import home_panel_context

        return Markup(render_template("scheduling/_home.html", **home_panel_context(user)))
    if slot == "account":
        from intranet.admin.forms import ActionForm

        from .calendar import has_token

        return Markup(render_template("scheduling/_account.html", has_token=has_token(user), action=ActionForm()))
    return None


@hookimpl
def intranet_office_created(office, actor):
    from .services import ensure_catalogue

    ensure_catalogue(office.id)


@hookimpl
def intranet_plugin_switched(office, plugin, enabled, actor):
    if plugin == "scheduling" and enabled:
        from .services import ensure_catalogue

        ensure_catalogue(office.id)


@hookimpl
def intranet_demo_data(office, people, actor):
    from .demo import seed

    seed(office, people, actor)


@hookimpl
def intranet_session_member_joined(session, user, source):
    from .services import mark_present

    mark_present(session, user, source)
