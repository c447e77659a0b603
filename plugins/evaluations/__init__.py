"""Evaluations: a meeting's conclusion, resolution and minutes as signed documents, the secretary's
evaluation of the presenting group, members' anonymous ratings, participation, the periodic review."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from intranet.models import Role
from intranet.plugins import NavItem, Permission, PluginInfo, hookimpl


@hookimpl
def intranet_plugin_info():
    return PluginInfo(
        name="evaluations",
        title_vi="Đánh giá",
        title_en="Evaluations",
        version="0.1.0",
        default_enabled=True,
        requires=("scheduling",),
        description_vi="Kết luận, nghị quyết và biên bản (.docx), đánh giá nhóm chuẩn bị, đảng viên chấm điểm "
        "buổi sinh hoạt, mức độ tham gia, biểu dương và nhắc nhở, báo cáo định kỳ.",
        description_en="Conclusion, resolution and minutes (.docx), the group's evaluation, members' ratings, "
        "participation, commendations and reminders, the periodic review.",
    )


@hookimpl
def intranet_blueprints():
    from . import models  # noqa: F401  (tables known to the migrations)
    from .views import bp

    return [bp]


@hookimpl
def intranet_permissions():
    return [
        Permission(
            "evaluations.sign",
            _l("Record conclusions, sign minutes and resolutions, evaluate, commend"),
            frozenset({Role.SECRETARY}),
        ),
        Permission(
            "evaluations.draft",
            _l("Draft conclusions, minutes, resolutions and evaluations"),
            frozenset({Role.SECRETARY, Role.DEPUTY}),
        ),
    ]


@hookimpl
def intranet_nav_items(office, user):
    return [
        NavItem(_l("Evaluations"), "evaluations.index", order=40),
        NavItem(_l("Review"), "evaluations.review", order=45),
    ]


@hookimpl
def intranet_template_slot(slot, office, user, context):
    from .views import home_panel, session_panel

    if slot == "home":
        return Markup(home_panel(user))
    if slot == "session_page":
        return Markup(session_panel(context["session"]))
    return None


@hookimpl(trylast=True)  # after the meetings and their questions exist
def intranet_demo_data(office, people, actor):
    from .demo import seed

    seed(office, people, actor)


@hookimpl
def intranet_session_vote_closed(session, result):
    from intranet.plugins import manager

    from .documents import carry_vote
    from .vote_results import record

    # The office-scoped manager already leaves this plugin out where it is off; a caller that used
    # another office's manager by mistake must not write into the meeting's office either.
    if manager().is_enabled(session.office_id, "evaluations"):
        carry_vote(session, record(session, result))
