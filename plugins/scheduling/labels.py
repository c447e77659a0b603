"""Translated names of the scheduling states."""

from flask_babel import lazy_gettext as _l

from .models import ProgrammeStatus, SessionStatus

STATUS_LABELS = {
    SessionStatus.PLANNED: _l("Planned"),
    SessionStatus.DOCUMENTS_SENT: _l("Documents sent"),
    SessionStatus.IN_PROGRESS: _l("In progress"),
    SessionStatus.CLOSED: _l("Closed"),
}
PROGRAMME_LABELS = {ProgrammeStatus.DRAFT: _l("Draft"), ProgrammeStatus.APPROVED: _l("Approved")}
