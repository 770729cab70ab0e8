"""Booking pages: book a place, choose how to pay, see and cancel bookings."""

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_login import current_user

from instructor_portal.accounts.models import Role
from instructor_portal.attendance import makeups
from instructor_portal.attendance.models import Makeup, MakeupStatus
from instructor_portal.attendance.services import family_attendance
from instructor_portal.booking import cancellation, rules, services
from instructor_portal.booking.forms import BookingForm, CancelBookingForm, PaymentChoiceForm
from instructor_portal.booking.ical import course_calendar
from instructor_portal.booking.models import Booking, BookingStatus
from instructor_portal.booking.pages import after_booking, get_bookable_course
from instructor_portal.clock import utcnow
from instructor_portal.db import get_or_404
from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.handouts.services import family_handouts
from instructor_portal.payments.providers import available_providers
from instructor_portal.payments.refunds import cancel_booking_and_refund
from instructor_portal.payments.services import PaymentError, booking_money
from instructor_portal.permissions import (
    can_manage_course,
    get_own,
    instructor_required,
    parent_required,
    refuse_access,
)
from instructor_portal.queue import enqueue_quietly
from instructor_portal.reminders.services import wants_reminders
from instructor_portal.waitlist.tasks import offer_freed_places

bp = Blueprint("booking", __name__)


@bp.route("/classes/<int:course_id>/book", methods=["GET", "POST"])
@parent_required
def book(course_id: int):
    """Book places on a course for one or more of the parent's children."""
    course = get_bookable_course(course_id)
    now = utcnow()
    choices = services.children_choices(current_user, course, now=now)
    form = BookingForm()
    form.children.choices = [(choice.child.id, choice.child.first_name) for choice in choices if choice.eligible]
    quote = None
    if form.validate_on_submit():
        chosen = [
            choice.child for choice in choices if choice.eligible and choice.child.id in (form.children.data or [])
        ]
        try:
            if form.check_price.data:
                quote = services.quote_places(course, len(chosen), voucher_code=form.voucher_code.data or "", now=now)
            else:
                booking = services.book_places(
                    current_user,
                    course,
                    chosen,
                    accept_terms=form.accept_terms.data,
                    medical_clearance=form.medical_clearance.data,
                    photo_consent=form.photo_consent.data,
                    voucher_code=form.voucher_code.data or "",
                    now=now,
                )
                return after_booking(booking)
        except services.BookingError as error:
            show_domain_error(form, error)
    # A price check is not a refusal, so it answers 200 like the first showing of the form.
    return render_template(
        "booking/book.html",
        course=course,
        form=form,
        choices=choices,
        quote=quote,
        closed=rules.booking_closed_reason(course, now=now),
        places_left=rules.places_left(course, now=now),
    ), 200 if quote is not None else form_status()


@bp.route("/bookings/<int:booking_id>/pay", methods=["GET", "POST"])
@parent_required
def pay(booking_id: int):
    """Choose how to pay for a booking whose places are held."""
    booking = get_own(Booking, booking_id)
    if booking.status == BookingStatus.CONFIRMED:
        return redirect(url_for("booking.my_booking", booking_id=booking.id))
    providers = {provider.method.value: provider for provider in available_providers(booking.course)}
    form = PaymentChoiceForm()
    form.method.choices = [(key, provider.label) for key, provider in providers.items()]
    if form.validate_on_submit():
        provider = providers.get(form.method.data or "")
        if provider is None:
            form.method.errors = ["Choose how you would like to pay."]
        else:
            try:
                address = provider.start(booking)
            except (services.BookingError, PaymentError) as error:
                show_domain_error(form, error)
            else:
                if address:
                    return redirect(address)
                flash("Your place is confirmed. We have emailed you the details.", "success")
                return redirect(url_for("booking.my_booking", booking_id=booking.id))
    return render_template(
        "booking/pay.html", booking=booking, form=form, providers=providers, live=rules.is_live(booking, now=utcnow())
    ), form_status()


@bp.get("/account/bookings")
@parent_required
def my_bookings():
    """List the parent's bookings, upcoming first, then past ones."""
    now = utcnow()
    upcoming, past = services.split_bookings(current_user, now=now)
    return render_template(
        "booking/my_bookings.html", upcoming=upcoming, past=past, now=now, makeups=makeups.family_makeups(current_user)
    )


@bp.get("/account/bookings/<int:booking_id>")
@parent_required
def my_booking(booking_id: int):
    """Show one of the parent's bookings in full."""
    booking = get_own(Booking, booking_id)
    now = utcnow()
    return render_template(
        "booking/my_booking.html",
        booking=booking,
        now=now,
        live=rules.is_live(booking, now=now),
        next_session=rules.next_session(booking.course, now=now),
        cancellable=cancellation.cancel_refusal(booking, by=current_user, now=now) is None,
        money=booking_money(booking, for_family=True),
        attendance=family_attendance(booking),
        makeups=makeups.family_makeups(current_user, booking=booking),
        handouts=family_handouts(booking, now=now),
        reminders_on=wants_reminders(booking),
    )


def _own_makeup(makeup_id: int) -> Makeup:
    makeup = get_or_404(Makeup, makeup_id)
    if not makeups.is_family_makeup(current_user, makeup):
        refuse_access(makeup)
    return makeup


@bp.post("/account/makeups/<int:makeup_id>/accept")
@parent_required
def accept_makeup(makeup_id: int):
    """Take the make-up session offered to the family, if a place is still free."""
    return _answer_makeup(
        makeup_id, makeups.accept_makeup, "Your make-up session is booked. We have emailed you the details."
    )


@bp.post("/account/makeups/<int:makeup_id>/decline")
@parent_required
def decline_makeup(makeup_id: int):
    """Turn down the make-up session offered to the family."""
    return _answer_makeup(makeup_id, makeups.decline_makeup, "Make-up session declined.")


def _answer_makeup(makeup_id: int, answer, done: str):
    makeup = _own_makeup(makeup_id)
    try:
        answer(makeup, by=current_user)
    except (makeups.MakeupError, services.BookingError) as error:
        flash(error.message, "error")
    else:
        flash(done, "success")
    return redirect(url_for("booking.my_booking", booking_id=makeup.place.booking_id))


@bp.get("/account/bookings/<int:booking_id>/calendar.ics")
@parent_required
def booking_calendar(booking_id: int):
    """Download the booking's sessions, and the make-up sessions it has booked, as an iCalendar file."""
    booking = get_own(Booking, booking_id)
    cancelled = booking.status in (BookingStatus.CANCELLED, BookingStatus.EXPIRED)
    booked_makeups = [
        makeup.session
        for makeup in makeups.family_makeups(current_user, booking=booking)
        if makeup.status == MakeupStatus.ACCEPTED
    ]
    return Response(
        course_calendar(
            booking.course, cancelled=cancelled, cancelled_at=booking.cancelled_at, makeup_sessions=booked_makeups
        ),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="course-{booking.course_id}.ics"'},
    )


@bp.route("/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@parent_required
def cancel(booking_id: int):
    """Let a parent cancel their booking, after seeing whether it is refundable."""
    booking = get_own(Booking, booking_id)
    return _cancel_page(
        booking,
        back=url_for("booking.my_booking", booking_id=booking.id),
        done=url_for("booking.my_booking", booking_id=booking.id),
    )


@bp.route("/teach/bookings/<int:booking_id>/cancel", methods=["GET", "POST"])
@instructor_required
def cancel_for_family(booking_id: int):
    """Let the course's instructor (or an organiser) cancel a family's booking."""
    booking = get_or_404(Booking, booking_id)
    if not can_manage_course(current_user, booking.course):
        refuse_access(booking)
    course_page = url_for("teaching.course", course_id=booking.course_id)
    return _cancel_page(booking, back=course_page, done=course_page)


def _cancel_page(booking, *, back: str, done: str):
    now = utcnow()
    form = CancelBookingForm()
    refusal = cancellation.cancel_refusal(booking, by=current_user, now=now)
    if refusal is None and form.validate_on_submit():
        try:
            cancel_booking_and_refund(booking, by=current_user, reason=form.reason.data or "", now=now)
        except services.BookingError as error:
            show_domain_error(form, error)
        else:
            enqueue_quietly(offer_freed_places, booking.course_id)
            flash(
                "The booking is cancelled and the family has been emailed."
                if current_user.role != Role.PARENT
                else "Your booking is cancelled. We have emailed you a confirmation.",
                "success",
            )
            return redirect(done)
    elif refusal is not None and request.method == "POST":
        form.form_errors.append(refusal)
    return render_template(
        "booking/cancel.html",
        booking=booking,
        form=form,
        refusal=refusal,
        terms=rules.cancellation_terms(booking, now=now),
        back=back,
    ), form_status()
