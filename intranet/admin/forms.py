"""Admin forms; every message goes through Flask-Babel."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import EmailField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Email, Optional, Regexp

from ..forms import Form, max_length, required, valid_username
from ..labels import ROLE_LABELS, STATUS_LABELS


def _office_field(label):
    return SelectField(label, coerce=int, validate_choice=True)


class OfficeForm(Form):
    code = StringField(
        _l("Code"),
        validators=[
            required(),
            max_length(32),
            Regexp(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", message=_l("Letters, digits, dash and underscore only.")),
        ],
    )
    name = StringField(_l("Office name"), validators=[required(), max_length(200)])
    party_committee = StringField(_l("Party committee (document header)"), validators=[max_length(200)])
    cell_name = StringField(_l("Party cell (document header)"), validators=[max_length(200)])
    parent_id = _office_field(_l("Parent office"))


class OfficeEditForm(OfficeForm):
    """The office's page also sets the rest of its documents' layout."""

    document_place = StringField(_l("Place on the documents' date line"), validators=[max_length(100)])
    document_number_suffix = StringField(
        _l("Issuer's code after document numbers (Số 05-NQ/…)"),
        validators=[
            required(),
            max_length(20),
            Regexp(r"^[^\s/]+(/[^\s/]+)*$", message=_l("No spaces; parts separated by “/”.")),
        ],
    )
    document_recipients = TextAreaField(_l("Recipients of the documents, one a line"), validators=[max_length(2000)])


class UserForm(Form):
    username = StringField(_l("Username"), validators=[required(), max_length(64), valid_username])
    full_name = StringField(_l("Full name"), validators=[required(), max_length(200)])
    email = EmailField(
        _l("E-mail"), validators=[Optional(), Email(message=_l("Not a valid e-mail address.")), max_length(254)]
    )
    office_id = _office_field(_l("Office"))
    party_status = SelectField(_l("Party membership"), choices=[], validate_choice=True)
    roles = SelectMultipleField(_l("Roles in this office"), choices=[], validate_choice=True)

    def set_choices(self, office_choices):
        self.office_id.choices = office_choices
        self.party_status.choices = [("", _l("Not a party member"))] + [
            (s.value, label) for s, label in STATUS_LABELS.items()
        ]
        if self.roles is not None:
            self.roles.choices = [(r.value, label) for r, label in ROLE_LABELS.items()]


class UserEditForm(UserForm):
    username = None  # usernames do not change: they appear in the audit log
    roles = None


class RoleForm(Form):
    office_id = _office_field(_l("Office"))
    role = SelectField(_l("Role"), choices=[(r.value, label) for r, label in ROLE_LABELS.items()], validate_choice=True)


class ImportForm(Form):
    file = FileField(
        _l("CSV file"),
        validators=[
            FileRequired(message=_l("Choose a file.")),
            FileAllowed(["csv", "txt"], message=_l("Choose a .csv file.")),
        ],
    )


class ActionForm(Form):
    """A button that posts: only the CSRF token."""
