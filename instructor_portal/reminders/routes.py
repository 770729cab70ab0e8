"""Reminder pages: a family's one-tap check-in from the morning email, and turning reminders off or on for a booking."""

from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from instructor_portal.booking.models import Booking
from instructor_portal.clock import utcnow
from instructor_portal.errors import render_error
from instructor_portal.extensions import limiter
from instructor_portal.forms import form_status
from instructor_portal.permissions import get_own, parent_required
from instructor_portal.reminders import checkins, services
from instructor_portal.reminders.forms import CheckInForm, ReminderChoiceForm
from instructor_portal.reminders.models import CheckInAnswer

bp = Blueprint("reminders", __name__)


def _check_in_rate_limit() -> str:
    return current_app.config["CHECK_IN_RATE_LIMIT"]


@bp.route("/check-in/<int:session_id>/<answer>/<token>", methods=["GET", "POST"])
@limiter.limit(_check_in_rate_limit, methods=["POST"])
def check_in(session_id: int, answer: str, token: str):
    """Show the answer the family tapped with one big button to confirm it; the POST records it.

    Mail scanners open every link in an email, so opening the link changes nothing: the
    parent's one tap after it is the confirm button, a POST with its CSRF token.
    """
    now = utcnow()
    form = CheckInForm()
    try:
        chosen = checkins.read_check_in(session_id, answer, token, now=now)
        if form.validate_on_submit():
            checkins.answer_check_in(session_id, answer, token, now=now)
            return render_template("reminders/check_in_done.html", check_in=chosen)
    except checkins.CheckInError as error:
        return render_template("reminders/check_in_closed.html", message=error.message), error.status
    return render_template(
        "reminders/check_in.html", check_in=chosen, form=form, token=token, answers=list(CheckInAnswer)
    ), form_status()


@bp.post("/account/bookings/<int:booking_id>/reminders")
@parent_required
def choose_reminders(booking_id: int):
    """Turn the booking's session reminders off or back on, from the booking's page."""
    booking = get_own(Booking, booking_id)
    form = ReminderChoiceForm()
    if not form.validate_on_submit():
        return render_error(422, " ".join(error for errors in form.errors.values() for error in errors))
    wanted = form.reminders.data == "on"
    try:
        services.set_reminders(booking, wanted=wanted, by=current_user)
    except services.ReminderError as error:
        return render_error(422, error.message)
    flash(
        "Reminders are on: we will email you before each session."
        if wanted
        else "Reminders are off for this booking. Turn them back on here at any time.",
        "success",
    )
    return redirect(url_for("booking.my_booking", booking_id=booking.id, _anchor="reminders"))
