"""``flask --app wsgi doctor``: checks an installation and says in plain words what is wrong.

Each check returns findings; a ``fail`` makes the command exit with 1, a ``warn`` is advice. Plugins add
their own through the ``intranet_doctor_checks`` hook (the meetings plugin checks each office's Jitsi).
The CLI speaks English, like every console command of the project.
"""

from __future__ import annotations

import os
import smtplib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import text

OK, WARN, FAIL = "ok", "warn", "fail"
TIMEOUT_SECONDS = 5
# Values copied from examples instead of generated: a key anyone can read signs anyone's session.
PLACEHOLDER_WORDS = ("change", "replace", "example", "secret", "default", "todo", "xxx")
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Finding:
    level: str  # OK, WARN or FAIL
    subject: str
    message: str


def check_config(app: Flask) -> list[Finding]:
    cfg = app.config
    findings = []
    key = str(cfg.get("SECRET_KEY") or "")
    if not key:
        findings.append(Finding(FAIL, "secret key", "SECRET_KEY is empty"))
    elif len(key) < MIN_SECRET_LENGTH:
        findings.append(
            Finding(
                FAIL,
                "secret key",
                f"SECRET_KEY has {len(key)} characters; use at least "
                f"{MIN_SECRET_LENGTH} random ones (python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'), or unset it to use instance/secret_key",
            )
        )
    elif any(word in key.lower() for word in PLACEHOLDER_WORDS):
        findings.append(
            Finding(
                FAIL, "secret key", "SECRET_KEY looks like a placeholder copied from an example; generate a random one"
            )
        )
    else:
        findings.append(Finding(OK, "secret key", f"set, {len(key)} characters"))
    env = cfg.get("ENV")
    if env == "production":
        insecure = [name for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE") if not cfg.get(name)]
        if insecure:
            findings.append(
                Finding(
                    FAIL,
                    "cookies",
                    f"{', '.join(insecure)} off in production: sign-in cookies "
                    "would travel over plain http (is TESTING set?)",
                )
            )
        else:
            findings.append(Finding(OK, "environment", "production, cookies sent over HTTPS only"))
        if urlsplit(str(cfg.get("BASE_URL", ""))).scheme != "https":
            findings.append(
                Finding(
                    WARN,
                    "base URL",
                    f"BASE_URL is {cfg.get('BASE_URL')}: links in e-mails should use the public https:// address",
                )
            )
    elif env == "development":
        findings.append(
            Finding(
                WARN,
                "environment",
                "ENV is development: cookies lack the Secure flag; set INTRANET_ENV=production on a server",
            )
        )
    else:
        findings.append(Finding(FAIL, "environment", f"ENV is {env!r}; it must be production or development"))
    return findings


def check_database() -> list[Finding]:
    from .backup import database_heads, known_revision
    from .extensions import db
    from .schema import code_heads

    url = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = database_heads(db.engine)
    except Exception as exc:  # every driver error means the same to the admin: not reachable
        return [Finding(FAIL, "database", f"cannot reach {url}: {str(exc).splitlines()[0]}")]
    expected = code_heads()
    if current == expected:
        return [Finding(OK, "database", f"reachable, at migration {', '.join(current)} (this code's head)")]
    newer = [head for head in current if not known_revision(head)]
    if newer:
        return [
            Finding(
                FAIL,
                "migrations",
                f"the database is at {', '.join(newer)}, unknown to this code: it was "
                "upgraded by a newer version; install that version",
            )
        ]
    return [
        Finding(
            FAIL,
            "migrations",
            f"the database is at {', '.join(current) or 'no migration'}, this code "
            f"expects {', '.join(expected)}: run flask --app wsgi db upgrade",
        )
    ]


def check_redis(app: Flask) -> list[Finding]:
    url = app.config.get("REDIS_URL")
    if not url:
        return [Finding(OK, "redis", "not configured: one process only (in-process live bus, rate limits in memory)")]
    import redis

    parts = urlsplit(url)  # shown without its password
    shown = parts.path if parts.scheme == "unix" else f"{parts.hostname}:{parts.port or 6379}"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS)
        client.ping()
        client.close()
    except redis.RedisError as exc:
        return [Finding(FAIL, "redis", f"cannot reach {shown}: {exc}; live updates and sign-in limits need it")]
    return [Finding(OK, "redis", f"{shown} answers")]


def upload_dirs(app: Flask) -> dict[str, Path]:
    """The instance folder and each ``*_UPLOAD_DIR`` setting (empty: ``instance/uploads``)."""
    instance = Path(app.instance_path)
    dirs = {"instance folder": instance}
    for key, value in sorted(app.config.items()):
        if key.endswith("_UPLOAD_DIR"):
            dirs[key] = Path(value) if value else instance / "uploads"
    return dirs


def _check_dir(subject: str, path: Path) -> Finding:
    if not path.exists():
        parent = next((p for p in path.parents if p.exists()), None)
        if parent is not None and parent.is_dir() and _writable(parent):
            return Finding(OK, subject, f"{path} does not exist yet; it is created on first use")
        return Finding(FAIL, subject, f"{path} does not exist and cannot be created by this user")
    if not path.is_dir():
        return Finding(FAIL, subject, f"{path} is not a directory")
    if not _writable(path):
        return Finding(
            FAIL,
            subject,
            f"{path} is not writable by this user (uid {os.geteuid()}): uploads and "
            "backups would fail; chown it to the service's user",
        )
    if path.stat().st_mode & 0o007:
        return Finding(
            WARN, subject, f"{path} is open to every local user (mode {oct(path.stat().st_mode & 0o777)}); chmod o-rwx"
        )
    return Finding(OK, subject, f"{path} is writable")


def _writable(path: Path) -> bool:
    """Whether this process can create a file there: tried, because permission bits do not tell
    (root ignores them; read-only mounts and ACLs are not in them)."""
    try:
        with tempfile.NamedTemporaryFile(dir=path, prefix=".doctor-"):
            return True
    except OSError:
        return False


def check_dirs(app: Flask) -> list[Finding]:
    return [_check_dir(subject, path) for subject, path in upload_dirs(app).items()]


def check_smtp(app: Flask) -> list[Finding]:
    cfg = app.config
    if not cfg.get("SMTP_HOST"):
        return [Finding(OK, "smtp", "not configured: notifications stay in the app")]
    where = f"{cfg['SMTP_HOST']}:{cfg['SMTP_PORT']}"
    try:
        with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=TIMEOUT_SECONDS) as smtp:
            code, _ = smtp.ehlo()
            if code != 250:
                return [Finding(FAIL, "smtp", f"{where} refused EHLO (code {code})")]
            if cfg.get("SMTP_STARTTLS"):
                smtp.starttls()
                smtp.ehlo()
            if cfg.get("SMTP_USER"):
                smtp.login(cfg["SMTP_USER"], cfg.get("SMTP_PASSWORD", ""))
    except (OSError, smtplib.SMTPException) as exc:
        return [Finding(FAIL, "smtp", f"cannot talk to {where}: {exc or type(exc).__name__}")]
    return [
        Finding(
            OK, "smtp", f"{where} answers EHLO{' and accepts the login' if cfg.get('SMTP_USER') else ''} (nothing sent)"
        )
    ]


def check_plugins() -> list[Finding]:
    from .plugins import manager

    return [finding for findings in manager().pm.hook.intranet_doctor_checks() for finding in findings]


def run_checks(app: Flask | None = None) -> list[Finding]:
    app = app or current_app
    findings = [*check_config(app), *check_database(), *check_redis(app), *check_dirs(app), *check_smtp(app)]
    # Plugins read their settings from the database: only ask them when it is reachable and current.
    if all(f.level != FAIL for f in findings if f.subject in ("database", "migrations")):
        findings.extend(check_plugins())
    return findings


LABELS = {OK: "ok  ", WARN: "WARN", FAIL: "FAIL"}


@click.command("doctor")
@with_appcontext
def doctor_command() -> None:
    """Check configuration, database, Redis, folders, SMTP and plugins; exit 1 when something is wrong."""
    findings = run_checks()
    for finding in findings:
        click.echo(f"[{LABELS[finding.level]}] {finding.subject}: {finding.message}")
    failures = sum(f.level == FAIL for f in findings)
    if failures:
        click.echo(f"{failures} problem(s) found.")
        raise SystemExit(1)
    click.echo("No problem found.")
