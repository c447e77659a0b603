"""What ``flask --app wsgi doctor`` reports about the directory sign-in: each office's directory answers
over TLS and takes the search account; with several offices, their hosts are limited."""

from __future__ import annotations

from intranet.doctor import FAIL, OK, WARN, Finding
from intranet.extensions import db
from intranet.models import Office
from intranet.plugins import manager

from .settings import NAME, allowed_hosts, configured_offices
from .sync import probe


def findings() -> list[Finding]:
    found = []
    for office_id, settings in configured_offices():
        subject = f"directory ({db.session.get(Office, office_id).code})"
        result = probe(settings, "")
        if result.problem:
            found.append(Finding(FAIL, subject, f"cannot be reached: {result.problem}"))
        else:
            found.append(Finding(OK, subject, f"{result.server} answers over TLS and takes the search account"))
    if len(manager().offices_with(NAME)) > 1 and not allowed_hosts():
        found.append(
            Finding(
                WARN,
                "directory",
                "several offices use the directory sign-in and INTRANET_DIRECTORY_ALLOWED_HOSTS is empty: an "
                "office's administrator could point its settings at a server of their own, which a first sign-in "
                "in any office would then send the password to",
            )
        )
    return found
