"""``flask --app wsgi …`` commands: plugin switches, demo data, account recovery (backups and
checks: backup.py, doctor.py).

Unknown names exit with code 2 and a clear message (click's usage-error convention).
"""

from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from .extensions import db
from .models import Office, User
from .plugins import PluginError, manager
from .refusals import ServiceError


def _office(code: str) -> Office:
    office = db.session.scalar(select(Office).where(func.lower(Office.code) == code.strip().lower()))
    if office is None:
        raise click.UsageError(f"unknown office code {code!r}")
    return office


def _plugin(name: str) -> str:
    if name not in manager().infos:
        known = ", ".join(sorted(manager().infos)) or "none installed"
        raise click.UsageError(f"unknown plugin {name!r} (known: {known})")
    return name


@click.group("plugins", cls=AppGroup, help="List and switch plugins per office.")
def plugins_group() -> None:
    pass


@plugins_group.command("list")
@click.option("--office", "code", help="Show the switches of this office (by code).")
def list_plugins(code: str | None) -> None:
    pm = manager()
    office = _office(code) if code else None
    enabled = pm.enabled(office.id) if office else frozenset()
    if not pm.infos:
        click.echo("no plugins installed")
    for name, info in sorted(pm.infos.items()):
        state = (
            ("on" if name in enabled else "off")
            if office
            else ("default on" if info.default_enabled else "default off")
        )
        requires = f"  requires: {', '.join(info.requires)}" if info.requires else ""
        click.echo(f"{name:<20} {info.version:<10} {state:<12} {info.title_en}{requires}")


def _switch(name: str, code: str, enabled: bool) -> None:
    office = _office(code)
    _plugin(name)
    try:
        manager().set_enabled(office, name, enabled, actor=None)
    except PluginError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{name} is now {'on' if enabled else 'off'} for {office.code}")


@plugins_group.command("enable")
@click.argument("name")
@click.option("--office", "code", required=True, help="Office code.")
def enable_plugin(name: str, code: str) -> None:
    _switch(name, code, True)


@plugins_group.command("disable")
@click.argument("name")
@click.option("--office", "code", required=True, help="Office code.")
def disable_plugin(name: str, code: str) -> None:
    _switch(name, code, False)


@click.group("users", cls=AppGroup, help="Account recovery from the server's console.")
def users_group() -> None:
    pass


@users_group.command("reset-password")
@click.argument("username")
def reset_password_command(username: str) -> None:
    """Issue a temporary password (to be changed at next sign-in) and print it."""
    from .admin.services import reset_password

    user = db.session.scalar(select(User).where(func.lower(User.username) == username.strip().lower()))
    if user is None:
        raise click.UsageError(f"unknown user {username!r}")
    try:
        password = reset_password(user)
    except ServiceError as exc:  # e.g. a directory account: its password is the directory's
        raise click.UsageError(str(exc)) from None
    db.session.commit()
    click.echo(f"{user.username}: {password}")


@users_group.command("create-admin")
@click.argument("username")
@click.option("--full-name", required=True, help="The administrator's full name.")
@click.option("--office", "code", required=True, help="Office code; a top-level office is created if it is new.")
@click.option("--office-name", help="Name of the office to create (required when the code is new).")
def create_admin_command(username: str, full_name: str, code: str, office_name: str | None) -> None:
    """The first administrator of a fresh installation: prints a temporary password, to be changed at
    the first sign-in."""
    from .admin.services import create_office, create_user
    from .models import Role
    from .refusals import ServiceError

    office = db.session.scalar(select(Office).where(func.lower(Office.code) == code.strip().lower()))
    try:
        if office is None:
            if not office_name:
                raise click.UsageError(f"office {code!r} does not exist: give --office-name to create it")
            office = create_office(code=code, name=office_name, parent=None)
        user, password = create_user(
            username=username, full_name=full_name, office=office, roles=(Role.ADMIN,), via="console"
        )
    except ServiceError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"{user.username} ({office.code}): {password}")


@click.command("seed-demo")
@with_appcontext
def seed_demo_command() -> None:
    """Create the demo offices and accounts, only when the database has no office yet."""
    from .demo import seed_demo

    if db.session.scalar(select(func.count()).select_from(Office)):
        click.echo("The database already has data: demo not seeded.")
        return
    accounts = seed_demo()
    db.session.commit()
    # The set-up's last words (`make run`): everything else it does is quiet.
    click.echo(
        "\nDemo accounts. The passwords are shown only now "
        "(flask --app wsgi users reset-password NAME issues a new one).\n"
    )
    click.echo(f"  {'username':<12} {'who':<34} password")
    for username, role, password in accounts:
        click.echo(f"  {username:<12} {role:<34} {password}")


def register_cli(app: Flask) -> None:
    from .backup import backup_group
    from .doctor import doctor_command

    app.cli.add_command(plugins_group)
    app.cli.add_command(users_group)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(backup_group)
    app.cli.add_command(doctor_command)
