"""The board's page and its live region. The core's gate answers 404 before these run while the plugin
is off for the user's office; the views then check the right to post and read only the user's own office."""

from flask import Blueprint, abort, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intranet.access import can
from intranet.live_regions import LiveRegions
from intranet.refusals import respond

from . import models

bp = Blueprint("noticeboard", __name__, url_prefix="/noticeboard", template_folder="templates")


def _own_office(office_id: int) -> int:
    """Another office's board is answered as if it did not exist."""
    if office_id != current_user.office_id:
        abort(404)
    return office_id


def _notices_html(office_id: int) -> str:
    return render_template("noticeboard/_notices.html", notices=models.notices(office_id))


# The notices, live: /noticeboard/<office_id>/stream and /noticeboard/<office_id>/poll/notices, made
# from this declaration; a new notice reaches every open board at once.
live_regions = LiveRegions(bp, "/<int:office_id>", load=_own_office)
live_regions.region("notices", models.channel, _notices_html)
live_regions.page("board", "notices")


@bp.get("/")
def index():
    office_id = current_user.office_id
    return render_template(
        "noticeboard/index.html",
        may_post=can(current_user, "noticeboard.post", office_id),
        max_length=models.MAX_LENGTH,
        **live_regions.page_context("board", {"office_id": office_id}, {}),
    )


@bp.post("/")
def post():
    office_id = current_user.office_id
    if not can(current_user, "noticeboard.post", office_id):
        abort(403)
    # commits, or rolls back and says why; answers with a flash and a redirect (htmx: 204 or 422)
    return respond(
        lambda: models.post(office_id, request.form.get("text", ""), current_user),
        url_for("noticeboard.index"),
        _("Notice posted."),
    )
