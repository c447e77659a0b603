"""Questions: the live question queue (anonymous if wished, votes, moderation) and the speakers list."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from intranet.models import CELL_ROLES, Role
from intranet.plugins import NavItem, Permission, PluginInfo, hookimpl


@hookimpl
def intranet_plugin_info():
    return PluginInfo(
        name="questions",
        title_vi="Hỏi đáp trực tiếp",
        title_en="Live questions",
        version="0.1.0",
        default_enabled=True,
        requires=("scheduling",),
        description_vi="Hàng đợi câu hỏi trước và trong buổi sinh hoạt (ẩn danh nếu muốn), bình chọn, "
        "điều hành, danh sách phát biểu, màn hình chiếu.",
        description_en="Question queue before and during a meeting (anonymous if wished), votes, moderation, "
        "speakers list, projector view.",
        config={
            "QUESTIONS_MAX_LENGTH": 500,  # characters in one question
            "QUESTIONS_OPEN_LIMIT": 3,
        },  # a member's open questions in a meeting, until the chair changes it
    )


@hookimpl
def intranet_blueprints():
    from . import models  # noqa: F401  (tables known to the migrations)
    from .views import bp

    return [bp]


@hookimpl
def intranet_permissions():
    return [
        Permission("questions.take_part", _l("Ask, vote and ask to speak in the cell's meetings"), CELL_ROLES),
        Permission(
            "questions.moderate",
            _l("Chair the question queue and the speakers list"),
            frozenset({Role.SECRETARY, Role.DEPUTY}),
        ),
        Permission("questions.name_chair", _l("Name the member who chairs a meeting"), frozenset({Role.SECRETARY})),
    ]


@hookimpl
def intranet_nav_items(office, user):
    return [NavItem(_l("Questions"), "questions.index", order=15)]


@hookimpl
def intranet_template_slot(slot, office, user, context):
    """The scheduling plugin's meeting page, the meetings plugin's call and follow-along pages: they never
    name this plugin's routes or regions, and where it is off their slot is simply empty."""
    from . import views

    render = {
        "session_page": views.panel_html,
        "meeting_room": views.room_html,
        "meeting_follow": views.follow_html,
    }.get(slot)
    return None if render is None else Markup(render(context["session"]))


@hookimpl(trylast=True)  # after the scheduling plugin has made the meetings
def intranet_demo_data(office, people, actor):
    from .demo import seed

    seed(office, people, actor)


@hookimpl
def intranet_session_question_asked(session, user, text, asked_at):
    from intranet.refusals import ServiceError

    from .services import ask

    try:
        ask(session, user, text, from_report=True, asked_at=asked_at)
    except ServiceError:  # the scheduling plugin keeps its own copy for the group whatever happens here
        pass


@hookimpl
def intranet_session_anonymity(session):
    from .services import queue_settings

    return queue_settings(session).anonymity.value


@hookimpl
def intranet_session_author_shown(session, viewer, asked):
    from .services import author_shown_in_mode

    return author_shown_in_mode(session, viewer, asked)


@hookimpl
def intranet_session_status_changed(session, previous, actor):
    from intranet_scheduling.models import SessionStatus

    if session.status == SessionStatus.CLOSED:
        from .services import close_queue

        close_queue(session)


@hookimpl
def intranet_session_participation(sessions, viewer):
    from .services import participation

    return participation(sessions, viewer)


@hookimpl
def intranet_session_discussion(session):
    from .services import discussion

    return discussion(session)


@hookimpl
def intranet_session_hand(session, user, raised):
    from .services import hand_from_room

    hand_from_room(session, user, raised)


@hookimpl
def intranet_session_floor(session, user):
    from .services import has_floor

    return has_floor(session, user)
