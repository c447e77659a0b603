"""The office's directory page (settings, test, sync) and the ``directory sync`` command."""

from __future__ import annotations

import click
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from intranet.access import can
from intranet.admin.forms import ActionForm
from intranet.extensions import db
from intranet.forms import form_errors_text
from intranet.models import Office
from intranet.plugins import cross_office_view
from intranet.refusals import ServiceError, respond

from . import settings as office_settings
from . import signin
from .forms import AccountForm, ConfigForm, ProbeForm
from .sync import probe, sync

bp = Blueprint("directory", __name__, url_prefix="/directory", template_folder="templates")
cli = AppGroup("directory", help="Directory sign-in (LDAP / Active Directory).")

# The gate answers 404 unless the plugin is on for the office in the URL; the views then check the right.
office_view = cross_office_view(lambda office_id: office_id)


def _office_or_404(office_id: int) -> Office:
    office = db.session.get(Office, office_id)
    if office is None or not can(current_user, "directory.configure", office.id):
        abort(404)
    return office


def _page(office: Office, form: ConfigForm, **results):
    row = office_settings.row_for(office.id)
    form.bind_secret.data = ""  # the secret never goes back to a browser
    return render_template(
        "directory/config.html",
        office=office,
        form=form,
        probe_form=results.pop("probe_form", None) or ProbeForm(formdata=None),
        account_form=AccountForm(formdata=None, prefix="account"),
        action=ActionForm(),
        defaults=office_settings.defaults(),
        has_secret=bool(row and row.bind_secret),
        configured=office_settings.configured(office.id) is not None,
        **results,
    )


@bp.route("/config/<int:office_id>", methods=["GET", "POST"])
@office_view
def config(office_id: int):
    office = _office_or_404(office_id)
    row = office_settings.row_for(office.id)
    if request.method == "GET":
        return _page(office, ConfigForm(obj=row))
    form = ConfigForm()
    if form.validate_on_submit():
        fields = {name: getattr(form, name).data or "" for name in office_settings.TEXT_FIELDS}
        try:
            office_settings.save(
                office.id,
                current_user,
                secret_given=form.bind_secret.data or "",
                nested_groups=bool(form.nested_groups.data),
                group_map=form.group_map.data or "",
                **fields,
            )
            db.session.commit()
        except ServiceError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            flash(_("The directory settings of %(office)s are saved.", office=office.name), "success")
            return redirect(url_for("directory.config", office_id=office.id))
    else:
        flash(form_errors_text(form), "error")
    return _page(office, form), 422


@bp.post("/config/<int:office_id>/test")
@office_view
def test(office_id: int):
    """Bind with the saved settings, look up one user and say what a sign-in would map; signs nobody in."""
    office = _office_or_404(office_id)
    row = office_settings.row_for(office.id)
    form = ProbeForm()
    if row is None or not form.validate_on_submit():
        flash(_("Save the settings first, then test them.") if row is None else form_errors_text(form), "error")
        return redirect(url_for("directory.config", office_id=office.id))
    try:
        settings = office_settings.effective(row)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("directory.config", office_id=office.id))
    username = (form.username.data or "").strip().lower()
    result = probe(settings, username)
    return _page(office, ConfigForm(obj=row, formdata=None), probe_form=form, probe=result, probed=username)


@bp.post("/config/<int:office_id>/accounts")
@office_view
def create_account(office_id: int):
    """Make a directory account in this office ahead of its first sign-in (a person in two offices' groups)."""
    office = _office_or_404(office_id)
    form = AccountForm(prefix="account")
    username = (form.username.data or "").strip().lower()
    return respond(
        lambda: signin.create_account(office, username, current_user),
        url_for("directory.config", office_id=office.id) + "#accounts",
        _(
            "The account “%(username)s” is made in %(office)s; its roles come from the directory.",
            username=username,
            office=office.name,
        ),
        form=form,
    )


@bp.post("/config/<int:office_id>/sync")
@office_view
def sync_now(office_id: int):
    """Deactivate the office's accounts that left the directory; ``dry_run`` only lists them."""
    office = _office_or_404(office_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    dry_run = request.form.get("dry_run") == "1"
    report = sync(dry_run=dry_run, office_id=office.id, actor=current_user, force=request.form.get("force") == "1")
    if not dry_run:
        db.session.commit()
    row = office_settings.row_for(office.id)
    return _page(office, ConfigForm(obj=row, formdata=None), report=report)


@cli.command("sync")
@click.option("--dry-run", is_flag=True, help="List what would change; change nothing.")
@click.option("--office", "code", default=None, help="Only this office (its code).")
@click.option("--force", is_flag=True, help="Deactivate even where most of an office's accounts would go.")
def sync_command(dry_run: bool, code: str | None, force: bool):
    """Deactivate the accounts that left the directory (or its groups); for cron."""
    office_id = None
    if code is not None:
        office_id = db.session.scalar(select(Office.id).where(Office.code == code.upper()))
        if office_id is None:
            raise click.UsageError(f"no office {code}")
    report = sync(dry_run=dry_run, office_id=office_id, force=force)
    if not dry_run:
        db.session.commit()
    verb = "would deactivate" if dry_run else "deactivated"
    for office_code, username, why in report.deactivated:
        click.echo(f"{office_code}: {verb} {username} ({why})")
    for office_code in report.unreachable:
        click.echo(f"{office_code}: the directory cannot be reached; nothing changed there", err=True)
    for office_code, leaving, checked in report.held:
        click.echo(
            f"{office_code}: {leaving} of {checked} accounts would go, more than half: nothing changed there; "
            "check the search account's rights and the filter (directory page, Test connection), "
            "then run again with --force if it is right",
            err=True,
        )
    click.echo(f"{report.checked} accounts checked, {len(report.deactivated)} {verb}")
    if report.unreachable or report.held:
        raise SystemExit(1)
