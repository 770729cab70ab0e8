"""Sign-up, sign-in, sign-out, password reset and the account overview."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from instructor_portal.accounts import services
from instructor_portal.accounts.forms import ForgotPasswordForm, LoginForm, SetPasswordForm, SignUpForm
from instructor_portal.accounts.models import Role
from instructor_portal.extensions import limiter
from instructor_portal.forms import form_status, is_safe_next, show_domain_error

bp = Blueprint("accounts", __name__)


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _home_for(user) -> str:
    if user.role == Role.ORGANISER:
        return url_for("organiser.dashboard")
    if user.role == Role.INSTRUCTOR:
        return url_for("teaching.dashboard")
    return url_for("accounts.overview")


@bp.route("/register", methods=["GET", "POST"])
def sign_up():
    """Let a parent or carer create their account."""
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = SignUpForm()
    if form.validate_on_submit():
        try:
            user = services.sign_up_parent(
                full_name=form.full_name.data, email=form.email.data, password=form.password.data, phone=form.phone.data
            )
        except services.AccountError as error:
            show_domain_error(form, error)
        else:
            login_user(user)
            flash("Welcome! Your account is ready.", "success")
            return redirect(url_for("catalogue.index"))
    return render_template("accounts/sign_up.html", form=form), form_status()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def login():
    """Sign in with email and password."""
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.email.data, form.password.data)
        except services.AccountError as error:
            show_domain_error(form, error)
        else:
            login_user(user, remember=form.remember.data)
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else _home_for(user))
    return render_template("accounts/login.html", form=form), form_status()


@bp.post("/logout")
def logout():
    """Sign out (a POST, so a link elsewhere cannot sign someone out)."""
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("catalogue.index"))


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
def forgot_password():
    """Email a password-reset link."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.request_password_reset(form.email.data)
        flash(
            "If that address has an account, we have emailed it a link to reset the password. "
            "The link works once and expires in an hour.",
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/password_forgot.html", form=form), form_status()


def _set_password_page(token: str, purpose: str, template: str, success: str):
    try:
        user = services.user_for_token(token, purpose)
    except services.AccountError as error:
        return render_template("accounts/link_invalid.html", message=error.message), 400
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = services.set_password_from_token(token, purpose, form.password.data)
        except services.AccountError as error:
            show_domain_error(form, error)
        else:
            logout_user()
            login_user(user)
            flash(success, "success")
            return redirect(_home_for(user))
    return render_template(template, form=form, user=user), form_status()


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an emailed reset link."""
    return _set_password_page(token, services.PASSWORD_RESET, "accounts/password_reset.html", "Your password has been changed.")


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Let an invited instructor or organiser set their first password."""
    return _set_password_page(token, services.INVITATION, "accounts/accept_invitation.html", "Your password is set. Welcome!")


@bp.get("/account")
@login_required
def overview():
    """Show the signed-in person their account."""
    return render_template("accounts/overview.html")
