"""Organisation settings, venues and instructors, managed by organisers."""

from flask import g

from instructor_portal.extensions import db
from instructor_portal.organiser.models import DEFAULTS, Organisation


def get_organisation() -> Organisation:
    """Return the organisation's settings (cached for the request); defaults until an organiser saves them."""
    if "organisation" not in g:
        organisation = db.session.scalars(db.select(Organisation).order_by(Organisation.id).limit(1)).first()
        g.organisation = organisation or Organisation(**DEFAULTS)
    return g.organisation
