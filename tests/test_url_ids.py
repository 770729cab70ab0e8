"""An id in a URL too large for any row is a 404 on every route, never a database error."""

import re

import pytest

from instructor_portal import create_app
from tests.conftest import post_form

HUGE = "99999999999999999999"
ROUTES = sorted(rule.rule for rule in create_app({"TESTING": True}).url_map.iter_rules() if "<int:" in rule.rule)


@pytest.mark.parametrize("rule", ROUTES)
def test_an_id_beyond_the_database_range_is_not_found(app, client, login_as, rule):
    login_as("organiser")
    path = re.sub(r"<int:[^>]+>", HUGE, rule)
    assert client.get(path).status_code in (404, 405)
    assert post_form(client, path, {}, page="/").status_code in (404, 405)
