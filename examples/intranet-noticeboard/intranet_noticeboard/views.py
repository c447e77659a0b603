"""The board's page. The core's gate answers 404 before these run while the plugin is off for the
user's office; the views then check the right to post and read only the user's own office."""
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from intranet.access import can
from intranet.extensions import db

from . import models

bp = Blueprint("noticeboard", __name__, url_prefix="/noticeboard", template_folder="templates")


@bp.get("/")
def index():
    office_id = current_user.office_id
    return render_template("noticeboard/index.html", notices=models.notices(office_id),
                           may_post=can(current_user, "noticeboard.post", office_id), max_length=models.MAX_LENGTH)


@bp.post("/")
def post():
    office_id = current_user.office_id
    if not can(current_user, "noticeboard.post", office_id):
        abort(403)
    if models.post(office_id, request.form.get("text", ""), current_user) is None:
        flash(_("Write a notice of at most %(count)d characters.", count=models.MAX_LENGTH), "error")
    else:
        db.session.commit()
        flash(_("Notice posted."), "success")
    return redirect(url_for("noticeboard.index"))
