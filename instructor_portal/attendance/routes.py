"""Taking the register on a phone in class, offering make-ups to families who missed a session, and exporting registers."""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from instructor_portal.accounts.models import Role
from instructor_portal.attendance import makeups, register_pages, services
from instructor_portal.attendance.forms import MakeupOfferForm, MarkForm
from instructor_portal.attendance.models import Makeup
from instructor_portal.booking.capacity import BookingError
from instructor_portal.catalogue.models import CourseSession
from instructor_portal.clock import utcnow
from instructor_portal.db import get_or_404
from instructor_portal.forms import form_status, show_domain_error
from instructor_portal.organiser.services import list_staff, list_venues
from instructor_portal.permissions import can_manage_course, get_managed, instructor_required, refuse_access
from instructor_portal.reminders.checkins import register_answers

bp = Blueprint("attendance", __name__)


def _to_register(session: CourseSession, place_id: int | None = None):
    anchor = f"family-{place_id}" if place_id else None
    return redirect(url_for("attendance.take_register", session_id=session.id, _anchor=anchor))


@bp.get("/sessions/<int:session_id>/register")
@instructor_required
def take_register(session_id: int):
    """Show the session's register, one large control per family."""
    session = get_managed(CourseSession, session_id)
    rows = services.build_register(session)
    forms = {
        row.place.id: MarkForm(
            data={"status": row.mark.status.value if row.mark else None, "note": row.mark.note if row.mark else ""}
        )
        for row in rows
    }
    return render_template(
        "attendance/take_register.html", session=session, rows=rows, forms=forms, said=register_answers(session)
    )


@bp.post("/sessions/<int:session_id>/register/<int:place_id>")
@instructor_required
def mark(session_id: int, place_id: int):
    """Save one family's mark and go back to them on the register."""
    session = get_managed(CourseSession, session_id)
    form = MarkForm()
    if not form.validate():
        flash(" ".join(error for errors in form.errors.values() for error in errors), "error")
        return _to_register(session, place_id)
    try:
        services.mark_attendance(session, place_id, form.status.data, form.note.data or "", by=current_user)
    except services.AttendanceError as error:
        flash(error.message, "error")
    else:
        flash("Mark saved.", "success")
    return _to_register(session, place_id)


@bp.post("/sessions/<int:session_id>/register/everyone-present")
@instructor_required
def mark_everyone_present(session_id: int):
    """Mark every family not yet marked as present, for a quick start."""
    session = get_managed(CourseSession, session_id)
    try:
        count = services.mark_everyone_present(session, by=current_user)
    except services.AttendanceError as error:
        flash(error.message, "error")
    else:
        flash(f"{count} {'family' if count == 1 else 'families'} marked present.", "success")
    return _to_register(session)


@bp.route("/sessions/<int:session_id>/makeups/<int:place_id>", methods=["GET", "POST"])
@instructor_required
def offer_makeup(session_id: int, place_id: int):
    """List the sessions a family who missed this one could come to instead, and offer one."""
    session = get_managed(CourseSession, session_id)
    place = services.register_place(session, place_id) or abort(404)
    now = utcnow()
    form = MakeupOfferForm()
    if form.validate_on_submit():
        target = get_or_404(CourseSession, form.session_id.data)
        try:
            makeups.offer_makeup(session, place, target, by=current_user, now=now)
        except (makeups.MakeupError, BookingError) as error:
            show_domain_error(form, error)
        else:
            flash("Make-up offered. We have emailed the family.", "success")
            return redirect(request.path)
    elif form.errors:
        form.form_errors.extend(error for errors in form.errors.values() for error in errors)
    return render_template(
        "attendance/offer_makeup.html",
        session=session,
        place=place,
        child_name=services.child_name(session.course, place),
        refusal=makeups.makeup_refusal(session, place),
        options=makeups.makeup_options(session, place, now=now),
        history=makeups.place_makeups(place, session),
        form=form,
    ), form_status()


@bp.post("/makeups/<int:makeup_id>/withdraw")
@instructor_required
def withdraw_makeup(makeup_id: int):
    """Take back a make-up offered to a family who missed one of your sessions."""
    makeup = get_or_404(Makeup, makeup_id)
    if not can_manage_course(current_user, makeup.missed_session.course):
        refuse_access(makeup)
    try:
        makeups.withdraw_makeup(makeup, by=current_user)
    except makeups.MakeupError as error:
        flash(error.message, "error")
    else:
        flash("Make-up withdrawn. We have emailed the family.", "success")
    return redirect(url_for("attendance.offer_makeup", session_id=makeup.missed_session_id, place_id=makeup.place_id))


# --- Register exports: the organiser's pages serve the same page through register_pages ---------


def _register_choices() -> dict:
    """Offer an organiser every instructor in the filters, and an instructor none: they export only their own courses."""
    return {"instructors": list_staff() if current_user.role == Role.ORGANISER else None, "venues": list_venues()}


@bp.get("/registers")
@instructor_required
def registers():
    """Show the filters for exporting the registers of the instructor's own courses, and how many rows match."""
    return register_pages.show_registers(**_register_choices())


@bp.post("/registers.<any(csv, xlsx, pdf):fmt>")
@instructor_required
def export_registers(fmt: str):
    """Download the registers of the instructor's own courses that match the filters, as CSV, Excel or PDF."""
    return register_pages.download_registers(fmt, **_register_choices())
