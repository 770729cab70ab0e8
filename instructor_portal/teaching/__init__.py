from flask import Blueprint

bp = Blueprint("teaching", __name__)

from instructor_portal.teaching import routes  # noqa: E402,F401  (registers the views on bp)
