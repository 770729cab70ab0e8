"""The reports page and its CSV files through the client: who may see them, charts with tables, and refused filters."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.organisation import local_today
from tests import factories
from tests.conftest import text


def started(days_ago: int) -> datetime:
    return (datetime.now(UTC) - timedelta(days=days_ago)).replace(hour=10, minute=0, second=0, microsecond=0)


@pytest.mark.parametrize(("role", "status"), [(None, 302), ("parent", 403), ("instructor", 403), ("organiser", 200)])
def test_only_organisers_see_the_reports(client, login_as, role, status):
    if role:
        login_as(role)
    assert client.get("/organiser/reports").status_code == status
    assert client.get("/organiser/reports/fill-rate.csv").status_code == status
    assert client.get("/organiser/reports/funder").status_code == status


def test_each_section_has_a_labelled_chart_and_a_table_of_the_same_numbers(client, login_as):
    course = factories.make_course(title="Tuesday mornings", places=4, first_session=started(3))
    factories.make_booking(course)
    login_as("organiser")
    response = client.get("/organiser/reports")
    body = text(response)
    assert response.status_code == 200
    assert 'href="/organiser/reports"' in body  # the sub-navigation's entry
    chart = re.search(r'<svg[^>]*class="pygal-chart report-chart"[^>]*>.*?</svg>', body, re.S).group(0)
    opening = chart[: chart.index(">") + 1]
    assert 'role="img"' in opening and "aria-labelledby=" in opening and 'viewBox="0 0 800 380"' in opening
    assert "<title" in chart and "Fill rate: Places, Booked" in chart
    # Nothing the content security policy would block: no scripts and no inline styles.
    assert "<script" not in chart and "<style" not in chart and "style=" not in chart
    assert "Tuesday mornings" in body and "25.0%" in body
    assert "Nothing to show for these courses." in body  # no money, referrals, waiting list or make-ups yet


def test_a_csv_download_carries_the_pages_filters(client, login_as):
    factories.make_course(title="Old course", first_session=started(300))
    factories.make_course(title="New course", first_session=started(3))
    login_as("organiser")
    since = (local_today() - timedelta(days=30)).isoformat()
    body = text(client.get(f"/organiser/reports?date_from={since}"))
    assert f"/organiser/reports/fill-rate.csv?date_from={since}" in body
    response = client.get(f"/organiser/reports/fill-rate.csv?date_from={since}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert "New course" in text(response) and "Old course" not in text(response)


def test_an_unknown_csv_is_not_found(client, login_as):
    login_as("organiser")
    assert client.get("/organiser/reports/everything.csv").status_code == 404


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2027-03-02&date_to=2027-03-01", "This date must be on or after the &#34;From&#34; date."),
        ("date_from=2020-01-01&date_to=2026-01-01", "Choose a range of 5 years or less."),
        ("date_from=31/02/2027", "Enter a real date, such as 14/03/2027."),
        ("track=swimming", "Choose a track from the list."),
        ("instructor=999999", "Choose an instructor from the list."),
    ],
)
def test_refused_filters_get_a_message_and_leave_the_report_as_it_was(client, login_as, query, message):
    factories.make_course(title="In the default range", first_session=started(3))
    login_as("organiser")
    for url in (f"/organiser/reports?{query}", f"/organiser/reports/fill-rate.csv?{query}"):
        response = client.get(url)
        body = text(response)
        assert response.status_code == 422
        assert message in body
        assert "the report below is unchanged" in body and "In the default range" in body
