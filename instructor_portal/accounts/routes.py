"""Sign-up, sign-in, sign-out, password reset and the account overview."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required, login_user, logout_user

from instructor_portal.accounts import services
from instructor_portal.accounts.forms import ChildForm, ForgotPasswordForm, LoginForm, SetPasswordForm, SignUpForm
from instructor_portal.accounts.models import Role
from instructor_portal.extensions import limiter
from instructor_portal.forms import form_status, is_safe_next, show_domain_error
from instructor_portal.permissions import parent_required

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
            flash("Welcome! Your account is ready. Add your baby or child so we can show the classes that suit them.", "success")
            target = request.args.get("next")
            return redirect(url_for("accounts.new_child", next=target) if is_safe_next(target) else url_for("accounts.new_child"))
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


@bp.get("/account/children")
@parent_required
def children():
    """List the parent's children."""
    return render_template("accounts/children.html", children=current_user.children)


def _child_details(form: ChildForm) -> services.ChildDetails:
    return services.ChildDetails(
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
        date_of_birth=form.date_of_birth.data,
        due_date=form.due_date.data,
        gestation_weeks=form.gestation_weeks.data,
        care_notes=form.care_notes.data or "",
        relationship_to_carer=form.relationship_to_carer.data or "",
    )


@bp.route("/account/children/new", methods=["GET", "POST"])
@parent_required
def new_child():
    """Add a child to the family."""
    form = ChildForm()
    if form.validate_on_submit():
        try:
            child = services.add_child(current_user, _child_details(form))
        except services.AccountError as error:
            show_domain_error(form, error)
        else:
            flash(f"{child.first_name} has been added.", "success")
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("accounts.children"))
    return render_template("accounts/child_form.html", form=form, child=None), form_status()


def _own_child(child_id: int):
    return services.get_own_child(current_user, child_id) or abort(404)


@bp.route("/account/children/<int:child_id>/edit", methods=["GET", "POST"])
@parent_required
def edit_child(child_id: int):
    """Change a child's details."""
    child = _own_child(child_id)
    form = ChildForm(obj=child)
    if form.validate_on_submit():
        try:
            services.update_child(child, _child_details(form))
        except services.AccountError as error:
            show_domain_error(form, error)
        else:
            flash(f"{child.first_name}'s details have been saved.", "success")
            return redirect(url_for("accounts.children"))
    return render_template("accounts/child_form.html", form=form, child=child), form_status()


@bp.post("/account/children/<int:child_id>/remove")
@parent_required
def remove_child(child_id: int):
    """Remove a child from the family."""
    child = _own_child(child_id)
    name = child.first_name
    try:
        services.remove_child(child)
    except services.AccountError as error:
        flash(error.message, "error")
    else:
        flash(f"{name} has been removed.", "success")
    return redirect(url_for("accounts.children"))
