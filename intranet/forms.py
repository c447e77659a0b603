"""Shared form pieces: the base form every form derives from, translated validators and the
password rules."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, DateTimeField, IntegerField, PasswordField, StringField, TextAreaField, ValidationError
from wtforms.validators import DataRequired, EqualTo, Length, StopValidation

from .params import DATE_RANGE_MESSAGE, INT_MAX, in_date_range, parse_int
from .text import clean_text, invisible_only

PASSWORD_MIN = 10
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
INVISIBLE_MESSAGE = _l("This text has no visible characters: type it again.")
NUMBER_MESSAGE = _l("Enter a whole number.")


def _visible(form, field) -> None:
    raw = field.raw_data[0] if field.raw_data else None
    if invisible_only(raw, isinstance(field, TextAreaField)):
        raise StopValidation(INVISIBLE_MESSAGE)


class WholeNumberField(IntegerField):
    """``IntegerField`` read by ``params.parse_int``: ASCII digits within an INTEGER column ("²", "٣",
    "1_0" and 20-digit numbers are refused, not coerced or overflowed)."""

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        self.data = parse_int(valuelist[0], -INT_MAX, INT_MAX)
        if self.data is None:
            raise ValueError(self.invalid_value_message or NUMBER_MESSAGE)


def _date_in_range(form, field) -> None:
    if not in_date_range(field.data):
        raise StopValidation(DATE_RANGE_MESSAGE)


def _text_cleaner(multiline: bool):
    return lambda value: clean_text(value, multiline) if isinstance(value, str) else value


# WTForms' own refusals that a user can meet (a forged or stale choice, a date or number it cannot
# read), said in our words and translated through our catalogue; WTForms ships no Vietnamese.
_WTFORMS_MESSAGES = {
    "Not a valid choice.": _l("Choose one of the options offered."),
    "Invalid Choice: could not coerce.": _l("Choose one of the options offered."),
    "Not a valid date value.": _l("Enter a valid date."),
    "Not a valid datetime value.": _l("Enter a valid date."),
    "Not a valid integer value.": _l("Enter a whole number."),
    "Not a valid decimal value.": _l("Enter a number."),
    "Not a valid float value.": _l("Enter a number."),
}


class _Translations:
    def gettext(self, string: str) -> str:
        return str(_WTFORMS_MESSAGES.get(string, string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


class Form(FlaskForm):
    """The base of every form: whatever the form declares, each text field is cleaned by the core
    rule (``intranet.text``) and refused when nothing visible is left, each ``IntegerField`` is read
    as a ``WholeNumberField``, and each date lies in the supported range (``intranet.params``).
    Passwords are left as typed: they are hashed, never shown."""

    class Meta:
        def get_translations(self, form):
            return _Translations()

        def bind_field(self, form, unbound_field, options):
            if unbound_field.field_class is IntegerField:
                unbound_field = WholeNumberField(*unbound_field.args, **unbound_field.kwargs)
            field = super().bind_field(form, unbound_field, options)
            if isinstance(field, StringField) and not isinstance(field, PasswordField):
                field.filters = (*field.filters, _text_cleaner(isinstance(field, TextAreaField)))
                field.validators = [_visible, *field.validators]
            elif isinstance(field, (DateField, DateTimeField)):
                field.validators = [*field.validators, _date_in_range]
            return field


def required():
    return DataRequired(message=_l("This field is required."))


def max_length(n: int):
    return Length(max=n, message=_l("At most %(max)d characters.", max=n))


def strong_password(form, field):
    if len(field.data or "") < PASSWORD_MIN:
        raise ValidationError(_l("Use at least %(n)d characters.", n=PASSWORD_MIN))
    username = (getattr(form, "_username", "") or "").lower()  # set by the view that knows the user
    if username and username in field.data.lower():
        raise ValidationError(_l("The password must not contain the username."))


def valid_username(form, field):
    field.data = (field.data or "").strip().lower()
    if not USERNAME_RE.match(field.data):
        raise ValidationError(_l("3–64 characters: lower-case letters, digits, dot, dash, underscore."))


def new_password_fields():
    """A new password and its confirmation, as two form fields."""
    return (
        PasswordField(_l("New password"), validators=[required(), max_length(256), strong_password]),
        PasswordField(
            _l("Repeat the new password"),
            validators=[required(), EqualTo("new_password", message=_l("The two passwords differ."))],
        ),
    )


def form_errors_text(form) -> str:
    """A form's errors as one message (lazy strings made plain first)."""
    return " ".join(str(e) for errors in form.errors.values() for e in errors)
