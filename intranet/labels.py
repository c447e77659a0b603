"""Translated names of the core's enums, for forms and templates."""

from flask_babel import lazy_gettext as _l

from .models import PartyStatus, Role

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.SECRETARY: _l("Secretary"),
    Role.DEPUTY: _l("Deputy secretary"),
    Role.COMMITTEE: _l("Committee member"),
    Role.MEMBER: _l("Party member"),
    Role.GUEST: _l("Guest"),
}
STATUS_LABELS = {PartyStatus.OFFICIAL: _l("Official member"), PartyStatus.PROBATIONARY: _l("Probationary member")}
