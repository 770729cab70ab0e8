"""Eligibility and corrected age: pure rules, tested without HTTP or a database (except the setting's default)."""

from datetime import date, timedelta

import pytest

from instructor_portal.catalogue.eligibility import (
    age_in_months,
    age_in_weeks,
    check_eligibility,
    describe_age_rule,
    format_age,
)
from instructor_portal.catalogue.models import AgeUnit, Course, Track
from instructor_portal.extensions import db
from instructor_portal.organisation import DEFAULTS, Organisation

CUTOFF = 24
FIRST = date(2026, 3, 10)


def course(**values) -> Course:
    defaults = {
        "track": Track.FAMILY,
        "age_unit": AgeUnit.WEEKS,
        "age_min": 6,
        "age_max": 40,
        "uses_corrected_age": False,
    }
    return Course(**{**defaults, **values})


def check(course_: Course, born: date, due: date | None = None, first: date = FIRST, cutoff: int = CUTOFF):
    return check_eligibility(course_, born=born, due=due, first_session_date=first, corrected_age_cutoff_months=cutoff)


@pytest.mark.parametrize(
    ("born", "on", "weeks"),
    [
        (date(2026, 1, 1), date(2026, 1, 1), 0),
        (date(2026, 1, 1), date(2026, 1, 7), 0),
        (date(2026, 1, 1), date(2026, 1, 8), 1),
        (date(2026, 1, 1), date(2026, 2, 11), 5),
        (date(2026, 1, 1), date(2026, 2, 12), 6),
        (date(2025, 12, 29), date(2026, 1, 5), 1),  # across the new year
        (date(2026, 1, 8), date(2026, 1, 1), 0),  # not yet born: never negative
    ],
)
def test_age_in_weeks_counts_completed_weeks(born, on, weeks):
    assert age_in_weeks(born, on) == weeks


@pytest.mark.parametrize(
    ("born", "on", "months"),
    [
        (date(2026, 1, 15), date(2026, 2, 14), 0),
        (date(2026, 1, 15), date(2026, 2, 15), 1),
        (date(2026, 1, 15), date(2027, 1, 14), 11),
        (date(2026, 1, 15), date(2027, 1, 15), 12),
        # Born on the 31st: a month older on the last day of a shorter month.
        (date(2026, 1, 31), date(2026, 2, 27), 0),
        (date(2026, 1, 31), date(2026, 2, 28), 1),
        (date(2026, 1, 31), date(2026, 3, 30), 1),
        (date(2026, 1, 31), date(2026, 3, 31), 2),
        (date(2026, 1, 31), date(2026, 4, 30), 3),
        (date(2024, 1, 31), date(2024, 2, 28), 0),  # a leap February has a 29th
        (date(2024, 1, 31), date(2024, 2, 29), 1),
        # Born on 29 February.
        (date(2024, 2, 29), date(2024, 3, 28), 0),
        (date(2024, 2, 29), date(2024, 3, 29), 1),
        (date(2024, 2, 29), date(2025, 2, 27), 11),
        (date(2024, 2, 29), date(2025, 2, 28), 12),
        (date(2024, 2, 29), date(2028, 2, 28), 47),
        (date(2024, 2, 29), date(2028, 2, 29), 48),
        (date(2026, 12, 31), date(2027, 1, 30), 0),
        (date(2026, 12, 31), date(2027, 1, 31), 1),
        (date(2026, 3, 1), date(2026, 2, 1), 0),  # not yet born: never negative
    ],
)
def test_age_in_months_counts_completed_calendar_months(born, on, months):
    assert age_in_months(born, on) == months


@pytest.mark.parametrize(
    ("value", "unit", "words"),
    [
        (0, AgeUnit.WEEKS, "under 1 week"),
        (1, AgeUnit.WEEKS, "1 week"),
        (6, AgeUnit.WEEKS, "6 weeks"),
        (0, AgeUnit.MONTHS, "under 1 month"),
        (1, AgeUnit.MONTHS, "1 month"),
        (12, AgeUnit.MONTHS, "12 months"),
        (18, AgeUnit.MONTHS, "18 months"),
        (24, AgeUnit.MONTHS, "2 years"),
        (30, AgeUnit.MONTHS, "30 months"),
        (84, AgeUnit.MONTHS, "7 years"),
    ],
)
def test_format_age_speaks_like_families(value, unit, words):
    assert format_age(value, unit) == words


# --- the age range, at the first session --------------------------------------------------


@pytest.mark.parametrize(
    ("born", "eligible", "age"),
    [
        (FIRST - timedelta(weeks=6), True, 6),  # exactly 6 weeks on the day: in
        (FIRST - timedelta(weeks=6) + timedelta(days=1), False, 5),  # a day short: out
        (FIRST - timedelta(weeks=41) + timedelta(days=1), True, 40),  # 40 weeks and 6 days: still 40
        (FIRST - timedelta(weeks=41), False, 41),
        (FIRST, False, 0),  # born on the day of the first session
    ],
)
def test_week_range_is_inclusive_in_completed_weeks(born, eligible, age):
    result = check(course(age_min=6, age_max=40), born)
    assert (result.eligible, result.age, result.unit, result.corrected) == (eligible, age, AgeUnit.WEEKS, False)


def test_too_young_reason_says_the_age_and_the_rule():
    result = check(course(age_min=8, age_max=None), FIRST - timedelta(weeks=4))
    assert not result.eligible
    assert (
        result.reason == "Your baby's age at the first session will be 4 weeks; this course is for babies from 8 weeks."
    )


def test_eligible_reason_says_the_age_and_the_rule():
    result = check(course(age_min=6, age_max=40), FIRST - timedelta(weeks=10))
    assert result.eligible
    assert (
        result.reason
        == "Your baby's age at the first session will be 10 weeks, and this course is for babies from 6 weeks to 40 weeks."
    )


@pytest.mark.parametrize(
    ("born", "eligible"),
    [
        (date(2025, 3, 10), True),  # 12 months exactly
        (date(2025, 2, 11), True),  # 12 months and 27 days: still 12 completed months
        (date(2025, 2, 10), False),  # 13 months
        (date(2025, 9, 10), True),  # 6 months exactly
        (date(2025, 9, 11), False),  # a day short of 6 months
    ],
)
def test_month_range_is_inclusive_in_completed_months(born, eligible):
    assert check(course(age_unit=AgeUnit.MONTHS, age_min=6, age_max=12), born).eligible is eligible


@pytest.mark.parametrize(("first", "eligible", "age"), [(date(2025, 2, 28), True, 12), (date(2025, 2, 27), False, 11)])
def test_leap_day_baby_turns_a_year_old_on_28_february(first, eligible, age):
    result = check(course(age_unit=AgeUnit.MONTHS, age_min=12, age_max=24), date(2024, 2, 29), first=first)
    assert (result.eligible, result.age) == (eligible, age)


def test_open_ended_ranges():
    baby = FIRST - timedelta(weeks=30)
    assert check(course(age_min=None, age_max=30), baby).eligible
    assert not check(course(age_min=None, age_max=29), baby).eligible
    assert check(course(age_min=30, age_max=None), baby).eligible
    assert (
        check(course(age_min=None, age_max=None), baby).reason == "This course welcomes babies and children of any age."
    )


def test_adoptive_course_talks_about_children_in_years():
    result = check(
        course(track=Track.ADOPTIVE_FOSTER, age_unit=AgeUnit.MONTHS, age_min=0, age_max=84), date(2018, 3, 10)
    )
    assert not result.eligible
    assert result.age == 96
    assert (
        result.reason
        == "Your child's age at the first session will be 8 years; this course is for children from birth to 7 years."
    )


# --- corrected age ------------------------------------------------------------------------

#: Born at 28 weeks' gestation: twelve weeks before the due date.
BORN_EARLY = FIRST - timedelta(weeks=14)
DUE = BORN_EARLY + timedelta(weeks=12)


def test_baby_born_twelve_weeks_early_is_judged_by_corrected_age():
    result = check(course(track=Track.PREMATURE, age_min=8, age_max=None, uses_corrected_age=True), BORN_EARLY, DUE)
    assert (result.eligible, result.age, result.corrected) == (False, 2, True)
    assert (
        result.reason
        == "Your baby's corrected age at the first session will be 2 weeks; this course is for babies from 8 weeks."
    )


def test_corrected_age_is_ignored_when_the_course_does_not_use_it():
    result = check(course(age_min=8, age_max=None), BORN_EARLY, DUE)
    assert (result.eligible, result.age, result.corrected) == (True, 14, False)


def test_birth_age_is_used_when_no_due_date_is_known():
    result = check(course(age_min=8, age_max=None, uses_corrected_age=True), BORN_EARLY)
    assert (result.eligible, result.age, result.corrected) == (True, 14, False)


def test_corrected_age_is_never_negative():
    # Three weeks old, but still nine weeks before the due date.
    result = check(
        course(track=Track.PREMATURE, age_min=0, age_max=26, uses_corrected_age=True),
        FIRST - timedelta(weeks=3),
        FIRST + timedelta(weeks=9),
    )
    assert (result.eligible, result.age, result.corrected) == (True, 0, True)
    assert "corrected age at the first session will be under 1 week" in result.reason


@pytest.mark.parametrize(
    "due_offset", [timedelta(0), timedelta(days=-10)], ids=["due on the birthday", "born after the due date"]
)
def test_due_date_on_or_before_birth_is_ignored(due_offset):
    born = FIRST - timedelta(weeks=7)
    result = check(course(age_min=6, age_max=40, uses_corrected_age=True), born, born + due_offset)
    assert (result.eligible, result.age, result.corrected) == (True, 7, False)


@pytest.mark.parametrize(
    ("born", "corrected", "age"),
    [
        (date(2024, 3, 11), True, 21),  # a day short of 24 months: still corrected (born 3 months early)
        (date(2024, 3, 10), False, 24),  # exactly at the cut-off: birth age
        (date(2024, 2, 10), False, 25),  # over the cut-off
    ],
)
def test_corrected_age_stops_at_the_organisations_cut_off(born, corrected, age):
    due = born + timedelta(weeks=13)
    result = check(course(age_unit=AgeUnit.MONTHS, age_min=0, age_max=22, uses_corrected_age=True), born, due)
    assert (result.corrected, result.age, result.eligible) == (corrected, age, age <= 22)


def test_cut_off_defaults_to_the_organisation_setting(app):
    db.session.add(Organisation(**{**DEFAULTS, "corrected_age_cutoff_months": 3}))
    db.session.commit()
    premature = course(age_min=8, age_max=None, uses_corrected_age=True)
    # Fourteen weeks old is over three months, so the birth age counts.
    result = check_eligibility(premature, born=BORN_EARLY, due=DUE, first_session_date=FIRST)
    assert (result.corrected, result.age, result.eligible) == (False, 14, True)


# --- antenatal and babies not yet born ----------------------------------------------------


@pytest.mark.parametrize(
    ("track", "age_min", "age_max", "eligible"),
    [
        (Track.ANTENATAL, None, None, True),
        (Track.FAMILY, 6, 40, False),
        (Track.FAMILY, None, None, False),  # "all ages" still means a child who is here
        (Track.WORKSHOP, None, None, False),
    ],
)
def test_baby_not_yet_born_fits_only_antenatal_courses(track, age_min, age_max, eligible):
    result = check(course(track=track, age_min=age_min, age_max=age_max), FIRST + timedelta(days=1))
    assert (result.eligible, result.age) == (eligible, None)


def test_born_baby_cannot_join_an_antenatal_course():
    result = check(course(track=Track.ANTENATAL, age_min=None, age_max=None), FIRST)
    assert not result.eligible
    assert "expectant parents" in result.reason


# --- the rule in plain words --------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "words"),
    [
        (
            {"track": Track.ANTENATAL, "age_min": None, "age_max": None},
            "For expectant parents, before the baby is born.",
        ),
        ({"age_min": None, "age_max": None}, "All ages welcome."),
        ({"age_min": 6, "age_max": 40}, "For babies from 6 weeks to 40 weeks old at the first session."),
        ({"age_min": 6, "age_max": None}, "For babies from 6 weeks old at the first session."),
        (
            {"age_unit": AgeUnit.MONTHS, "age_min": None, "age_max": 12},
            "For babies up to 12 months old at the first session.",
        ),
        (
            {"track": Track.ADOPTIVE_FOSTER, "age_unit": AgeUnit.MONTHS, "age_min": 0, "age_max": 84},
            "For children from birth to 7 years old at the first session.",
        ),
        (
            {"track": Track.PREMATURE, "age_min": 0, "age_max": 26, "uses_corrected_age": True},
            "For babies from birth to 26 weeks old at the first session. For a baby born early we use their corrected age"
            " (counted from their due date rather than their birthday) until they are 2 years old.",
        ),
    ],
)
def test_describe_age_rule(values, words):
    assert describe_age_rule(course(**values), corrected_age_cutoff_months=CUTOFF) == words
