"""The administration blueprint, in a module of its own so the route modules that register on it and
the package that loads them do not import each other."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")
