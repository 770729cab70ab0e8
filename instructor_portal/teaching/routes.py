"""Instructor pages: dashboard, courses and their sessions, and the public profile."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from instructor_portal.accounts.family import ChildDetails
from instructor_portal.accounts.models import Role
from instructor_portal.attendance.models import AttendanceStatus
from instructor_portal.attendance.services import attendance_grid
from instructor_portal.booking import staff_bookings
from instructor_portal.booking.forms import StaffBookingForm
from instructor_portal.booking.models import BookingStatus
from instructor_portal.booking.roster import build_roster
from instructor_portal.booking.rules import places_left
from instructor_portal.booking.services import BookingError, children_choices
from instructor_portal.catalogue.models import Course, CourseSession
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.forms import form_status, form_values, show_domain_error
from instructor_portal.handouts.services import course_handouts
from instructor_portal.messages.services import course_messages
from instructor_portal.organisation import get_organisation
from instructor_portal.organiser.services import list_staff
from instructor_portal.payments.checkout import card_available
from instructor_portal.permissions import get_managed, instructor_required
from instructor_portal.reminders.checkins import todays_numbers
from instructor_portal.teaching import minimum_numbers, profiles, services
from instructor_portal.teaching.forms import (
    CancelCourseForm,
    CancelSessionForm,
    CourseForm,
    NewCourseForm,
    ProfileForm,
    ProfilePhotoForm,
    SessionForm,
    WeeklySessionsForm,
)

bp = Blueprint("teaching", __name__)


def _timezone() -> str:
    return get_organisation().timezone


def _to_course(course: Course, message: str):
    flash(message, "success")
    return redirect(url_for("teaching.course", course_id=course.id))


@bp.get("")
@instructor_required
def dashboard():
    """Show the instructor today's sessions with who said they are coming, and their courses (an organiser: everyone's)."""
    return render_template(
        "teaching/dashboard.html", summaries=services.list_courses(current_user), today=todays_numbers(current_user)
    )


@bp.route("/courses/new", methods=["GET", "POST"])
@instructor_required
def new_course():
    """Create a draft course, with its weekly sessions in the same step if wanted."""
    teachers = list_staff(active_only=True) if current_user.role == Role.ORGANISER else None
    form = NewCourseForm(
        venues=services.venue_options(),
        teachers=teachers,
        data={
            "cancellation_notice_days": get_organisation().default_cancellation_notice_days,
            "instructor": current_user.id,
        },
    )
    if form.validate_on_submit():
        try:
            course = services.create_course(
                form.chosen_instructor(current_user),
                actor=current_user,
                weekly=form.series_fields(_timezone()),
                **form.course_fields(_timezone()),
            )
        except services.TeachingError as error:
            show_domain_error(form, error)
        else:
            return _to_course(course, "Course saved as a draft. Publish it when you are ready for bookings.")
    return render_template("teaching/new_course.html", form=form), form_status()


@bp.get("/courses/<int:course_id>")
@instructor_required
def course(course_id: int):
    """Show a course's details and sessions, with what can be done to them."""
    course = get_managed(Course, course_id)
    now = utcnow()
    return render_template(
        "teaching/course.html",
        course=course,
        now=now,
        roster=build_roster(course, now=now),
        places_left=places_left(course, now=now),
        attendance=attendance_grid(course),
        attendance_statuses=list(AttendanceStatus),
        handouts=course_handouts(course),
        messages=course_messages(course),
        decision_at=minimum_numbers.decision_at(course),
        short=minimum_numbers.is_short(course, now=now),
    )


@bp.post("/courses/<int:course_id>/run-anyway")
@instructor_required
def run_anyway(course_id: int):
    """Run a course short of its minimum whatever the numbers, so it is not cancelled for them."""
    course = get_managed(Course, course_id)
    try:
        minimum_numbers.run_anyway(course, actor=current_user)
    except services.TeachingError as error:
        flash(error.message, "error")
        return redirect(url_for("teaching.course", course_id=course.id))
    return _to_course(course, "The course will run whatever the numbers.")


NEW_CHILD = "new"


@bp.route("/courses/<int:course_id>/book-for-family", methods=["GET", "POST"])
@instructor_required
def book_for_family(course_id: int):
    """Book a place for a family who phoned or walked in: find or make the parent, choose or add the child, say how they pay."""
    course = get_managed(Course, course_id)
    now, card = utcnow(), card_available()
    form = StaffBookingForm(data={"email": request.args.get("email", "")})
    family, email_error = None, None
    if form.email.data:
        try:
            family = staff_bookings.look_up_family(form.email.data, staff=current_user)
        except BookingError as error:
            email_error = error.message
    choices = children_choices(family, course, now=now) if family else []
    form.child.choices = [(str(c.child.id), c.child.first_name) for c in choices if c.eligible]
    form.child.choices.append((NEW_CHILD, "Add a child"))
    form.payment.choices = [(p.value, p.label) for p in staff_bookings.payment_choices(course, card=card)]
    if email_error is None and form.validate_on_submit():
        new = NEW_CHILD in (form.child.data or [])
        try:
            booking = staff_bookings.book_for_family(
                current_user,
                course,
                email=form.email.data,
                new_parent=None
                if family
                else staff_bookings.NewParent(form.full_name.data or "", form.phone.data or ""),
                child_ids=_child_ids(form),
                new_child=_child_details(form) if new else None,
                payment=_payment(form),
                terms_agreed=form.terms_agreed.data,
                medical_clearance=form.medical_clearance.data,
                photo_consent=form.photo_consent.data,
                voucher_code=form.voucher_code.data or "",
                card=card,
                now=now,
            )
        except BookingError as error:
            show_domain_error(form, error)
        else:
            done = (
                "confirmed"
                if booking.status == BookingStatus.CONFIRMED
                else "held, and the parent emailed a link to pay"
            )
            return _to_course(course, f"Place booked for {booking.parent.full_name}: {done} (ref {booking.reference}).")
    status = 422 if email_error or request.method == "POST" else 200
    return render_template(
        "teaching/book_for_family.html",
        course=course,
        form=form,
        family=family,
        choices=choices,
        email_error=email_error,
        places_left=places_left(course, now=now),
    ), status


def _child_ids(form: StaffBookingForm) -> list[int]:
    # Past 9 digits a value is no id of ours; "new" is the child added on the form.
    return [int(value) for value in form.child.data or [] if value.isdigit() and len(value) < 10]


def _payment(form: StaffBookingForm) -> staff_bookings.FamilyPayment | None:
    try:
        return staff_bookings.FamilyPayment(form.payment.data)
    except ValueError:
        return None


def _child_details(form: StaffBookingForm) -> ChildDetails:
    return ChildDetails(
        first_name=form.first_name.data or "",
        last_name=form.last_name.data or "",
        date_of_birth=form.date_of_birth.data,
        due_date=form.due_date.data,
        gestation_weeks=form.gestation_weeks.data,
        care_notes=form.care_notes.data or "",
        care_notes_consent=form.care_notes_consent.data,
    )


@bp.route("/courses/<int:course_id>/edit", methods=["GET", "POST"])
@instructor_required
def edit_course(course_id: int):
    """Change a course's details."""
    course = get_managed(Course, course_id)
    form = CourseForm(venues=services.venue_options(course), data=CourseForm.data_for(course, _timezone()))
    if form.validate_on_submit():
        try:
            services.update_course(course, actor=current_user, **form.course_fields(_timezone()))
        except services.TeachingError as error:
            show_domain_error(form, error)
        else:
            return _to_course(course, "Course details saved.")
    return render_template("teaching/edit_course.html", form=form, course=course), form_status()


@bp.post("/courses/<int:course_id>/publish")
@instructor_required
def publish_course(course_id: int):
    """Open a draft course for booking."""
    course = get_managed(Course, course_id)
    try:
        services.publish_course(course, actor=current_user)
    except services.TeachingError as error:
        flash(error.message, "error")
        return redirect(url_for("teaching.course", course_id=course.id))
    return _to_course(course, "Course published. Families can now find and book it.")


@bp.route("/courses/<int:course_id>/cancel", methods=["GET", "POST"])
@instructor_required
def cancel_course(course_id: int):
    """Ask why, then cancel the whole course."""
    course = get_managed(Course, course_id)
    form = CancelCourseForm()
    if form.validate_on_submit():
        try:
            services.cancel_course(course, actor=current_user, reason=form.reason.data)
        except services.TeachingError as error:
            show_domain_error(form, error)
        else:
            return _to_course(course, "Course cancelled.")
    return render_template("teaching/cancel_course.html", form=form, course=course), form_status()


@bp.route("/courses/<int:course_id>/sessions/new", methods=["GET", "POST"])
@instructor_required
def new_session(course_id: int):
    """Add one session to a course."""
    course = get_managed(Course, course_id)
    form = SessionForm()
    if form.validate_on_submit():
        try:
            services.add_session(course, actor=current_user, **form.session_fields(_timezone()))
        except services.TeachingError as error:
            show_domain_error(form, error)
        else:
            return _to_course(course, "Session added.")
    return render_template("teaching/new_session.html", form=form, course=course), form_status()


@bp.route("/courses/<int:course_id>/sessions/weekly", methods=["GET", "POST"])
@instructor_required
def weekly_sessions(course_id: int):
    """Add a series of sessions a week apart to a course."""
    course = get_managed(Course, course_id)
    form = WeeklySessionsForm()
    if form.validate_on_submit():
        try:
            sessions = services.add_weekly_sessions(course, actor=current_user, **form.series_fields(_timezone()))
        except services.TeachingError as error:
            show_domain_error(form, error)
        else:
            return _to_course(course, f"{len(sessions)} weekly sessions added.")
    return render_template("teaching/weekly_sessions.html", form=form, course=course), form_status()


@bp.route("/sessions/<int:session_id>/edit", methods=["GET", "POST"])
@instructor_required
def edit_session(session_id: int):
    """Move a session to another date, time or length, or change its note for families."""
    session = get_managed(CourseSession, session_id)
    tz = _timezone()
    form = SessionForm(data=SessionForm.data_for(session, tz))
    if form.validate_on_submit():
        try:
            if form.changes_time_of(session, tz):
                services.move_session(session, actor=current_user, **form.session_fields(tz))
            else:
                services.update_session(session, actor=current_user, note=form.note.data or "")
        except services.TeachingError as error:
            show_domain_error(form, error)
        else:
            return _to_course(session.course, "Session saved.")
    return render_template("teaching/edit_session.html", form=form, session=session), form_status()


@bp.route("/sessions/<int:session_id>/cancel", methods=["GET", "POST"])
@instructor_required
def cancel_session(session_id: int):
    """Ask for a note for families, then cancel one session."""
    session = get_managed(CourseSession, session_id)
    form = CancelSessionForm()
    if form.validate_on_submit():
        try:
            services.cancel_session(session, actor=current_user, note=form.note.data or "")
        except services.TeachingError as error:
            show_domain_error(form, error)
        else:
            return _to_course(session.course, "Session cancelled.")
    return render_template("teaching/cancel_session.html", form=form, session=session), form_status()


def _render_profile(form: ProfileForm | None = None, photo_form: ProfilePhotoForm | None = None):
    return render_template(
        "teaching/profile.html",
        form=form or ProfileForm(formdata=None, obj=current_user.profile),
        photo_form=photo_form or ProfilePhotoForm(),
        photo_limit=current_app.config["PHOTO_MAX_BYTES"],
    ), form_status()


@bp.route("/profile", methods=["GET", "POST"])
@instructor_required
def profile():
    """Edit what families see about you in the instructor directory."""
    form = ProfileForm(obj=current_user.profile)
    if form.validate_on_submit():
        profiles.update_profile(current_user, actor=current_user, **form_values(form))
        flash("Profile saved.", "success")
        return redirect(url_for("teaching.profile"))
    return _render_profile(form=form)


@bp.post("/profile/photo")
@instructor_required
def profile_photo():
    """Put a new photo on your public profile."""
    form = ProfilePhotoForm()
    if form.validate_on_submit():
        try:
            profiles.set_profile_photo(current_user, actor=current_user, stream=form.photo.data)
        except DomainError as error:  # the service's own refusals, and a clash with another upload
            show_domain_error(form, error)
        else:
            flash("Photo saved. Families see it on your profile.", "success")
            return redirect(url_for("teaching.profile"))
    return _render_profile(photo_form=form)


@bp.post("/profile/photo/remove")
@instructor_required
def remove_profile_photo():
    """Take the photo off your public profile."""
    profiles.remove_profile_photo(current_user, actor=current_user)
    flash("Photo removed.", "success")
    return redirect(url_for("teaching.profile"))
