"""Organiser pages: overview, venues, instructors, vouchers, register exports and settings."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from instructor_portal.accounts import two_step
from instructor_portal.accounts.models import Role, User
from instructor_portal.accounts.services import AccountError, find_parent, invite_user, resend_invitation
from instructor_portal.attendance import register_pages
from instructor_portal.attendance.exports import register_export_log
from instructor_portal.booking.models import Voucher
from instructor_portal.catalogue.models import Venue
from instructor_portal.clock import utcnow
from instructor_portal.db import get_or_404
from instructor_portal.forms import form_status, form_values, show_domain_error
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.notifications.services import recent_emails
from instructor_portal.organisation import get_organisation
from instructor_portal.organiser import family_data, retention, services
from instructor_portal.organiser.forms import InviteForm, SettingsForm, VenueForm, VoucherForm
from instructor_portal.organiser.models import ErasureRequest
from instructor_portal.payments.flags import count_open_flags
from instructor_portal.permissions import organiser_required
from instructor_portal.teaching.minimum_numbers import minimum_watch
from instructor_portal.teaching.services import list_courses

bp = Blueprint("organiser", __name__)


def _staff_member(user_id: int) -> User:
    """The instructor or organiser with this id; 404 for anyone else, such as a parent."""
    user = get_or_404(User, user_id)
    if user.role not in services.STAFF_ROLES:
        abort(404)
    return user


@bp.get("")
@organiser_required
def dashboard():
    """Show every course with its instructor, venue, status and next session, courses still to reach their minimum, and a few counts."""
    return render_template(
        "organiser/dashboard.html",
        summaries=list_courses(current_user),
        counts=services.dashboard_counts(),
        open_flags=count_open_flags(),
        minimums=minimum_watch(),
    )


@bp.get("/venues")
@organiser_required
def venues():
    """List the venues, those in use first."""
    return render_template("organiser/venues.html", venues=services.list_venues())


@bp.route("/venues/new", methods=["GET", "POST"])
@organiser_required
def new_venue():
    """Add a venue where courses can meet."""
    form = VenueForm()
    if form.validate_on_submit():
        try:
            venue = services.create_venue(actor=current_user, **form_values(form))
        except services.OrganiserError as error:
            show_domain_error(form, error)
        else:
            flash(f"{venue.name} added.", "success")
            return redirect(url_for("organiser.venues"))
    return render_template("organiser/new_venue.html", form=form), form_status()


@bp.route("/venues/<int:venue_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_venue(venue_id: int):
    """Change a venue's details, or retire it."""
    venue = get_or_404(Venue, venue_id)
    form = VenueForm(obj=venue)
    if form.validate_on_submit():
        try:
            services.update_venue(venue, actor=current_user, **form_values(form))
        except services.OrganiserError as error:
            show_domain_error(form, error)
        else:
            flash(f"{venue.name} saved.", "success")
            return redirect(url_for("organiser.venues"))
    return render_template("organiser/edit_venue.html", form=form, venue=venue), form_status()


@bp.get("/vouchers")
@organiser_required
def vouchers():
    """List the voucher codes with what each gives, how often it has been used and who refers families with it."""
    now = utcnow()
    return render_template("organiser/vouchers.html", vouchers=services.list_vouchers(now=now), now=now)


@bp.route("/vouchers/new", methods=["GET", "POST"])
@organiser_required
def new_voucher():
    """Add a voucher code for a discount or a funded place."""
    form = VoucherForm(courses=services.voucher_course_options())
    if form.validate_on_submit():
        tz = get_organisation().timezone
        try:
            voucher = services.create_voucher(actor=current_user, **form.voucher_fields(tz))
        except services.OrganiserError as error:
            show_domain_error(form, error)
        else:
            flash(f"Voucher {voucher.code} added.", "success")
            return redirect(url_for("organiser.vouchers"))
    return render_template("organiser/new_voucher.html", form=form), form_status()


@bp.route("/vouchers/<int:voucher_id>/edit", methods=["GET", "POST"])
@organiser_required
def edit_voucher(voucher_id: int):
    """Change a voucher code's terms, or switch it off."""
    voucher = get_or_404(Voucher, voucher_id)
    tz = get_organisation().timezone
    form = VoucherForm(courses=services.voucher_course_options(voucher), data=VoucherForm.data_for(voucher, tz))
    if form.validate_on_submit():
        try:
            services.update_voucher(voucher, actor=current_user, **form.voucher_fields(tz))
        except services.OrganiserError as error:
            show_domain_error(form, error)
        else:
            flash(f"Voucher {voucher.code} saved.", "success")
            return redirect(url_for("organiser.vouchers"))
    return render_template("organiser/edit_voucher.html", form=form, voucher=voucher), form_status()


@bp.get("/instructors")
@organiser_required
def instructors():
    """List instructors and organisers, and whether each has set a password yet."""
    return render_template("organiser/instructors.html", staff=services.list_staff())


@bp.route("/instructors/new", methods=["GET", "POST"])
@organiser_required
def invite():
    """Invite an instructor or organiser, who sets their own password from the emailed link."""
    form = InviteForm()
    if form.validate_on_submit():
        try:
            user = invite_user(
                full_name=form.full_name.data, email=form.email.data, role=Role(form.role.data), invited_by=current_user
            )
        except AccountError as error:
            show_domain_error(form, error)
        else:
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("organiser.instructors"))
    return render_template("organiser/invite.html", form=form), form_status()


@bp.post("/instructors/<int:user_id>/resend")
@organiser_required
def resend(user_id: int):
    """Email a fresh invitation link to someone who has not set a password yet."""
    user = _staff_member(user_id)
    try:
        resend_invitation(user, sent_by=current_user)
    except AccountError as error:
        flash(error.message, "error")
    else:
        flash(f"A new invitation is on its way to {user.email}.", "success")
    return redirect(url_for("organiser.instructors"))


@bp.post("/instructors/<int:user_id>/deactivate")
@organiser_required
def deactivate(user_id: int):
    """Stop someone signing in, keeping their courses and history."""
    return _set_active(_staff_member(user_id), active=False)


@bp.post("/instructors/<int:user_id>/activate")
@organiser_required
def activate(user_id: int):
    """Let someone who was switched off sign in again."""
    return _set_active(_staff_member(user_id), active=True)


@bp.post("/instructors/<int:user_id>/reset-two-step")
@organiser_required
def reset_two_step(user_id: int):
    """Reset a colleague's two-step sign-in when they have lost their phone; they set it up again when next signing in."""
    user = _staff_member(user_id)
    try:
        two_step.turn_off(user, by=current_user)
    except two_step.TwoStepError as error:
        flash(error.message, "error")
    else:
        flash(
            f"{user.full_name}'s two-step sign-in is reset. They will set it up again when they next sign in.",
            "success",
        )
    return redirect(url_for("organiser.instructors"))


def _set_active(user: User, *, active: bool):
    try:
        services.set_user_active(user, active=active, actor=current_user)
    except services.OrganiserError as error:
        flash(error.message, "error")
    else:
        flash(f"{user.full_name} can {'now' if active else 'no longer'} sign in.", "success")
    return redirect(url_for("organiser.instructors"))


@bp.get("/registers")
@organiser_required
def registers():
    """Show the filters for exporting any course's registers, and how many rows match."""
    return register_pages.show_registers(instructors=services.list_staff(), venues=services.list_venues())


@bp.post("/registers.<any(csv, xlsx, pdf):fmt>")
@organiser_required
def export_registers(fmt: str):
    """Download the registers that match the filters, as CSV, Excel or PDF sign-in sheets."""
    return register_pages.download_registers(fmt, instructors=services.list_staff(), venues=services.list_venues())


@bp.get("/registers/exports")
@organiser_required
def register_exports():
    """List every register export, newest first: who, when, which format and filters, how many rows, and whether care notes went out."""
    return render_template(
        "organiser/register_exports.html", page=register_export_log(page=request.args.get("page", 1, type=int))
    )


@bp.route("/settings", methods=["GET", "POST"])
@organiser_required
def settings():
    """Edit the organisation's settings."""
    form = SettingsForm(obj=get_organisation())
    if form.validate_on_submit():
        try:
            services.update_settings(actor=current_user, **form_values(form))
        except services.OrganiserError as error:
            show_domain_error(form, error)
        else:
            flash("Settings saved.", "success")
            return redirect(url_for("organiser.settings"))
    return render_template("organiser/settings.html", form=form), form_status()


@bp.get("/outbox")
@organiser_required
def outbox():
    """List the latest emails with what became of each: sent, waiting to be tried again, or given up on, and why."""
    return render_template("organiser/outbox.html", emails=recent_emails())


@bp.get("/outbox/<int:email_id>")
@organiser_required
def outbox_email(email_id: int):
    """Show one email as it was written, to read again what a family or colleague was sent."""
    return render_template("organiser/outbox_email.html", email=get_or_404(OutboxEmail, email_id))


@bp.route("/retention", methods=["GET", "POST"])
@organiser_required
def records_retention():
    """Show whose records are past the retention period, and remove them when the organiser confirms."""
    if request.method == "POST":
        if request.form.get("confirm") != "yes":
            flash("Tick the box to confirm that these records should be removed.", "error")
            return redirect(url_for("organiser.records_retention"))
        report = retention.purge_old_records(actor=current_user)
        flash(report.summary(dry_run=False), "success")
        return redirect(url_for("organiser.records_retention"))
    return render_template("organiser/retention.html", report=retention.find_old_records())


@bp.get("/families")
@organiser_required
def families():
    """List families' requests to be erased, and export a family's data for a subject access request."""
    return render_template("organiser/families.html", requests=family_data.open_erasure_requests())


@bp.post("/families/data.zip")
@organiser_required
def export_family():
    """Download everything held about the parent with this email, to answer their request for it; audited."""
    parent = find_parent(request.form.get("email", ""))
    if parent is None:
        flash("No parent or carer has an account with that email address.", "error")
        return redirect(url_for("organiser.families"))
    copy = family_data.export_family_data(parent, by=current_user)
    return Response(
        copy.content,
        mimetype="application/zip",
        headers={"Content-Disposition": f'attachment; filename="family-{parent.id}-{copy.filename}"'},
    )


@bp.post("/families/erasures/<int:request_id>/erase")
@organiser_required
def erase_family(request_id: int):
    """Carry out a family's request to be erased."""
    erasure = get_or_404(ErasureRequest, request_id)
    try:
        family_data.erase_family(erasure, by=current_user)
    except family_data.FamilyDataError as error:
        flash(error.message, "error")
    else:
        flash("The family's account and details are erased; bookings still to come were cancelled.", "success")
    return redirect(url_for("organiser.families"))


# The reports' pages live in their own module on this blueprint; importing it adds their routes.
from instructor_portal.organiser import report_pages  # noqa: E402, F401
