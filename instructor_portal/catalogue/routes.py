"""Public pages: home, the class catalogue, course pages and the instructor directory."""

from flask import Blueprint, abort, current_app, redirect, render_template, request, send_file, session, url_for
from werkzeug.datastructures import MultiDict

from instructor_portal.booking.rules import booking_closed_reason
from instructor_portal.catalogue import eligibility, finder, services
from instructor_portal.catalogue.cache import cached_for_visitors
from instructor_portal.catalogue.forms import ChildAgeForm, CourseFilterForm, InstructorFinderForm
from instructor_portal.clock import utcnow
from instructor_portal.extensions import csrf
from instructor_portal.organisation import local_today
from instructor_portal.uploads import get_storage
from instructor_portal.waitlist.services import can_join

bp = Blueprint("catalogue", __name__)

#: Courses shown on the home page.
HOME_COURSES = 3
#: How long browsers and shared caches may keep a photo; a changed photo has a new address.
PHOTO_CACHE_SECONDS = 24 * 3600

bp.add_app_template_filter(eligibility.describe_age_rule, "age_rule")


@bp.get("/")
@cached_for_visitors
def index():
    """Welcome families and show the next few courses."""
    return render_template("catalogue/index.html", listings=services.upcoming_courses(limit=HOME_COURSES))


#: The session key keeping the baby's dates a visitor typed into the class finder: a date of birth is
#: personal data, so it never becomes part of an address (and so of browser history and access logs).
CHILD_AGE = "child_age"


def _with_child_age(args) -> MultiDict:
    """The query's filters together with the baby's dates kept in the session."""
    values = MultiDict(args)
    for name in ("born", "due"):
        values.pop(name, None)
        if session.get(CHILD_AGE, {}).get(name):
            values[name] = session[CHILD_AGE][name]
    return values


def _keep_child_age(form: ChildAgeForm) -> None:
    born, due = form.child()
    if born is None:
        session.pop(CHILD_AGE, None)
    else:
        session[CHILD_AGE] = {"born": born.isoformat(), "due": due.isoformat() if due else None}


@bp.route("/classes", methods=["GET", "POST"])
@csrf.exempt  # it only keeps this visitor's own baby's dates; a token would also tie cached pages to one visitor
@cached_for_visitors
def classes():
    """List upcoming courses matching the family's filters, a page at a time; the baby's dates come by POST and stay in the session."""
    if request.method == "POST":
        form = CourseFilterForm(request.form)
        if form.validate() or not (form.born.errors or form.due.errors):
            _keep_child_age(form)
            return redirect(
                url_for("catalogue.classes", **form.query_args("track", "date_from", "date_to", "place", "q"))
            )
    else:
        form = CourseFilterForm(_with_child_age(request.args))
        form.validate()
    page = services.search_courses(
        form.filters(), page=request.args.get("page", 1, type=int), per_page=current_app.config["CATALOGUE_PAGE_SIZE"]
    )
    query = form.query_args("track", "date_from", "date_to", "place", "q")
    html = render_template(
        "catalogue/classes.html", form=form, page=page, query=query, child=form.child()[0] is not None
    )
    return (html, 422) if request.method == "POST" else html  # a GET's page alone, so the cache can keep it


@bp.route("/classes/<int:course_id>", methods=["GET", "POST"])
@csrf.exempt  # as for the class finder: it only keeps this visitor's own baby's dates
@cached_for_visitors
def course(course_id: int):
    """Show a course with its sessions, venue and who it is for, and check a baby's age (sent by POST, kept in the session) against it."""
    listing = services.get_public_course(course_id)
    if listing is None:
        abort(404)
    if request.method == "POST":
        form = ChildAgeForm(request.form)
        if form.validate():
            _keep_child_age(form)
            return redirect(url_for("catalogue.course", course_id=course_id, _anchor="who-heading"))
    else:
        form = ChildAgeForm(_with_child_age({}))
        form.validate()
    born, due = form.child()
    eligibility = services.check_course_eligibility(listing, born=born, due=due) if born else None
    now = utcnow()
    html = render_template(
        "catalogue/course.html",
        listing=listing,
        form=form,
        eligibility=eligibility,
        instructor_is_listed=services.is_listed_instructor(listing.course.instructor),
        booking_closed=booking_closed_reason(listing.course, now=now),
        waitlist_open=can_join(listing.course, now=now) is None,
    )
    return (html, 422) if request.method == "POST" else html  # a GET's page alone, so the cache can keep it


@bp.get("/instructors")
@cached_for_visitors
def instructors():
    """Find instructors by town or postcode and by the kinds of class they teach, with their credentials and next courses."""
    form = InstructorFinderForm(request.args)
    form.validate()
    filters = form.filters()
    return render_template(
        "catalogue/instructors.html",
        form=form,
        instructors=finder.find_instructors(filters),
        searched=bool(filters.place or filters.track),
    )


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
    [entry] = finder.with_credentials([entry], today=local_today())
    return render_template("catalogue/instructor.html", entry=entry)
