"""Sign-in, sign-out, my account and its sessions, password change (forced on first sign-in for issued
passwords). Sessions live on the server (intranet/sessions.py); failed sign-ins slow down per username
and address (intranet/lockout.py)."""

from __future__ import annotations

import secrets

from flask import Blueprint, Flask, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, Optional

from . import lockout, metrics, sessions
from .audit import record
from .extensions import db, limiter, login_manager
from .forms import Form, max_length, new_password_fields, required
from .i18n import LANGUAGE_NAMES
from .models import AuthSource, User, utcnow, verify_dummy_password
from .plugins import SignInAnswer, manager
from .security import local_path

bp = Blueprint("auth", __name__)

# Pages a user who must change their password may still reach.
_ALLOWED_BEFORE_PASSWORD_CHANGE = {
    "auth.change_password",
    "auth.logout",
    "main.set_language",
    "main.healthz",
    "main.readyz",
    "main.metrics",
    "static",
}


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[required(), max_length(64)])
    password = PasswordField(_l("Password"), validators=[required(), max_length(256)])
    remember = BooleanField(_l("Keep me signed in on this computer"))


class AccountForm(Form):
    full_name = StringField(_l("Full name"), validators=[required(), max_length(200)])
    email = EmailField(
        _l("E-mail"), validators=[Optional(), Email(message=_l("Not a valid e-mail address.")), max_length(254)]
    )
    locale = SelectField(_l("Language"), choices=list(LANGUAGE_NAMES.items()))


class PasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[required(), max_length(256)])
    new_password, confirm = new_password_fields()


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    app.before_request(_force_password_change)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    return sessions.load(user_id)


def _force_password_change():
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _ALLOWED_BEFORE_PASSWORD_CHANGE
    ):
        return redirect(url_for("auth.change_password"))
    return None


def _password_was_wrong(response) -> bool:
    return bool(g.get("login_password_wrong"))


def sign_in(user: User, remember: bool = False) -> None:
    """Start a new server-side session for ``user`` in a fresh cookie: the old cookie's contents (and
    with them the CSRF token) are dropped, so a session id planted before sign-in is worth nothing."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    sessions.start(user)
    login_user(user, remember=remember)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_IP_LIMIT"], methods=["POST"], deduct_when=_password_was_wrong, scope="login-ip"
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        wait = lockout.wait_seconds(username)
        if wait:
            metrics.SIGNIN_FAILURES.labels("throttled").inc()
            flash(
                _(
                    "Too many failed attempts for this username from your address. Try again in %(seconds)d "
                    "seconds, or sign in from another computer.",
                    seconds=wait,
                ),
                "error",
            )
            return render_template("auth/login.html", form=form), 429
        user = db.session.scalar(select(User).where(func.lower(User.username) == username))
        answer = _check(username, form.password.data, user)
        if answer.refusal == SignInAnswer.UNREACHABLE:
            # Counted as a wrong password: a wrong one answers this too while a directory is down (_check),
            # and guessing must not go unthrottled then.
            g.login_password_wrong = True
            metrics.SIGNIN_FAILURES.labels("unreachable").inc()
            lockout.failed(username, user)
            db.session.commit()
            flash(
                _(
                    "The directory cannot be reached, so directory accounts cannot sign in now. Try again in a "
                    "few minutes; if it goes on, tell your IT administrator. Local accounts still sign in."
                ),
                "error",
            )
            return render_template("auth/login.html", form=form), 503
        if answer.refusal == SignInAnswer.REFUSED:  # the password was right; the plugin says why not
            metrics.SIGNIN_FAILURES.labels("refused").inc()
            lockout.succeeded(username)
            db.session.commit()
            flash(answer.message, "error")
            return render_template("auth/login.html", form=form), 403
        if not answer.refusal:
            user = answer.user
            if not user.active:
                metrics.SIGNIN_FAILURES.labels("inactive").inc()
                flash(_("This account is deactivated. Ask your office's administrator."), "error")
                db.session.commit()  # what the directory refreshed (and its audit) stays
                return render_template("auth/login.html", form=form)
            lockout.succeeded(username)
            sign_in(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(local_path(request.args.get("next")) or url_for("main.index"))
        g.login_password_wrong = True
        metrics.SIGNIN_FAILURES.labels("wrong_credentials").inc()
        lockout.failed(username, user)
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


def _check(username: str, password: str, user: User | None) -> SignInAnswer:
    """Whose password this is, or why not. A local account is checked here and nowhere else, so no
    directory entry can sign in as it; any other username goes to the authentication plugins after a
    password check's worth of time, so a missing account takes as long as a wrong password."""
    if user is not None and user.auth_source == AuthSource.LOCAL:
        answer = SignInAnswer(user=user) if user.check_password(password) else SignInAnswer(refusal=SignInAnswer.WRONG)
    else:
        verify_dummy_password(password)
        answer = manager().authenticate(username, password, user)
        if answer is None or (answer.user is None and not answer.refusal):
            answer = SignInAnswer(refusal=SignInAnswer.WRONG)
    if answer.refusal == SignInAnswer.WRONG and user is not None and user.auth_source == AuthSource.LOCAL:
        # An unknown username asks every directory, and hears "cannot be reached" while one is down: a
        # local account's wrong password asks them too (as a name and password no one has), to cost and
        # answer the same (an authentication plugin does so for its own accounts).
        decoy = manager().authenticate(f"no-one-{secrets.token_hex(8)}", secrets.token_urlsafe(24), None)
        if decoy is not None and decoy.refusal == SignInAnswer.UNREACHABLE:
            return decoy
    return answer


@bp.post("/logout")
def logout():
    if current_user.is_authenticated:
        sessions.end_current(current_user)
        db.session.commit()
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = AccountForm(obj=current_user)
    if form.validate_on_submit():
        changed = {
            f: getattr(form, f).data
            for f in ("full_name", "email", "locale")
            if getattr(form, f).data != getattr(current_user, f)
        }
        form.populate_obj(current_user)
        if changed:
            record(
                "user.update_self",
                "user_account",
                current_user.id,
                office_id=current_user.office_id,
                fields=sorted(changed),
            )
        db.session.commit()
        flash(_("Your details are saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, sessions=sessions.listing(current_user))


@bp.post("/account/sessions/<int:user_session_id>/end")
@login_required
def end_session(user_session_id: int):
    ending_this_one = user_session_id == sessions.current_id(current_user)
    if not sessions.end(current_user, user_session_id):
        abort(404)
    record("user.end_session", "user_account", current_user.id, office_id=current_user.office_id)
    db.session.commit()
    if ending_this_one:
        logout_user()
        flash(_("You have signed out."), "info")
        return redirect(url_for("auth.login"))
    flash(_("That session is ended: the browser there must sign in again."), "success")
    return redirect(url_for("auth.account"))


@bp.post("/account/sessions/end-all")
@login_required
def end_all_sessions():
    count = sessions.end(current_user)
    record("user.end_sessions", "user_account", current_user.id, office_id=current_user.office_id, count=count)
    db.session.commit()
    logout_user()
    flash(_("You are signed out on every device."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    if current_user.auth_source != AuthSource.LOCAL:
        flash(_("Your password is the one of the agency's directory: change it there."), "info")
        return redirect(url_for("auth.account"))
    form = PasswordForm()
    form._username = current_user.username
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        elif form.new_password.data == form.current_password.data:
            form.new_password.errors.append(_("Choose a password different from the current one."))
        else:
            user = current_user._get_current_object()
            user.set_password(form.new_password.data)
            user.must_change_password = False
            record("user.change_password", "user_account", user.id, office_id=user.office_id)
            sessions.end(user)  # every other browser signs in again with the new password
            sign_in(user, remember=current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies)
            db.session.commit()
            flash(_("Your password is changed."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)
