"""A third-party plugin as an outside author would write it: it imports only the public contract."""

from flask import Blueprint, abort, render_template
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import String, insert, select
from sqlalchemy.orm import Mapped, mapped_column

from intranet import live
from intranet.access import can
from intranet.audit import record
from intranet.extensions import db
from intranet.live_regions import LiveRegions
from intranet.models import Role
from intranet.plugins import NavItem, Permission, PluginInfo, hookimpl


class HelloNote(db.Model):
    """Created by its own migration branch (``migrations/``), not by the core's."""

    __tablename__ = "hello_note"
    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(String(200))


hello_note = HelloNote.__table__

# What the office hooks delivered, for the tests to read.
heard: list[tuple] = []

bp = Blueprint("hello", __name__, url_prefix="/hello", template_folder="templates")


@bp.get("/")
def index():
    notes = db.session.scalars(select(hello_note.c.text).where(hello_note.c.office_id == current_user.office_id)).all()
    return render_template("hello/index.html", notes=notes)


@bp.post("/")
def add():
    db.session.execute(insert(hello_note).values(office_id=current_user.office_id, text="hi"))
    record("hello.note", "hello_note", 0, office_id=current_user.office_id)
    db.session.commit()
    live.publish(channel(current_user.office_id), {"added": "hi"})
    return "ok"


def channel(office_id: int) -> str:
    return f"hello:{office_id}"


def _notes_fragment(office_id: int) -> str:
    notes = db.session.scalars(select(hello_note.c.text).where(hello_note.c.office_id == office_id)).all()
    return f'<ul id="notes">{"".join(f"<li>{n}</li>" for n in notes)}</ul>'


def _count_fragment(office_id: int) -> str:
    notes = db.session.scalars(select(hello_note.c.id).where(hello_note.c.office_id == office_id)).all()
    return f'<p id="count">{len(notes)}</p>'


def _own_office(office_id: int) -> int:
    if office_id != current_user.office_id:
        abort(404)
    return office_id


# Routes /hello/<office_id>/stream?page=… and /hello/<office_id>/poll/<regions>, made from the declarations.
live_regions = LiveRegions(bp, "/<int:office_id>", load=_own_office, min_interval=0.2)
live_regions.region("notes", channel, _notes_fragment)
live_regions.region(
    "count", channel, _count_fragment, allowed=lambda office_id: can(current_user, "hello.greet", office_id)
)
live_regions.page("notes", "notes")
live_regions.page("all", "notes", "count")


@hookimpl
def intranet_plugin_info():
    return PluginInfo(
        name="hello",
        title_vi="Xin chào",
        title_en="Hello",
        version="0.1",
        description_vi="Plugin thử nghiệm.",
        description_en="A test plugin.",
    )


@hookimpl
def intranet_blueprints():
    return [bp]


@hookimpl
def intranet_permissions():
    return [Permission("hello.greet", "Greet", frozenset({Role.MEMBER}))]


@hookimpl
def intranet_nav_items(office, user):
    return [NavItem("Hello-nav", "hello.index", order=50)]


@hookimpl
def intranet_template_slot(slot, office, user, context):
    if slot == "home":
        return Markup('<p id="hello-slot">Hello from the plugin</p>')
    return None


@hookimpl
def intranet_office_created(office, actor):
    heard.append(("office_created", office.code))


@hookimpl
def intranet_user_added(user, office, actor):
    heard.append(("user_added", user.username, office.code))


@hookimpl
def intranet_plugin_switched(office, plugin, enabled, actor):
    heard.append(("switched", office.code, plugin, enabled))
