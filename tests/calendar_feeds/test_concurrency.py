"""Clicks at the same moment (a double click, two windows) leave one feed whose address is one of those shown."""

from instructor_portal.accounts.models import User
from instructor_portal.calendar_feeds import services
from instructor_portal.calendar_feeds.models import CalendarFeed
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import count, race

RACERS = 6


def test_making_a_feed_several_times_at_once_leaves_one_feed_and_refuses_the_rest_politely(app, racing_app):
    user_id = factories.make_user().id
    shown: list[str] = []

    def attempt(_n: int) -> str:
        try:
            shown.append(services.issue_feed(db.session.get(User, user_id)).url)
        except services.FeedError as error:
            return error.message
        return "made"

    outcomes = race(racing_app, attempt, [(n,) for n in range(RACERS)])

    assert set(outcomes) <= {"made", "Your calendar feed was changed at the same moment elsewhere. Please try again."}
    assert outcomes["made"] >= 1
    assert count(CalendarFeed) == 1
    stored = db.session.scalars(db.select(CalendarFeed.secret_hash)).one()
    working = [url for url in shown if services.secret_hash(url.rsplit("/", 1)[1].removesuffix(".ics")) == stored]
    assert len(working) == 1
