"""Administration: offices, users, roles, plugin switches and the audit log, each limited to the
offices the signed-in admin manages (their own and those below it)."""

from . import offices, roles, switches, users  # noqa: F401  (their routes register on bp)
from .blueprint import bp  # noqa: F401  (the core registers it: ``from intranet.admin import bp``)
