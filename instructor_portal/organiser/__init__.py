from flask import Blueprint

bp = Blueprint("organiser", __name__)

from instructor_portal.organiser import routes  # noqa: E402,F401  (registers the views on bp)
