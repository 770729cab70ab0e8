"""Calendar feeds: the private address a calendar app subscribes to, and the account's buttons that make or stop it."""

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from instructor_portal.calendar_feeds import services
from instructor_portal.calendar_feeds.feeds import feed_calendar
from instructor_portal.extensions import limiter

bp = Blueprint("calendar_feeds", __name__)


def _feed_rate_limit() -> str:
    return current_app.config["CALENDAR_FEED_RATE_LIMIT"]


def _miss_rate_limit() -> str:
    return current_app.config["CALENDAR_FEED_MISS_RATE_LIMIT"]


def _one_feed() -> str:
    # Keyed by the secret's hash, so the limiter's storage holds no working address either.
    return f"calendar-feed:{services.secret_hash(request.view_args['secret'])}"


@bp.get("/calendar/<secret>.ics")
@limiter.limit(_feed_rate_limit, key_func=_one_feed)
# Addresses that match no feed, counted per client address, so guessing soon stops.
@limiter.limit(_miss_rate_limit, deduct_when=lambda response: response.status_code == 404)
def feed(secret: str):
    """Serve a person's private calendar feed to their calendar app; an unknown address is a plain 404."""
    found = services.find_feed(secret)
    if found is None:
        abort(404)
    response = Response(feed_calendar(found), mimetype="text/calendar")
    response.cache_control.private = True
    response.cache_control.max_age = current_app.config["CALENDAR_FEED_CACHE_SECONDS"]
    response.add_etag()
    return response.make_conditional(request)


@bp.post("/account/calendar-feed")
@login_required
def issue():
    """Make the person's calendar feed address, or a new one in place of the old, and show it this once."""
    try:
        address = services.issue_feed(current_user)
    except services.FeedError as error:
        return _refused(error)
    return render_template("calendar_feeds/address.html", address=address)


@bp.post("/account/calendar-feed/off")
@login_required
def revoke():
    """Turn the person's calendar feed off; its address stops working at once."""
    try:
        services.revoke_feed(current_user)
    except services.FeedError as error:
        return _refused(error)
    flash("Your calendar feed is off. Calendars subscribed to it will no longer update.", "success")
    return redirect(url_for("accounts.overview", _anchor="calendar-feed"))


def _refused(error: services.FeedError):
    flash(error.message, "error")
    return render_template("accounts/overview.html", calendar_feed=services.feed_of(current_user)), 422
