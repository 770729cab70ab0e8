"""The one layout every email is sent in: the organisation's name at the top, the message, then a footer.

A template in ``templates/emails`` holds only its message, as a ``.txt`` and an ``.html``
fragment; ``render_email`` puts both inside ``emails/_layout.txt`` and ``emails/_layout.html``,
so a new template gets the layout, the organisation's details and the footer without effort.
The footer says why the email was sent: the caller's ``sent_because`` (a clause that follows
"because"), or, for an email about a booking, the booking itself; an email carrying the
booking's page (``booking_url``) also says that reminders are turned off there.
"""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup

from instructor_portal.organisation import get_organisation


def render_email(template: str, context: dict[str, Any]) -> tuple[str, str]:
    """Render ``emails/<template>.txt`` and ``.html`` inside the shared layout; return (text, html)."""
    footer = _footer(context)
    text = render_template(f"emails/{template}.txt", **context)
    html = render_template(f"emails/{template}.html", **context)
    return (
        render_template("emails/_layout.txt", body=text.strip(), **footer),
        render_template("emails/_layout.html", body=Markup(html.strip()), **footer),
    )


def _footer(context: dict[str, Any]) -> dict[str, Any]:
    booking = context.get("booking")
    because = context.get("sent_because")
    if not because and booking is not None:
        because = f"a place on {booking.course.title} is booked for your family"
    return {
        "sent_because": because or f"you have an account with {get_organisation().name}",
        "reminders_url": context.get("booking_url") if booking is not None else None,
    }
