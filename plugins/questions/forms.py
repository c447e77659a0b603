"""Question-queue forms; the services check the rules, the forms only read the fields."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from intranet.forms import Form, required

from .models import Anonymity, QuestionStatus, Sort, SpeakerSource, SpeakerState

ANONYMITY_LABELS = {
    Anonymity.NAMED: _l("Names shown to everyone"),
    Anonymity.CHAIR_ONLY: _l("Anonymous to members, known to the chair"),
    Anonymity.ANONYMOUS: _l("Fully anonymous (the chair does not see names either)"),
}
SORT_LABELS = {Sort.VOTES: _l("Most votes first"), Sort.TIME: _l("Oldest first")}
TO_GROUP = 0
STATUS_LABELS = {
    QuestionStatus.PENDING: _l("Waiting for the chair's approval"),
    QuestionStatus.OPEN: _l("In the queue"),
    QuestionStatus.ANSWERED: _l("Answered"),
    QuestionStatus.HIDDEN: _l("Hidden by the chair"),
    QuestionStatus.MERGED: _l("Merged with another question"),
}
SOURCE_LABELS = {
    SpeakerSource.QUEUE: _l("hand raised"),
    SpeakerSource.ROOM: _l("from the online room"),
    SpeakerSource.HALL: _l("in the hall"),
}
SPEAKER_STATE_LABELS = {
    SpeakerState.WAITING: _l("Waiting for the floor"),
    SpeakerState.SPEAKING: _l("Speaking"),
    SpeakerState.DONE: _l("Has spoken"),
    SpeakerState.WITHDRAWN: _l("Hand withdrawn"),
}


class AskForm(Form):
    text = TextAreaField(_l("Your question"))
    target = SelectField(_l("Addressed to"), coerce=int, default=TO_GROUP)
    through_chair = BooleanField(_l("Ask through the chair (the chair reads it out for me)"))


class SettingsForm(Form):
    anonymity = SelectField(
        _l("Authors of questions"), choices=[(a.value, label) for a, label in ANONYMITY_LABELS.items()]
    )
    premoderation = BooleanField(_l("Approve questions before members see them"))
    sort = SelectField(_l("Default order"), choices=[(s.value, label) for s, label in SORT_LABELS.items()])
    quiet_first = BooleanField(_l("Give the floor first to members who have not spoken yet"))
    open_limit = IntegerField(
        _l("Open questions per member"),
        validators=[InputRequired(message=_l("Enter a number."))],
        invalid_value_message=_l("Enter a number."),
    )
    chair_id = SelectField(
        _l("Chair of this meeting besides the secretary and deputies"), coerce=int, validators=[Optional()]
    )


class HideForm(Form):
    reason = StringField(_l("Reason, shown to the author"))


class EditForm(Form):
    text = TextAreaField(_l("Corrected text"))


class MergeForm(Form):
    # No question is chosen until the chair picks one: the first choice is an empty "choose" line.
    into = SelectField(_l("Same question as"), coerce=int, validators=[required()])


class HallSpeakerForm(Form):
    user_id = SelectField(_l("Member speaking in the hall"), coerce=int)


class HandForm(Form):
    question_id = IntegerField(validators=[Optional()])
