"""Making, renewing and turning off a person's private calendar feed, and finding a feed by its address.

The address carries a random secret; only its sha256 is stored, so a copy of the database
holds no working address. That is also why an address is shown once, when it is made: to
add the feed to another calendar, the person makes a new address and the old one stops.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from instructor_portal import audit
from instructor_portal.accounts.models import User
from instructor_portal.calendar_feeds.models import CalendarFeed
from instructor_portal.clock import utcnow
from instructor_portal.errors import DomainError
from instructor_portal.extensions import db
from instructor_portal.locks import unit_of_work
from instructor_portal.notifications.services import absolute_url

#: Bytes of randomness in a feed's secret: far beyond guessing, even without the rate limit.
SECRET_BYTES = 32


class FeedError(DomainError):
    """A calendar feed could not be made or turned off."""


@dataclass(frozen=True)
class FeedAddress:
    """A new feed's address, to show once: as a calendar app subscribes to it, and as a link that opens the app."""

    url: str
    webcal: str
    #: It replaced an older address, which no longer works.
    renewed: bool


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def feed_of(user: User) -> CalendarFeed | None:
    """The person's calendar feed, or None while it is off."""
    return db.session.scalars(select(CalendarFeed).where(CalendarFeed.user_id == user.id)).first()


def find_feed(secret: str) -> CalendarFeed | None:
    """The feed whose address carries ``secret``, with its owner; None for an unknown, revoked or old address."""
    digest = secret_hash(secret)
    feed = db.session.scalars(
        select(CalendarFeed).where(CalendarFeed.secret_hash == digest).options(joinedload(CalendarFeed.user))
    ).first()
    # The index matched the hash; comparing again in constant time keeps the check from resting
    # on how a database compares strings.
    if feed is None or not hmac.compare_digest(feed.secret_hash, digest) or not feed.user.active:
        return None
    return feed


def issue_feed(user: User, *, now: datetime | None = None) -> FeedAddress:
    """Give the person a new feed address, the old one (if any) dead from now; return it, to be shown only now."""
    now = now or utcnow()
    secret = secrets.token_urlsafe(SECRET_BYTES)
    try:
        with unit_of_work():
            feed = feed_of(user)
            action = "calendar_feed.renewed" if feed else "calendar_feed.created"
            if feed is None:
                feed = CalendarFeed(user=user)
                db.session.add(feed)
            feed.secret_hash = secret_hash(secret)
            feed.issued_at = now
            audit.record(user, action, feed)
    except IntegrityError:  # the same person's first feed, made twice at once (a double click)
        raise FeedError("Your calendar feed was changed at the same moment elsewhere. Please try again.") from None
    return _address(secret, renewed=action == "calendar_feed.renewed")


def revoke_feed(user: User) -> None:
    """Turn the person's feed off: its address answers 404 from now."""
    with unit_of_work():
        feed = feed_of(user)
        if feed is None:
            raise FeedError("Your calendar feed is already off.")
        db.session.delete(feed)
        audit.record(user, "calendar_feed.revoked", feed)


def _address(secret: str, *, renewed: bool) -> FeedAddress:
    url = absolute_url("calendar_feeds.feed", secret=secret)
    return FeedAddress(url=url, webcal="webcal://" + url.split("://", 1)[1], renewed=renewed)
