"""Sign-in, sign-out, my account, password change (forced on first sign-in for issued passwords)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import Email, Optional

from .audit import record
from .extensions import db, limiter, login_manager
from .forms import Form, max_length, new_password_fields, required
from .i18n import LANGUAGE_NAMES
from .models import User, utcnow, verify_dummy_password
from .params import parse_int

bp = Blueprint("auth", __name__)

# Pages a user who must change their password may still reach.
_ALLOWED_BEFORE_PASSWORD_CHANGE = {"auth.change_password", "auth.logout", "main.set_language", "main.healthz", "static"}


class LoginForm(Form):
    username = StringField(_l("Username"), validators=[required(), max_length(64)])
    password = PasswordField(_l("Password"), validators=[required(), max_length(256)])
    remember = BooleanField(_l("Keep me signed in on this computer"))


class AccountForm(Form):
    full_name = StringField(_l("Full name"), validators=[required(), max_length(200)])
    email = EmailField(_l("E-mail"), validators=[Optional(), Email(message=_l("Not a valid e-mail address.")), max_length(254)])
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
def load_user(token: str) -> User | None:
    user_id, version = (parse_int(part) for part in token.partition(".")[::2])
    if user_id is None or version is None:
        return None
    # Roles come in the same query: nearly every page checks them (a live poll does little else).
    user = db.session.get(User, user_id, options=[joinedload(User.roles)])
    if user is None or user.auth_version != version or not user.active:
        return None
    return user


def _force_password_change():
    if (
        current_user.is_authenticated
        and current_user.must_change_password
        and request.endpoint not in _ALLOWED_BEFORE_PASSWORD_CHANGE
    ):
        return redirect(url_for("auth.change_password"))
    return None


def _login_failed(response) -> bool:
    return response.status_code != 302


def _account_key() -> str:
    return "account:" + (request.form.get("username") or "").strip().lower()[:64]


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_IP_LIMIT"], methods=["POST"], deduct_when=_login_failed,
               scope="login-ip")
@limiter.limit(lambda: current_app.config["LOGIN_ACCOUNT_LIMIT"], methods=["POST"], deduct_when=_login_failed,
               key_func=_account_key, scope="login-account")
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.index"))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        user = db.session.scalar(select(User).where(func.lower(User.username) == username))
        if user is None:
            verify_dummy_password(form.password.data)
        elif user.check_password(form.password.data):
            if not user.active:
                flash(_("This account is deactivated. Ask your office's administrator."), "error")
                return render_template("auth/login.html", form=form)
            login_user(user, remember=form.remember.data)
            user.last_login_at = utcnow()
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("main.index"))
        flash(_("Wrong username or password."), "error")
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account():
    form = AccountForm(obj=current_user)
    if form.validate_on_submit():
        changed = {f: getattr(form, f).data for f in ("full_name", "email", "locale")
                   if getattr(form, f).data != getattr(current_user, f)}
        form.populate_obj(current_user)
        if changed:
            record("user.update_self", "user_account", current_user.id, office_id=current_user.office_id,
                   fields=sorted(changed))
        db.session.commit()
        flash(_("Your details are saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    form._username = current_user.username
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        elif form.new_password.data == form.current_password.data:
            form.new_password.errors.append(_("Choose a password different from the current one."))
        else:
            current_user.set_password(form.new_password.data)
            current_user.must_change_password = False
            record("user.change_password", "user_account", current_user.id, office_id=current_user.office_id)
            db.session.commit()
            login_user(current_user._get_current_object())  # the session id carries auth_version, which just changed
            flash(_("Your password is changed."), "success")
            return redirect(url_for("main.index"))
    return render_template("auth/password.html", form=form)
