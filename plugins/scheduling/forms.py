"""Scheduling forms; messages through Flask-Babel."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, NumberRange, Optional

from intranet.forms import Form, max_length, required

from .models import Answer, DocumentKind, SessionKind, SessionMode

KIND_LABELS = {SessionKind.REGULAR: _l("Regular meeting"), SessionKind.THEMATIC: _l("Thematic meeting")}
MODE_LABELS = {
    SessionMode.IN_PERSON: _l("In person"),
    SessionMode.ONLINE: _l("Online"),
    SessionMode.HYBRID: _l("Hybrid"),
}
ANSWER_LABELS = {
    Answer.ATTEND: _l("I will attend"),
    Answer.ONLINE: _l("I will attend online"),
    Answer.EXCUSED: _l("I cannot attend"),
}
BAD_DATE = _l("Enter a date as dd/mm/yyyy.")
BAD_TIME = _l("Enter a time as hh:mm.")
MINUTES = _l("Enter the duration in minutes.")


class SessionForm(Form):
    kind = SelectField(_l("Kind"), choices=[(k.value, label) for k, label in KIND_LABELS.items()])
    title = StringField(_l("Title or topic"), validators=[required(), max_length(300)])
    day = DateField(_l("Date"), validators=[InputRequired(message=BAD_DATE)], invalid_value_message=BAD_DATE)
    time = TimeField(_l("Start time"), validators=[InputRequired(message=BAD_TIME)], invalid_value_message=BAD_TIME)
    duration_minutes = IntegerField(
        _l("Duration (minutes)"),
        default=90,
        invalid_value_message=MINUTES,
        validators=[InputRequired(message=MINUTES), NumberRange(15, 600, message=_l("Between 15 and 600 minutes."))],
    )
    place = StringField(_l("Place"), validators=[max_length(300)])
    mode = SelectField(_l("Mode"), choices=[(m.value, label) for m, label in MODE_LABELS.items()])
    programme_item_id = SelectField(_l("Topic of the programme"), coerce=int, choices=[], validate_choice=True)


class GroupForm(Form):
    members = SelectMultipleField(_l("Members of the group"), coerce=int, choices=[], validate_choice=True)
    lead_id = SelectField(_l("Lead"), coerce=int, choices=[], validate_choice=True)
    report_due = DateField(_l("Report due"), validators=[Optional()], invalid_value_message=BAD_DATE)


class QuestionForm(Form):
    text = TextAreaField(_l("New question to discuss"), validators=[required(), max_length(1000)])


class AskForm(QuestionForm):
    """A member's question to the presenting group, beside the planners' questions on the same page."""

    text = TextAreaField(_l("Your question about the report"), validators=[required(), max_length(1000)])


class AnswerForm(Form):
    answer = SelectField(_l("My answer"), choices=[(a.value, label) for a, label in ANSWER_LABELS.items()])
    reason = StringField(_l("Reason (if you cannot attend)"), validators=[max_length(500)])


class ProgrammeItemForm(Form):
    quarter = SelectField(_l("Quarter"), coerce=int, choices=[(q, f"{q}") for q in (1, 2, 3, 4)])
    topic_group_id = SelectField(_l("Topic group"), coerce=int, choices=[], validate_choice=True)
    title = StringField(_l("Topic"), validators=[required(), max_length(300)])
    lead_id = SelectField(_l("Led by"), coerce=int, choices=[], validate_choice=True)


class TopicGroupForm(Form):
    name = StringField(_l("New topic group"), validators=[required(), max_length(200)])


DOCUMENT_LABELS = {
    DocumentKind.REPORT: _l("Report"),
    DocumentKind.SLIDES: _l("Slides"),
    DocumentKind.VIDEO: _l("Video"),
    DocumentKind.IMAGE: _l("Image"),
}


class DocumentForm(Form):
    kind = SelectField(_l("Document"), choices=[(k.value, label) for k, label in DOCUMENT_LABELS.items()])
    file = FileField(_l("File"), validators=[FileRequired(message=_l("Choose a file."))])


class QuorumForm(Form):
    quorum_percent = IntegerField(
        _l("Quorum: more than this percentage of official members present"),
        validators=[
            InputRequired(message=_l("Enter a whole number.")),
            NumberRange(50, 99, message=_l("Between 50 and 99.")),
        ],
        invalid_value_message=_l("Enter a whole number."),
    )
