from flask import Blueprint

bp = Blueprint("catalogue", __name__)

from instructor_portal.catalogue import routes  # noqa: E402,F401  (registers the views on bp)
