"""Meetings: online rooms on Jitsi (token auth, connection-quality log, fallback ladder), an external
link with check-in, or the hall; the chair's live connection board; attendance from the room."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from intranet.models import CELL_ROLES, Role
from intranet.plugins import NavItem, Permission, PluginInfo, hookimpl

from . import hookspecs


@hookimpl
def intranet_plugin_info():
    return PluginInfo(
        name="meetings",
        title_vi="Phòng họp trực tuyến",
        title_en="Meeting rooms",
        version="0.1.0",
        default_enabled=True,
        requires=("scheduling",),
        description_vi="Phòng họp Jitsi có ghi nhận chất lượng kết nối và tự hạ cấp khi mạng yếu; đường dẫn "
        "họp ngoài (Zoom, Teams) có điểm danh; họp trực tiếp; bảng theo dõi kết nối của chủ trì.",
        description_en="Jitsi rooms that log connection quality and step down on a weak link; an external "
        "link with check-in; in person; the chair's connection board.",
        hookspecs=hookspecs,
        # Samples older than MEETINGS_SAMPLE_KEEP_HOURS are rolled up (meetings roll-up); each participant's
        # ingest takes MEETINGS_INGEST_BURST items at once, refilled at MEETINGS_INGEST_PER_MINUTE; a call
        # not joined within MEETINGS_JOIN_SECONDS counts as a failed attempt (a server gone silent).
        config={
            "MEETINGS_SAMPLE_KEEP_HOURS": 24,
            "MEETINGS_INGEST_BURST": 240,
            "MEETINGS_INGEST_PER_MINUTE": 60,
            "MEETINGS_JOIN_SECONDS": 30,
        },
    )


@hookimpl
def intranet_blueprints():
    from . import models  # noqa: F401  (tables known to the migrations)
    from .views import bp

    return [bp]


@hookimpl
def intranet_cli_commands():
    from .views import cli

    return [cli]


@hookimpl
def intranet_doctor_checks():
    from .checks import findings

    return findings()


@hookimpl
def intranet_room_providers():
    from .providers import BUILT_IN

    return BUILT_IN


@hookimpl
def intranet_permissions():
    return [
        Permission("meetings.join", _l("Join the cell's meeting rooms"), CELL_ROLES),
        Permission(
            "meetings.moderate",
            _l("Moderate a meeting's room and read its connection board"),
            frozenset({Role.SECRETARY, Role.DEPUTY}),
        ),
        Permission("meetings.invite", _l("Invite guests from other offices to a meeting"), frozenset({Role.SECRETARY})),
    ]


@hookimpl
def intranet_nav_items(office, user):
    if user.is_authenticated and office is not None:
        from intranet.access import can

        if can(user, "core.admin", office.id):
            return [NavItem(_l("Meeting rooms"), "meetings.config", order=90)]
    return []


@hookimpl
def intranet_template_slot(slot, office, user, context):
    if slot == "session_page":
        from .views import session_panel

        return Markup(session_panel(context["session"]))
    return None


@hookimpl
def intranet_session_participation(sessions):
    from .services import participation

    return participation(sessions)


@hookimpl
def intranet_session_guests(session):
    from .services import guests

    return [{"name": g.user.full_name, "office": g.user.office.name} for g in guests(session)]


@hookimpl
def intranet_session_status_changed(session, previous, actor):
    from intranet_scheduling.models import SessionStatus

    if session.status == SessionStatus.CLOSED:
        from .services import close_room

        close_room(session)
