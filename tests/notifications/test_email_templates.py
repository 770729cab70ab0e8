"""Every email, rendered with demo-like data: the text and HTML parts tell the same, in the one layout, with its footer."""

import html
import re
from pathlib import Path

import pytest
from jinja2 import DebugUndefined

from instructor_portal.notifications.layout import render_email
from tests.notifications.email_samples import SAMPLES, build_world

EMAILS = Path(__file__).parents[2] / "templates" / "emails"
#: Every email template: a pair of fragments; files starting with "_" are the layout and shared parts.
TEMPLATES = sorted({path.stem for path in EMAILS.glob("[!_]*.*")})

LINK = re.compile(r"https?://[^\s<>\"')]+")
AMOUNT = re.compile(r"£[\d,]+\.\d\d")
DAY = re.compile(r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}\b")
TIME = re.compile(r"\b\d{1,2}:\d\d(?:am|pm)\b")
REFERENCE = re.compile(r"\b[A-Z0-9]{8}\b")


@pytest.fixture
def world(app):
    # A variable missing from a sample renders as "{{ name }}", which the checks below catch.
    usual, app.jinja_env.undefined = app.jinja_env.undefined, DebugUndefined
    yield build_world()
    app.jinja_env.undefined = usual


def visible_text(part: str) -> str:
    """The words a reader of the HTML part sees."""
    body = re.sub(r"<(head|style)\b.*?</\1>", " ", part, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", body))


def html_links(part: str) -> set[str]:
    return {html.unescape(href) for href in re.findall(r'href="(https?://[^"]+)"', part)}


def facts(text: str) -> set[str]:
    return {match for pattern in (AMOUNT, DAY, TIME, REFERENCE) for match in pattern.findall(text)}


def test_every_template_is_a_pair_with_sample_data():
    missing_pair = [
        name for name in TEMPLATES if not all((EMAILS / f"{name}.{part}").exists() for part in ("txt", "html"))
    ]
    assert missing_pair == [], f"Each email needs both a .txt and an .html part: {missing_pair}"
    missing = [name for name in TEMPLATES if name not in SAMPLES]
    assert missing == [], f"Add sample data for {missing} to tests/notifications/email_samples.py"


@pytest.mark.parametrize("name", TEMPLATES)
def test_the_two_parts_match_and_carry_the_layout_and_footer(world, name):
    if name not in SAMPLES:
        pytest.fail(f"emails/{name} has no sample data: add it to SAMPLES in tests/notifications/email_samples.py")
    text, page = render_email(name, SAMPLES[name](world))
    seen = visible_text(page)
    for part in (text, seen):
        assert "{{" not in part and "{%" not in part, f"unrendered Jinja in emails/{name}"
        assert "None" not in part, f"'None' shown in emails/{name}"
        assert part.count(world.organisation.name) >= 2, "the name at the top and in the footer"
        assert "You are getting this email because" in part
        assert world.organisation.contact_email in part and world.organisation.contact_phone in part
        assert "12 Gloucester Road" in part
    assert set(LINK.findall(text)) == html_links(page), f"emails/{name} links differ between its parts"
    assert facts(text) == facts(seen), f"emails/{name} amounts, dates or references differ between its parts"
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    assert 'style="max-width:600px;' in page  # one narrow column, with the styles inline


def test_a_booking_email_says_why_and_how_to_stop_reminders(world):
    text, page = render_email("booking_confirmed", SAMPLES["booking_confirmed"](world))
    booking_page = f"/account/bookings/{world.booking.id}"
    assert f"a place on {world.course.title} is booked for your family" in text
    assert "To stop reminders for this booking, turn them off on your booking page" in text
    footer = text.split("\n--\n")[-1]
    assert any(link.endswith(booking_page) for link in LINK.findall(footer))
    assert re.search(rf'href="https?://[^"]+{booking_page}"[^>]*>your booking page</a>', page)


def test_an_email_about_an_account_says_why_and_offers_no_reminders_link(world):
    text, page = render_email("password_reset", SAMPLES["password_reset"](world))
    assert "because someone asked to reset your password." in text
    assert "reminders" not in text and "reminders" not in visible_text(page)
