"""Import user accounts from a CSV file: all rows are checked first; if any row is wrong nothing is
written and every wrong row is reported with its line number and reasons."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..extensions import db
from ..forms import USERNAME_RE
from ..models import Office, PartyStatus, Role, User
from ..text import clean_text
from .services import create_user

COLUMNS = ("username", "full_name", "email", "office_code", "roles", "party_status")
REQUIRED = ("username", "full_name", "office_code")
MAX_ROWS = 2000
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

# Both the codes and the words a Vietnamese office writes in its spreadsheet are accepted.
ROLE_WORDS = {
    "admin": Role.ADMIN,
    "quản trị": Role.ADMIN,
    "secretary": Role.SECRETARY,
    "bí thư": Role.SECRETARY,
    "deputy": Role.DEPUTY,
    "phó bí thư": Role.DEPUTY,
    "committee": Role.COMMITTEE,
    "chi ủy viên": Role.COMMITTEE,
    "cấp ủy viên": Role.COMMITTEE,
    "member": Role.MEMBER,
    "đảng viên": Role.MEMBER,
    "guest": Role.GUEST,
    "khách": Role.GUEST,
}
STATUS_WORDS = {
    "official": PartyStatus.OFFICIAL,
    "chính thức": PartyStatus.OFFICIAL,
    "probationary": PartyStatus.PROBATIONARY,
    "dự bị": PartyStatus.PROBATIONARY,
}


@dataclass
class RowReport:
    line: int
    username: str
    full_name: str
    errors: list[str] = field(default_factory=list)
    password: str | None = None


@dataclass
class ImportReport:
    rows: list[RowReport] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.file_errors and bool(self.rows) and not any(r.errors for r in self.rows)

    @property
    def bad_rows(self) -> list[RowReport]:
        return [r for r in self.rows if r.errors]


def _norm(word: str) -> str:
    return unicodedata.normalize("NFC", word.strip().lower())


def _decode(data: bytes) -> str | None:
    for encoding in ("utf-8-sig", "cp1258"):  # cp1258: the Vietnamese Windows code page of old Excel
        try:
            # cp1258 writes tone marks as combining characters: compose them as the database expects.
            return unicodedata.normalize("NFC", data.decode(encoding))
        except UnicodeDecodeError:
            continue
    return None


def _split_roles(cell: str) -> list[str]:
    return [part for part in re.split(r"[|,;/+]", cell) if part.strip()]


def check(data: bytes, offices: dict[str, Office]) -> tuple[ImportReport, list[dict]]:
    """Validate the file against the offices the importer manages (by upper-case code)."""
    report, parsed = ImportReport(), []
    text = _decode(data)
    if text is None:
        report.file_errors.append(_("The file is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8”."))
        return report, parsed
    try:
        dialect = csv.Sniffer().sniff(text.split("\n", 1)[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text), dialect=dialect)
    header = [_norm(h or "") for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        report.file_errors.append(
            _(
                "Missing columns: %(cols)s. The first line must name the columns: %(all)s.",
                cols=", ".join(missing),
                all=", ".join(COLUMNS),
            )
        )
        return report, parsed
    reader.fieldnames = header
    seen: dict[str, int] = {}
    try:
        rows = list(reader)
    except csv.Error as exc:
        report.file_errors.append(_("The file is not valid CSV: %(error)s", error=str(exc)))
        return report, parsed
    if len(rows) > MAX_ROWS:
        report.file_errors.append(_("At most %(n)d rows per file.", n=MAX_ROWS))
        return report, parsed
    if not rows:
        report.file_errors.append(_("The file has no rows under its header."))
        return report, parsed
    wanted = [_norm(r.get("username") or "") for r in rows]
    existing = set(db.session.scalars(select(func.lower(User.username)).where(func.lower(User.username).in_(wanted))))
    for number, row in enumerate(rows, start=2):
        cells = {k: clean_text(v) for k, v in row.items() if k}
        username = _norm(cells.get("username", ""))
        entry = RowReport(line=number, username=username, full_name=cells.get("full_name", ""))
        errors = entry.errors
        if not USERNAME_RE.match(username):
            errors.append(_("Username: 3–64 characters, lower-case letters, digits, dot, dash, underscore."))
        elif username in existing:
            errors.append(_("Username already taken."))
        elif username in seen:
            errors.append(_("Same username as line %(line)d.", line=seen[username]))
        seen.setdefault(username, number)
        if not entry.full_name:
            errors.append(_("Full name is missing."))
        elif len(entry.full_name) > 200:
            errors.append(_("Full name is longer than 200 characters."))
        email = cells.get("email", "")
        if email and not EMAIL_RE.match(email):
            errors.append(_("E-mail address is not valid."))
        office = offices.get(cells.get("office_code", "").upper())
        if office is None:
            errors.append(
                _("Unknown office code “%(code)s”, or an office you do not manage.", code=cells.get("office_code", ""))
            )
        roles = []
        for word in _split_roles(cells.get("roles", "")):
            role = ROLE_WORDS.get(_norm(word))
            if role is None:
                errors.append(_("Unknown role “%(role)s”.", role=word.strip()))
            elif role not in roles:
                roles.append(role)
        status_word = _norm(cells.get("party_status", ""))
        status = STATUS_WORDS.get(status_word) if status_word else None
        if status_word and status is None:
            errors.append(_("Party status must be “official” (chính thức) or “probationary” (dự bị)."))
        report.rows.append(entry)
        parsed.append(
            {
                "username": username,
                "full_name": entry.full_name,
                "email": email,
                "office": office,
                "roles": tuple(roles) or (Role.MEMBER,),
                "party_status": status,
            }
        )
    return report, parsed


def import_users(data: bytes, offices: dict[str, Office], *, actor=None) -> ImportReport:
    """Check, then create every account only if every row is right. The caller commits when ``ok``."""
    report, parsed = check(data, offices)
    if not report.ok:
        return report
    for entry, fields in zip(report.rows, parsed):
        _user, entry.password = create_user(actor=actor, via="csv", **fields)
    return report
