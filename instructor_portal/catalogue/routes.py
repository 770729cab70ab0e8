"""Public pages: home, the class catalogue, course pages and the instructor directory."""

from flask import Blueprint, abort, current_app, render_template, request, send_file

from instructor_portal.booking.services import booking_closed_reason
from instructor_portal.catalogue import services
from instructor_portal.catalogue.cache import cached_for_visitors
from instructor_portal.catalogue.forms import ChildAgeForm, CourseFilterForm
from instructor_portal.clock import utcnow
from instructor_portal.uploads import get_storage

bp = Blueprint("catalogue", __name__)

#: Courses shown on the home page.
HOME_COURSES = 3
#: How long browsers and shared caches may keep a photo; a changed photo has a new address.
PHOTO_CACHE_SECONDS = 24 * 3600

bp.add_app_template_filter(services.describe_age_rule, "age_rule")


@bp.get("/")
@cached_for_visitors
def index():
    """Welcome families and show the next few courses."""
    return render_template("catalogue/index.html", listings=services.upcoming_courses(limit=HOME_COURSES))


@bp.get("/classes")
@cached_for_visitors
def classes():
    """List upcoming courses matching the family's filters, a page at a time."""
    form = CourseFilterForm(request.args)
    form.validate()
    page = services.search_courses(
        form.filters(), page=request.args.get("page", 1, type=int), per_page=current_app.config["CATALOGUE_PAGE_SIZE"]
    )
    return render_template(
        "catalogue/classes.html", form=form, page=page, query=form.query_args(), child_query=form.query_args("born", "due")
    )


@bp.get("/classes/<int:course_id>")
@cached_for_visitors
def course(course_id: int):
    """Show a course with its sessions, venue and who it is for, and check a child's age against it."""
    listing = services.get_public_course(course_id)
    if listing is None:
        abort(404)
    form = ChildAgeForm(request.args)
    form.validate()
    born, due = form.child()
    eligibility = services.check_course_eligibility(listing, born=born, due=due) if born else None
    return render_template(
        "catalogue/course.html",
        listing=listing,
        form=form,
        eligibility=eligibility,
        instructor_is_listed=services.is_listed_instructor(listing.course.instructor),
        booking_closed=booking_closed_reason(listing.course, now=utcnow()),
    )


@bp.get("/instructors")
@cached_for_visitors
def instructors():
    """List the instructors with their upcoming courses."""
    return render_template("catalogue/instructors.html", instructors=services.list_instructors())


@bp.get("/instructors/<int:user_id>/photo")
def instructor_photo(user_id: int):
    """Serve a listed instructor's photo; the address carries the photo's id, so a new photo is a new address."""
    photo = services.get_public_photo(user_id)
    if photo is None:
        abort(404)
    response = send_file(get_storage().open(photo.key), mimetype=photo.content_type, max_age=PHOTO_CACHE_SECONDS)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.get("/instructors/<int:user_id>")
@cached_for_visitors
def instructor(user_id: int):
    """Show an instructor's public profile and upcoming courses."""
    entry = services.get_public_instructor(user_id)
    if entry is None:
        abort(404)
    return render_template("catalogue/instructor.html", entry=entry)
