"""The organiser's table of instructors' credentials: what has lapsed, what expires within 60 days, what is missing."""

from flask import render_template

from instructor_portal.organiser.routes import bp
from instructor_portal.permissions import organiser_required
from instructor_portal.teaching.credentials import WATCH_AHEAD, credentials_watch


@bp.get("/credentials")
@organiser_required
def credentials():
    """List instructors' credentials that have lapsed, expire within 60 days or were never recorded."""
    return render_template("organiser/credentials.html", rows=credentials_watch(), ahead=WATCH_AHEAD.days)
