"""Evaluation forms; the services check the rules, the forms only read and type the fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from intranet.forms import Form

from .models import GroupRating, TaskStatus

BAD_DATE = _l("Enter a date as dd/mm/yyyy.")
NUMBER = _l("Enter a number.")
RATING_LABELS = {
    GroupRating.EXCELLENT: _l("Excellent"),
    GroupRating.GOOD: _l("Good"),
    GroupRating.FAIR: _l("Fair"),
    GroupRating.WEAK: _l("Weak"),
}
STATUS_LABELS = {
    TaskStatus.OPEN: _l("Not started"),
    TaskStatus.IN_PROGRESS: _l("In progress"),
    TaskStatus.DONE: _l("Done"),
}
SCORES = [(str(n), str(n)) for n in range(1, 6)]


class RecordForm(Form):
    chair_id = SelectField(_l("Chair"), coerce=int)
    taker_id = SelectField(_l("Minutes taken by"), coerce=int)
    conclusion = TextAreaField(_l("Conclusion"))


class TaskForm(Form):
    what = TextAreaField(_l("Task"))
    owner_id = SelectField(_l("Who"), coerce=int)
    due = DateField(_l("By when"), validators=[Optional()], invalid_value_message=BAD_DATE)


class ProgressForm(Form):
    status = SelectField(_l("State"), choices=[(s.value, label) for s, label in STATUS_LABELS.items()])
    progress = TextAreaField(_l("Progress"))


class GroupEvaluationForm(Form):
    strengths = TextAreaField(_l("Strengths"))
    weaknesses = TextAreaField(_l("Weaknesses"))
    rating = SelectField(_l("Rating"), choices=[(r.value, label) for r, label in RATING_LABELS.items()])
    commend = BooleanField(_l("Commend the group"))


class RateForm(Form):
    preparation = RadioField(_l("Preparation"), choices=SCORES)
    content = RadioField(_l("Content"), choices=SCORES)
    discussion = RadioField(_l("Discussion"), choices=SCORES)
    comment = TextAreaField(_l("Comment (anonymous)"))


class NoteForm(Form):
    reason = StringField(_l("Reason"))


class SettingsForm(Form):
    absences_per_quarter = IntegerField(
        _l("Passive: absences without reason in a quarter"),
        validators=[InputRequired(message=NUMBER)],
        invalid_value_message=NUMBER,
    )
    silent_meetings = IntegerField(
        _l("Passive: meetings attended in a row without a question or a word"),
        validators=[InputRequired(message=NUMBER)],
        invalid_value_message=NUMBER,
    )


class CorrectionForm(Form):
    reason = StringField(_l("Reason for the correction"))
