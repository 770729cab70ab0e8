"""Filters and globals the templates share: money, local times, Markdown, the organisation."""

from datetime import date, datetime

from flask import Flask
from werkzeug.local import LocalProxy

from instructor_portal.markdown import render_markdown
from instructor_portal.money import format_money
from instructor_portal.organisation import get_organisation
from instructor_portal.timezones import to_local


def _local(moment: datetime) -> datetime:
    return to_local(moment, get_organisation().timezone)


def format_date(value: date | datetime | None) -> str:
    """ "Tue 3 Mar 2026" in the organisation's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _local(value)
    return f"{value:%a} {value.day} {value:%b %Y}"


def format_time(value: datetime | None) -> str:
    """ "10:30am" in the organisation's time zone."""
    if value is None:
        return ""
    local = _local(value)
    hour = local.hour % 12 or 12
    return f"{hour}:{local:%M}{'am' if local.hour < 12 else 'pm'}"


def format_datetime(value: datetime | None) -> str:
    return "" if value is None else f"{format_date(value)}, {format_time(value)}"


def money(pence: int | None, currency: str | None = None) -> str:
    if pence is None:
        return ""
    return format_money(pence, currency or get_organisation().currency)


def register(app: Flask) -> None:
    app.jinja_env.filters.update(
        date=format_date, time=format_time, datetime=format_datetime, money=money, markdown=render_markdown
    )
    app.jinja_env.add_extension("jinja2.ext.do")
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def inject_organisation():
        # Read on first use, so a page that never shows it (the database-unavailable page) never asks the database.
        return {"organisation": LocalProxy(get_organisation)}
