"""Administration: offices, users, roles, plugin switches and the audit log, each limited to the
offices the signed-in admin manages (their own and those below it)."""
from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from . import offices, roles, switches, users  # noqa: E402,F401  (routes register on bp)
