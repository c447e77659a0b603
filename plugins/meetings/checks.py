"""What ``flask --app wsgi doctor`` reports about each office's Jitsi: the domains are names that
resolve, and token auth can sign (the same signing the room page uses)."""

from __future__ import annotations

import socket

from sqlalchemy import select

from intranet.doctor import FAIL, OK, Finding
from intranet.extensions import db
from intranet.models import Office
from intranet.plugins import manager

from . import jitsi
from .models import JitsiAuth, OfficeConfig
from .services import DOMAIN


class _Probe:  # the user a trial token is signed for
    id, full_name, email = 0, "doctor", ""


def office_findings(office: Office, config: OfficeConfig) -> list[Finding]:
    subject = f"jitsi ({office.code})"
    findings = []
    for domain in jitsi.domains(config):
        if not DOMAIN.match(domain):
            findings.append(Finding(FAIL, subject, f"{domain!r} is not a domain name"))
            continue
        host = domain.rsplit(":", 1)[0]
        try:
            socket.getaddrinfo(host, None)
        except OSError as exc:
            findings.append(
                Finding(
                    FAIL,
                    subject,
                    f"{host} does not resolve ({exc.strerror or exc}): members' browsers will not find the room either",
                )
            )
    if config.auth != JitsiAuth.NONE:
        try:
            jitsi.token(config, config.jitsi_domain or "example.org", "doctor", _Probe(), moderator=False)
        except Exception as exc:  # PyJWT and cryptography raise many types for a bad key
            findings.append(
                Finding(
                    FAIL,
                    subject,
                    f"token auth ({config.auth.value}) cannot sign a token: "
                    f"{type(exc).__name__}; re-enter the secret or private key",
                )
            )
    if not findings:
        findings.append(
            Finding(OK, subject, f"{', '.join(jitsi.domains(config)) or 'no Jitsi domain'}, auth {config.auth.value}")
        )
    return findings


def findings() -> list[Finding]:
    rows = db.session.execute(
        select(Office, OfficeConfig)
        .join(OfficeConfig, OfficeConfig.office_id == Office.id)
        .where(Office.id.in_(manager().offices_with("meetings")))
        .order_by(Office.code)
    ).all()
    return [finding for office, config in rows for finding in office_findings(office, config)]
