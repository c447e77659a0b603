"""The office's directory settings form and the test form; the settings module checks the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, PasswordField, StringField, TextAreaField

from intranet.forms import Form, max_length


class ConfigForm(Form):
    urls = TextAreaField(
        _l("Server URLs (one per line, tried in order: ldaps://… or ldap://… with StartTLS)"),
        validators=[max_length(2000)],
    )
    ca_pem = TextAreaField(
        _l("CA certificate (PEM) the server's certificate must chain to; empty: the system's CAs"),
        validators=[max_length(20000)],
    )
    bind_dn = StringField(_l("Search account DN (empty: anonymous search)"), validators=[max_length(500)])
    bind_secret = PasswordField(_l("Search account password"), validators=[max_length(500)])
    search_base = StringField(_l("User search base"), validators=[max_length(500)])
    user_filter = StringField(_l("User filter, with {username} where the username goes"), validators=[max_length(1000)])
    name_attribute = StringField(_l("Attribute of the full name"), validators=[max_length(100)])
    email_attribute = StringField(_l("Attribute of the e-mail address"), validators=[max_length(100)])
    status_attribute = StringField(
        _l("Attribute of the party status (official / probationary); empty: from the groups"),
        validators=[max_length(100)],
    )
    nested_groups = BooleanField(_l("Count nested groups (Active Directory)"))
    group_map = TextAreaField(
        _l("Groups → roles in this office, one a line: group DN = role"), validators=[max_length(10000)]
    )


class ProbeForm(Form):
    username = StringField(_l("Username to look up"), validators=[max_length(64)])


class AccountForm(Form):
    username = StringField(_l("Username of the account to make"), validators=[max_length(64)])
