"""The notice board: one list of short notices per office, posted by those holding its permission.

Everything here is the public plugin contract (``intranet.plugins``, ``intranet.access``, the core's
models and services): nothing of the intranet's internals."""

from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from intranet.models import Role
from intranet.plugins import NavItem, Permission, PluginInfo, hookimpl

from . import models, views

POST = "noticeboard.post"


@hookimpl
def intranet_plugin_info():
    # No ``migrations=``: the branch lives in this package's migrations/ folder by default.
    return PluginInfo(
        name="noticeboard",
        title_vi="Bảng tin",
        title_en="Notice board",
        version="0.1.0",
        description_vi="Thông báo ngắn của chi bộ.",
        description_en="Short notices of the cell.",
    )


@hookimpl
def intranet_blueprints():
    return [views.bp]


@hookimpl
def intranet_permissions():
    return [Permission(POST, _l("Post notices"), frozenset({Role.SECRETARY, Role.DEPUTY}))]


@hookimpl
def intranet_nav_items(office, user):
    return [NavItem(_l("Notice board"), "noticeboard.index", order=80)]


@hookimpl
def intranet_template_slot(slot, office, user, context):
    """The start page shows the office's latest notice."""
    if slot != "home":
        return None
    latest = models.latest(office.id)
    if latest is None:
        return None
    return Markup('<article id="noticeboard-latest"><h3>{}</h3><p>{}</p></article>').format(
        _l("Latest notice"), escape(latest.text)
    )


@hookimpl
def intranet_plugin_switched(office, plugin, enabled, actor):
    """Switched on for the first time in an office: start its board with a first notice."""
    if plugin == "noticeboard" and enabled and models.latest(office.id) is None:
        models.post(office.id, str(_l("The notice board is open.")), actor)
