"""Waiting-list pages: a parent joins, sees their place, takes up or turns down an offer; staff see and manage a course's list."""

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from instructor_portal.booking import rules
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.forms import BookingPromisesForm
from instructor_portal.booking.pages import after_booking, get_bookable_course
from instructor_portal.catalogue.models import Course
from instructor_portal.clock import utcnow
from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.permissions import get_managed, get_own, instructor_required, parent_required
from instructor_portal.queue import enqueue_quietly
from instructor_portal.waitlist import offers, services
from instructor_portal.waitlist.forms import JoinForm, RemoveEntryForm
from instructor_portal.waitlist.models import EntryStatus, WaitlistEntry
from instructor_portal.waitlist.tasks import offer_freed_places

bp = Blueprint("waitlist", __name__)


@bp.route("/classes/<int:course_id>/waitlist", methods=["GET", "POST"])
@parent_required
def join(course_id: int):
    """Join a full course's waiting list for one or more of the parent's children."""
    course = get_bookable_course(course_id)
    now = utcnow()
    entry = services.open_entry(current_user, course)
    if entry is not None:
        flash(f"You are already number {services.position(entry)} on this course's waiting list.", "info")
        return redirect(url_for("waitlist.my_waiting_lists"))
    choices = booking_services.children_choices(current_user, course, now=now)
    form = JoinForm()
    form.children.choices = [(choice.child.id, choice.child.first_name) for choice in choices if choice.eligible]
    if form.validate_on_submit():
        chosen = [
            choice.child for choice in choices if choice.eligible and choice.child.id in (form.children.data or [])
        ]
        try:
            entry = services.join_waitlist(current_user, course, chosen, now=now)
        except services.WaitlistError as error:
            show_domain_error(form, error)
        else:
            flash(
                f"You are number {services.position(entry)} on the waiting list. "
                "We will email you as soon as a place is yours to take.",
                "success",
            )
            return redirect(url_for("waitlist.my_waiting_lists"))
    return render_template(
        "waitlist/join.html",
        course=course,
        form=form,
        choices=choices,
        refusal=services.can_join(course, now=now),
        waiting=services.waiting_count(course),
    ), form_status()


@bp.get("/account/waiting-lists")
@parent_required
def my_waiting_lists():
    """The parent's waiting lists: their place in each queue, and any offer to take up."""
    return render_template("waitlist/mine.html", entries=services.family_entries(current_user), now=utcnow())


@bp.post("/account/waiting-lists/<int:entry_id>/leave")
@parent_required
def leave(entry_id: int):
    """Take the family off a waiting list."""
    entry = get_own(WaitlistEntry, entry_id)
    try:
        services.leave_waitlist(entry, parent=current_user)
    except services.WaitlistError as error:
        flash(error.message, "info")
    else:
        flash(f"You have left the waiting list for {entry.course.title}.", "success")
        enqueue_quietly(offer_freed_places, entry.course_id)
    return redirect(url_for("waitlist.my_waiting_lists"))


@bp.route("/account/waiting-lists/<int:entry_id>/offer", methods=["GET", "POST"])
@parent_required
def offer(entry_id: int):
    """Take up an offered place: the normal booking, with the places already held."""
    entry = get_own(WaitlistEntry, entry_id)
    now = utcnow()
    form = BookingPromisesForm()
    if entry.status == EntryStatus.BOOKED and entry.booking is not None:
        return redirect(url_for("booking.my_booking", booking_id=entry.booking.id))
    live = entry.status == EntryStatus.OFFERED and entry.offer_expires_at > now
    if live and form.validate_on_submit():
        try:
            booking = booking_services.book_places(
                current_user,
                entry.course,
                list(entry.children),
                accept_terms=form.accept_terms.data,
                medical_clearance=form.medical_clearance.data,
                photo_consent=form.photo_consent.data,
                voucher_code=form.voucher_code.data or "",
                now=now,
                offer=entry,
            )
        except booking_services.BookingError as error:
            show_domain_error(form, error)
        else:
            return after_booking(booking)
    return render_template(
        "waitlist/offer.html",
        entry=entry,
        course=entry.course,
        form=form,
        live=live,
        closed=rules.booking_closed_reason(entry.course, now=now),
    ), form_status()


@bp.post("/account/waiting-lists/<int:entry_id>/decline")
@parent_required
def decline(entry_id: int):
    """Turn an offer down, so the places go to the next family."""
    entry = get_own(WaitlistEntry, entry_id)
    try:
        offers.decline_offer(entry, parent=current_user)
    except services.WaitlistError as error:
        flash(error.message, "info")
    else:
        flash("Thank you for letting us know. The place goes to the next family on the list.", "success")
    return redirect(url_for("waitlist.my_waiting_lists"))


@bp.get("/teach/courses/<int:course_id>/waiting-list")
@instructor_required
def course_list(course_id: int):
    """A course's waiting list for its instructor and organisers: who, how many places, since when, and offers."""
    course = get_managed(Course, course_id)
    now = utcnow()
    return render_template(
        "waitlist/course_list.html",
        course=course,
        entries=services.queue(course),
        free=rules.places_left(course, now=now),
        now=now,
        remove_form=RemoveEntryForm(),
    )


@bp.post("/teach/waiting-list/<int:entry_id>/offer")
@instructor_required
def offer_by_hand(entry_id: int):
    """Offer free places to one family now, ahead of their turn."""
    entry = get_managed(WaitlistEntry, entry_id)
    try:
        offers.offer_by_hand(entry, by=current_user)
    except services.WaitlistError as error:
        flash(error.message, "error")
    else:
        flash(
            f"{entry.parent.full_name} has been offered {entry.places} {'place' if entry.places == 1 else 'places'}.",
            "success",
        )
    return redirect(url_for("waitlist.course_list", course_id=entry.course_id))


@bp.post("/teach/waiting-list/<int:entry_id>/move-<any(up, down):direction>")
@instructor_required
def move(entry_id: int, direction: str):
    """Move a family one place up or down the list."""
    entry = get_managed(WaitlistEntry, entry_id)
    try:
        services.move_entry(entry, by=current_user, up=direction == "up")
    except services.WaitlistError as error:
        flash(error.message, "error")
    return redirect(url_for("waitlist.course_list", course_id=entry.course_id))


@bp.post("/teach/waiting-list/<int:entry_id>/remove")
@instructor_required
def remove(entry_id: int):
    """Take a family off the list, with a message to them."""
    entry = get_managed(WaitlistEntry, entry_id)
    form = RemoveEntryForm()
    if form.validate_on_submit():
        try:
            services.remove_entry(entry, by=current_user, message=form.message.data or "")
        except services.WaitlistError as error:
            flash(error.message, "error")
        else:
            flash(f"{entry.parent.full_name} has been taken off the waiting list and emailed.", "success")
            enqueue_quietly(offer_freed_places, entry.course_id)
    else:
        flash(" ".join(error for errors in form.errors.values() for error in errors), "error")
    return redirect(url_for("waitlist.course_list", course_id=entry.course_id))
