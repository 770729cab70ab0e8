"""Sign-in and role guards, named for the people in the domain."""

from functools import wraps

from flask import abort
from flask_login import current_user

from instructor_portal.accounts.models import Role
from instructor_portal.catalogue.models import Course
from instructor_portal.db import get_or_404
from instructor_portal.extensions import login_manager


def roles_required(*roles: Role):
    """Send anonymous visitors to sign in and refuse (403) anyone without one of ``roles``."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator


parent_required = roles_required(Role.PARENT)
instructor_required = roles_required(Role.INSTRUCTOR, Role.ORGANISER)
organiser_required = roles_required(Role.ORGANISER)


def can_manage_course(user, course) -> bool:
    """Organisers manage every course; an instructor only their own."""
    return user.is_authenticated and (user.role == Role.ORGANISER or course.instructor_id == user.id)


def get_managed_course(course_id: int) -> Course:
    """The course, if the signed-in user may manage it; otherwise 404, so others' ids reveal nothing."""
    course = get_or_404(Course, course_id)
    if not can_manage_course(current_user, course):
        abort(404)
    return course
