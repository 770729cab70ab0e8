"""Instructor pages: dashboard, courses and their sessions."""

from flask import render_template

from instructor_portal.permissions import instructor_required
from instructor_portal.teaching import bp


@bp.get("")
@instructor_required
def dashboard():
    """Show the instructor their courses."""
    return render_template("teaching/dashboard.html")
