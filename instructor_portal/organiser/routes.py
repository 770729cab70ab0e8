"""Organiser pages: overview, venues, instructors and settings."""

from flask import render_template

from instructor_portal.organiser import bp
from instructor_portal.permissions import organiser_required


@bp.get("")
@organiser_required
def dashboard():
    """Show the organiser every course and the people who teach them."""
    return render_template("organiser/dashboard.html")
