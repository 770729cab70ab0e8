"""Sign-up, sign-in, sign-out, password reset and the account overview."""

import time

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from instructor_portal.accounts import family, services, two_step
from instructor_portal.accounts.forms import (
    ChildForm,
    EraseAccountForm,
    ForgotPasswordForm,
    LoginForm,
    SetPasswordForm,
    SignUpForm,
    TwoStepForm,
    TwoStepSetupForm,
)
from instructor_portal.accounts.models import Child, Role, User
from instructor_portal.accounts.sign_ins import end_sign_in, start_sign_in
from instructor_portal.calendar_feeds.services import feed_of
from instructor_portal.extensions import db, limiter
from instructor_portal.forms import form_status, is_safe_next, show_domain_error
from instructor_portal.organisation import get_organisation
from instructor_portal.organiser import family_data
from instructor_portal.permissions import get_own, parent_required

bp = Blueprint("accounts", __name__)


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _sign_up_rate_limit() -> str:
    return current_app.config["SIGN_UP_RATE_LIMIT"]


def _home_for(user) -> str:
    if user.role == Role.ORGANISER:
        return url_for("organiser.dashboard")
    if user.role == Role.INSTRUCTOR:
        return url_for("teaching.dashboard")
    return url_for("accounts.overview")


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(_sign_up_rate_limit, methods=["POST"])
def sign_up():
    """Let a parent or carer create their account; it is ready once they follow the link emailed to them."""
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = SignUpForm()
    target = request.args.get("next")
    if form.validate_on_submit():
        try:
            services.sign_up_parent(
                full_name=form.full_name.data,
                email=form.email.data,
                password=form.password.data,
                phone=form.phone.data,
                next_url=target if is_safe_next(target) else None,
            )
        except services.AccountError as error:
            show_domain_error(form, error)
        else:
            return render_template("accounts/check_email.html", email=services.normalise_email(form.email.data))
    return render_template("accounts/sign_up.html", form=form), form_status()


@bp.get("/confirm/<token>")
def confirm_email(token: str):
    """Confirm the address a new account's link was sent to, and sign the new parent in."""
    try:
        user = services.confirm_email(token)
    except services.AccountError as error:
        return render_template("accounts/link_invalid.html", message=error.message), 400
    login_user(start_sign_in(user))
    flash(
        "Your email is confirmed and your account is ready. Add your baby or child so we can show the classes that suit them.",
        "success",
    )
    target = request.args.get("next")
    return redirect(
        url_for("accounts.new_child", next=target) if is_safe_next(target) else url_for("accounts.new_child")
    )


def _account_rate_limit() -> str:
    return current_app.config["ACCOUNT_LOGIN_RATE_LIMIT"]


def _typed_account() -> str:
    # The email as typed, so the limit holds whether or not it has an account, and says nothing about which.
    return f"account:{services.normalise_email(request.form.get('email', ''))}"


def _warn_account_owner(_limit) -> None:
    services.warn_of_sign_in_attempts(request.form.get("email", ""))


ACCOUNT_PAUSED = (
    "Too many wrong passwords have been tried for this email address, so signing in with it is paused for a while "
    "to keep the account safe. Try again later, or reset the password."
)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
@limiter.limit(
    _account_rate_limit,
    methods=["POST"],
    key_func=_typed_account,
    deduct_when=lambda response: response.status_code != 302,
    on_breach=_warn_account_owner,
    error_message=ACCOUNT_PAUSED,
)
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
            target = request.args.get("next")
            target = target if is_safe_next(target) else None
            if user.has_two_step:
                # The password was right; the sign-in starts once the second step is done too.
                session[TWO_STEP] = {
                    "user": user.id,
                    "remember": bool(form.remember.data),
                    "next": target,
                    "at": time.time(),
                }
                return redirect(url_for("accounts.two_step_sign_in"))
            login_user(start_sign_in(user, remember=form.remember.data), remember=form.remember.data)
            return redirect(target or _home_for(user))
    return render_template("accounts/login.html", form=form), form_status()


#: The session key holding a sign-in whose password was right, waiting for its second step, and for how long.
TWO_STEP = "two_step_pending"
TWO_STEP_SECONDS = 300


def _two_step_key() -> str:
    return f"two-step:{(session.get(TWO_STEP) or {}).get('user')}"


@bp.route("/login/two-step", methods=["GET", "POST"])
@limiter.limit(
    "5 per 5 minutes",
    methods=["POST"],
    key_func=_two_step_key,
    deduct_when=lambda response: response.status_code != 302,
)
def two_step_sign_in():
    """Finish signing in with the authenticator app's code, or a recovery code."""
    pending = session.get(TWO_STEP)
    user = db.session.get(User, pending["user"]) if pending and time.time() - pending["at"] < TWO_STEP_SECONDS else None
    if user is None or not user.active:
        session.pop(TWO_STEP, None)
        flash("Please sign in again.", "info")
        return redirect(url_for("accounts.login"))
    form = TwoStepForm()
    if form.validate_on_submit():
        if two_step.check_code(user, form.code.data):
            session.pop(TWO_STEP, None)
            login_user(start_sign_in(user, remember=pending["remember"]), remember=pending["remember"])
            return redirect(pending["next"] or _home_for(user))
        form.code.errors.append(
            "That code is not right, or has been used already. Type the 6 digits your app shows now, "
            "or one of your recovery codes."
        )
    return render_template("accounts/two_step_sign_in.html", form=form), form_status()


@bp.post("/logout")
def logout():
    """Sign out on this browser, ending its sign-in on the server (a POST, so a link elsewhere cannot sign someone out)."""
    if current_user.is_authenticated:
        end_sign_in(current_user.sign_in_token)
    logout_user()
    flash("You have signed out.", "info")
    return redirect(url_for("catalogue.index"))


def _reset_rate_limit() -> str:
    return current_app.config["RESET_RATE_LIMIT"]


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_rate_limit, methods=["POST"])
@limiter.limit(
    _reset_rate_limit,
    methods=["POST"],
    key_func=_typed_account,
    error_message="Several reset links have just been sent "
    "to this address. Please use the latest one, or wait an hour before asking again.",
)
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
    # Setting a password ends every sign-in and does not start one: the person signs in with it,
    # so a reset link in someone else's hands does not hand them a signed-in session too.
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
            flash(success, "success")
            return redirect(url_for("accounts.login"))
    return render_template(template, form=form, user=user), form_status()


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password from an emailed reset link."""
    return _set_password_page(
        token,
        services.PASSWORD_RESET,
        "accounts/password_reset.html",
        "Your password has been changed, and you have been signed out everywhere. Sign in with your new password.",
    )


@bp.route("/welcome/<token>", methods=["GET", "POST"])
def accept_invitation(token: str):
    """Let an invited instructor or organiser, or a parent staff booked for, set their first password."""
    return _set_password_page(
        token,
        services.INVITATION,
        "accounts/accept_invitation.html",
        "Your password is set. Welcome! Sign in with it now.",
    )


@bp.get("/account")
@login_required
def overview():
    """Show the signed-in person their account."""
    return render_template("accounts/overview.html", calendar_feed=feed_of(current_user))


@bp.get("/account/children")
@parent_required
def children():
    """List the parent's children."""
    return render_template("accounts/children.html", children=current_user.children)


def _child_details(form: ChildForm) -> family.ChildDetails:
    return family.ChildDetails(
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
        date_of_birth=form.date_of_birth.data,
        due_date=form.due_date.data,
        gestation_weeks=form.gestation_weeks.data,
        care_notes=form.care_notes.data or "",
        care_notes_consent=bool(form.care_notes_consent.data),
        relationship_to_carer=form.relationship_to_carer.data or "",
    )


@bp.route("/account/children/new", methods=["GET", "POST"])
@parent_required
def new_child():
    """Add a child to the family."""
    form = ChildForm()
    if form.validate_on_submit():
        try:
            child = family.add_child(current_user, _child_details(form))
        except services.AccountError as error:
            show_domain_error(form, error)
        else:
            flash(f"{child.first_name} has been added.", "success")
            target = request.args.get("next")
            return redirect(target if is_safe_next(target) else url_for("accounts.children"))
    return render_template("accounts/child_form.html", form=form, child=None), form_status()


@bp.route("/account/children/<int:child_id>/edit", methods=["GET", "POST"])
@parent_required
def edit_child(child_id: int):
    """Change a child's details."""
    child = get_own(Child, child_id)
    form = ChildForm(obj=child, care_notes_consent=child.care_notes_consent_at is not None)
    if form.validate_on_submit():
        try:
            family.update_child(child, _child_details(form))
        except services.AccountError as error:
            show_domain_error(form, error)
        else:
            flash(f"{child.first_name}'s details have been saved.", "success")
            return redirect(url_for("accounts.children"))
    return render_template("accounts/child_form.html", form=form, child=child), form_status()


@bp.post("/account/children/<int:child_id>/care-notes/withdraw")
@parent_required
def withdraw_care_notes(child_id: int):
    """Withdraw consent to a child's care notes, which deletes them."""
    child = get_own(Child, child_id)
    family.withdraw_care_notes_consent(child)
    flash(f"{child.first_name}'s care notes are deleted, and will not be kept unless you add them again.", "success")
    return redirect(url_for("accounts.edit_child", child_id=child.id))


@bp.post("/account/children/<int:child_id>/remove")
@parent_required
def remove_child(child_id: int):
    """Remove a child from the family."""
    child = get_own(Child, child_id)
    name = child.first_name
    try:
        family.remove_child(child)
    except services.AccountError as error:
        flash(error.message, "error")
    else:
        flash(f"{name} has been removed.", "success")
    return redirect(url_for("accounts.children"))


@bp.route("/account/data", methods=["GET", "POST"])
@parent_required
def my_data():
    """Show what is held about the family and who sees it; download it all, or ask for the account to be erased."""
    form = EraseAccountForm()
    if form.validate_on_submit():
        if not services.is_own_password(current_user, form.password.data):
            form.password.errors.append("That is not your password.")
        else:
            family_data.request_erasure(current_user, note=form.note.data or "")
            flash(
                "We have your request. The organiser will erase your account and your family's details within a month, "
                "and cancel any bookings still to come.",
                "success",
            )
            return redirect(url_for("accounts.my_data"))
    return render_template(
        "accounts/my_data.html", form=form, pending=family_data.pending_erasure(current_user)
    ), form_status()


@bp.post("/account/data.zip")
@parent_required
def download_my_data():
    """Download everything held about the family: a page to read and the same facts as JSON, in one ZIP."""
    copy = family_data.export_family_data(current_user, by=current_user)
    return Response(
        copy.content,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="{copy.filename}"'},
    )


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def two_step_setup():
    """Set up two-step sign-in with an authenticator app (instructors and organisers must; parents may), or manage it."""
    user = current_user
    if user.has_two_step:
        return render_template("accounts/two_step_manage.html", left=two_step.recovery_codes_left(user))
    if user.totp_secret is None:
        two_step.start_setup(user)
    form = TwoStepSetupForm()
    if form.validate_on_submit():
        try:
            codes = two_step.turn_on(user, user.totp_secret, form.code.data)
        except two_step.TwoStepError as error:
            show_domain_error(form, error)
        else:
            return render_template("accounts/recovery_codes.html", codes=codes, first_time=True)
    qr = two_step.setup_qr(user, user.totp_secret, get_organisation().name)
    return render_template("accounts/two_step_setup.html", form=form, qr=qr, secret=user.totp_secret), form_status()


@bp.post("/account/two-step/recovery-codes")
@login_required
def renew_recovery_codes():
    """Replace the recovery codes with new ones, shown once."""
    if not current_user.has_two_step:
        return redirect(url_for("accounts.two_step_setup"))
    return render_template(
        "accounts/recovery_codes.html", codes=two_step.new_recovery_codes(current_user), first_time=False
    )


@bp.post("/account/two-step/off")
@parent_required
def turn_off_two_step():
    """Turn off two-step sign-in, for a parent who opted in."""
    two_step.turn_off(current_user, by=current_user)
    flash("Two-step sign-in is off. Sign in again with your password.", "info")
    return redirect(url_for("accounts.login"))
