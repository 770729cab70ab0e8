"""Sign-in and role guards, named for the people in the domain."""

import logging
from functools import wraps
from typing import NoReturn

from flask import abort, flash, redirect, request, url_for
from flask_login import current_user

from instructor_portal.accounts.models import Role
from instructor_portal.catalogue.models import Course
from instructor_portal.db import get_or_404
from instructor_portal.extensions import login_manager

#: Refused attempts at someone else's records, for whoever looks after the service to see.
access_log = logging.getLogger("instructor_portal.access")


def roles_required(*roles: Role):
    """Send anonymous visitors to sign in and refuse (403) anyone without one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            if current_user.needs_two_step and not current_user.has_two_step:
                # Families' details are only for staff who sign in with two steps.
                flash(
                    "Set up two-step sign-in first: instructors and organisers need it to see families' details.",
                    "info",
                )
                return redirect(url_for("accounts.two_step_setup"))
            return view(*args, **kwargs)

        return wrapped

    return decorator


parent_required = roles_required(Role.PARENT)
instructor_required = roles_required(Role.INSTRUCTOR, Role.ORGANISER)
organiser_required = roles_required(Role.ORGANISER)


def can_manage_course(user, course) -> bool:
    """Organisers manage every course; an instructor only their own."""
    return user.is_authenticated and (user.role == Role.ORGANISER or course.instructor_id == user.id)


def refuse_access(row) -> NoReturn:
    """Answer 404 to someone asking for a record that is not theirs to see, and log who asked for which record."""
    user = f"{current_user.role.value} {current_user.id}" if current_user.is_authenticated else "anonymous visitor"
    access_log.warning(
        "Refused %s access to %s %s (%s %s)", user, type(row).__name__, row.id, request.method, request.path
    )
    abort(404)


def get_managed(model, ident: int):
    """A course, or a record on one (a session, a booking), if the signed-in user manages that course; otherwise 404, so others' ids reveal nothing."""
    row = get_or_404(model, ident)
    if not can_manage_course(current_user, row if isinstance(row, Course) else row.course):
        refuse_access(row)
    return row


def get_own(model, ident: int, *, owner_id: str = "parent_id"):
    """A record of the signed-in person's own family (their booking, their child); 404 and a log line for anyone else's."""
    row = get_or_404(model, ident)
    if getattr(row, owner_id) != current_user.id:
        refuse_access(row)
    return row
