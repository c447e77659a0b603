"""Meeting-room forms; the services check the rules."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import FloatField, IntegerField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from intranet.forms import Form, max_length

from .models import JitsiAuth

NUMBER = _l("Enter a number.")


def _number(label, kind=IntegerField):
    return kind(label, validators=[InputRequired(message=NUMBER)], invalid_value_message=NUMBER)


class RoomForm(Form):
    provider = SelectField(_l("How the meeting is held"))
    external_url = StringField(_l("Meeting link (Zoom, Teams…)"), validators=[max_length(500)])
    dial_in = TextAreaField(_l("Dial-in details (phone number, meeting ID, passcode)"), validators=[max_length(2000)])


class GuestForm(Form):
    username = StringField(
        _l("Username of the guest (e.g. from the superior party committee)"), validators=[max_length(64)]
    )


class NotesForm(Form):
    notes = TextAreaField(_l("Running notes (shown in follow-along mode)"), validators=[max_length(20000)])


class ConfigForm(Form):
    jitsi_domain = StringField(_l("Jitsi domain"), validators=[max_length(200)])
    backup_domains = TextAreaField(
        _l("Backup Jitsi domains (one per line, tried in order)"), validators=[max_length(2000)]
    )
    auth = SelectField(
        _l("Token auth"),
        choices=[
            (JitsiAuth.NONE.value, _l("None (an open Jitsi)")),
            (JitsiAuth.HS256.value, _l("Self-hosted token auth: app id and secret (HS256)")),
            (JitsiAuth.JAAS.value, _l("Jitsi as a Service: key id and private key (RS256)")),
        ],
    )
    app_id = StringField(_l("App id (self-hosted) or tenant (JaaS)"), validators=[max_length(200)])
    app_secret = PasswordField(_l("App secret"), validators=[max_length(500)])
    jaas_key_id = StringField(_l("JaaS API key id"), validators=[max_length(300)])
    jaas_private_key = TextAreaField(_l("JaaS private key (PEM)"), validators=[max_length(10000)])
    turn_urls = TextAreaField(
        _l("TURN server URLs (one per line, e.g. turn:turn.example.gov.vn:3478?transport=udp)"),
        validators=[max_length(2000)],
    )
    turn_secret = PasswordField(_l("TURN shared secret (coturn's static-auth-secret)"), validators=[max_length(500)])
    turn_username = StringField(_l("Or a fixed TURN username"), validators=[max_length(200)])
    turn_credential = PasswordField(_l("and its credential"), validators=[max_length(500)])
    open_minutes_before = _number(_l("Room opens (minutes before the start)"))
    rtt_degraded_ms = _number(_l("Round trip: degraded from (ms)"))
    rtt_poor_ms = _number(_l("Round trip: poor from (ms)"))
    loss_degraded_pct = _number(_l("Packet loss: degraded from (%)"), FloatField)
    loss_poor_pct = _number(_l("Packet loss: poor from (%)"), FloatField)
    quality_degraded = _number(_l("Jitsi connection quality: degraded below (%)"))
    quality_poor = _number(_l("Jitsi connection quality: poor below (%)"))
    samples_to_change = _number(_l("Samples in a row before the state changes"))
