"""Public pages: home, the class catalogue, course pages and the instructor directory."""

from flask import render_template

from instructor_portal.catalogue import bp


@bp.get("/")
def index():
    """Show the home page."""
    return render_template("catalogue/index.html")


@bp.get("/classes")
def classes():
    """List upcoming courses with filters."""
    return render_template("catalogue/classes.html")


@bp.get("/instructors")
def instructors():
    """List instructors with their upcoming courses."""
    return render_template("catalogue/instructors.html")
