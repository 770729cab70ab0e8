from flask import Blueprint

bp = Blueprint("booking", __name__)

from instructor_portal.booking import routes  # noqa: E402,F401  (registers the views on bp)
