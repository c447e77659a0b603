"""Votes: the cell decides by show of hands or secret ballot, in the hall and online, under the party's
rules (who votes, the threshold of each kind of vote, its form); the final count goes to the minutes
through the scheduling plugin's ``intranet_session_vote_closed``."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from intranet.models import CELL_ROLES, Role
from intranet.plugins import NavItem, Permission, PluginInfo, hookimpl


@hookimpl
def intranet_plugin_info():
    return PluginInfo(
        name="votes",
        title_vi="Biểu quyết",
        title_en="Votes",
        version="0.1.0",
        default_enabled=True,
        requires=("scheduling",),
        description_vi="Biểu quyết giơ tay và bỏ phiếu kín, tại hội trường và trực tuyến, theo Điều lệ Đảng: "
        "chỉ đảng viên chính thức có mặt biểu quyết, tỷ lệ thông qua theo từng loại việc, ban kiểm phiếu.",
        description_en="Show of hands and secret ballot, in the hall and online, under the Party's rules: only "
        "official members present vote, each kind of vote has its threshold, a counting committee.",
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
            "votes.follow",
            _l("Follow the cell's votes (voting itself follows the party's rules)"),
            CELL_ROLES | {Role.GUEST},
        ),
        Permission(
            "votes.conduct",
            _l("Chair the cell's votes: open, close, record hands raised in the hall"),
            frozenset({Role.SECRETARY, Role.DEPUTY}),
        ),
        Permission("votes.rules", _l("Set the cell's voting rules per kind of vote"), frozenset({Role.SECRETARY})),
        Permission("votes.name_chair", _l("Name the member who chairs a meeting's votes"), frozenset({Role.SECRETARY})),
    ]


@hookimpl
def intranet_nav_items(office, user):
    return [NavItem(_l("Decisions by vote"), "votes.index", order=17, permission="votes.follow")]


@hookimpl
def intranet_template_slot(slot, office, user, context):
    """The queue page, the follow-along page, the projector and the meeting page of other plugins: they
    name a slot, never this plugin, and where it is off their slot is simply empty."""
    from . import views

    render = {
        "meeting_queue": views.slot_panel_html,
        "meeting_follow": views.slot_panel_html,
        "meeting_screen": views.slot_screen_html,
        "session_page": views.slot_link_html,
    }.get(slot)
    return None if render is None else Markup(render(context["session"]))


@hookimpl(trylast=True)  # after the scheduling plugin has made the meetings and taken their attendance
def intranet_demo_data(office, people, actor):
    from .demo import seed

    seed(office, people, actor)


@hookimpl
def intranet_session_status_changed(session, previous, actor):
    from intranet_scheduling.models import SessionStatus

    if session.status == SessionStatus.CLOSED:
        from .services import close_open_votes

        close_open_votes(session)
