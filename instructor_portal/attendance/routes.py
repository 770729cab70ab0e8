"""Taking the register on a phone in class."""

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from instructor_portal.attendance import services
from instructor_portal.attendance.forms import MarkForm
from instructor_portal.catalogue.models import CourseSession
from instructor_portal.db import get_or_404
from instructor_portal.permissions import can_manage_course, instructor_required

bp = Blueprint("attendance", __name__)


def _managed_session(session_id: int) -> CourseSession:
    """The session, if the signed-in user manages its course; otherwise 404, so others' ids reveal nothing."""
    session = get_or_404(CourseSession, session_id)
    if not can_manage_course(current_user, session.course):
        abort(404)
    return session


def _to_register(session: CourseSession, place_id: int | None = None):
    anchor = f"family-{place_id}" if place_id else None
    return redirect(url_for("attendance.take_register", session_id=session.id, _anchor=anchor))


@bp.get("/sessions/<int:session_id>/register")
@instructor_required
def take_register(session_id: int):
    """Show the session's register, one large control per family."""
    session = _managed_session(session_id)
    rows = services.build_register(session)
    forms = {
        row.place.id: MarkForm(data={"status": row.mark.status.value if row.mark else None, "note": row.mark.note if row.mark else ""})
        for row in rows
    }
    return render_template(
        "attendance/take_register.html",
        session=session,
        rows=rows,
        forms=forms,
    )


@bp.post("/sessions/<int:session_id>/register/<int:place_id>")
@instructor_required
def mark(session_id: int, place_id: int):
    """Save one family's mark and go back to them on the register."""
    session = _managed_session(session_id)
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
    session = _managed_session(session_id)
    try:
        count = services.mark_everyone_present(session, by=current_user)
    except services.AttendanceError as error:
        flash(error.message, "error")
    else:
        flash(f"{count} {'family' if count == 1 else 'families'} marked present.", "success")
    return _to_register(session)
