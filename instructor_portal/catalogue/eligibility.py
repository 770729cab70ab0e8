"""Whether a child is the right age for a course: ages in weeks or months, by corrected age for babies born early, and the course's age rule in words."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from instructor_portal.catalogue.models import AgeUnit, Track
from instructor_portal.organisation import get_organisation


class AgeRule(Protocol):
    """What eligibility needs of a course: a Course, or a row with the same named columns."""

    track: Track
    age_unit: AgeUnit
    age_min: int | None
    age_max: int | None
    uses_corrected_age: bool


@dataclass(frozen=True)
class Eligibility:
    """Whether a child may join a course, the age that decided it and why, in plain words."""

    eligible: bool
    reason: str
    #: Completed weeks or months (the course's ``age_unit``) at the first session; None if not yet born.
    age: int | None
    unit: AgeUnit
    #: True when ``age`` is the corrected age, counted from the due date.
    corrected: bool = False


def age_in_weeks(born: date, on: date) -> int:
    """Return the completed weeks between ``born`` and ``on`` (0 before ``born``)."""
    return max(0, (on - born).days // 7)


def age_in_months(born: date, on: date) -> int:
    """Return the completed calendar months between ``born`` and ``on`` (0 before ``born``).

    A child born on a day the current month lacks (the 31st, 29 February) turns a month
    older on that month's last day.
    """
    months = (on.year - born.year) * 12 + (on.month - born.month)
    monthly_birthday = min(born.day, calendar.monthrange(on.year, on.month)[1])
    if on.day < monthly_birthday:
        months -= 1
    return max(0, months)


def age_in_units(born: date, on: date, unit: AgeUnit) -> int:
    """Return the completed weeks or months between ``born`` and ``on``."""
    return age_in_weeks(born, on) if unit == AgeUnit.WEEKS else age_in_months(born, on)


def format_age(value: int, unit: AgeUnit) -> str:
    """Say an age as families do: "1 week", "9 months", "under 1 month", "7 years"."""
    if value == 0:
        return f"under 1 {unit.value[:-1]}"
    if unit == AgeUnit.MONTHS and value >= 24 and value % 12 == 0:
        return f"{value // 12} years"
    return f"{value} {unit.value[:-1] if value == 1 else unit.value}"


def _is_for_children(course: AgeRule) -> bool:
    oldest_in_months = (
        None
        if course.age_max is None
        else (course.age_max if course.age_unit == AgeUnit.MONTHS else course.age_max * 12 // 52)
    )
    return course.track == Track.ADOPTIVE_FOSTER or (oldest_in_months is not None and oldest_in_months > 24)


def _age_range(course: AgeRule) -> str:
    """ "babies from 6 weeks to 40 weeks", "children from birth to 7 years", "babies up to 12 months"."""
    noun = "children" if _is_for_children(course) else "babies"
    low, high, unit = course.age_min, course.age_max, course.age_unit
    start = "" if low is None else (" from birth" if low == 0 else f" from {format_age(low, unit)}")
    if high is None:
        return f"{noun}{start}"
    return f"{noun}{start} to {format_age(high, unit)}" if start else f"{noun} up to {format_age(high, unit)}"


def _cutoff(corrected_age_cutoff_months: int | None) -> int:
    if corrected_age_cutoff_months is None:
        return get_organisation().corrected_age_cutoff_months
    return corrected_age_cutoff_months


def describe_age_rule(course: AgeRule, *, corrected_age_cutoff_months: int | None = None) -> str:
    """Return who a course is for in plain words, as shown on the catalogue and course pages."""
    if course.track == Track.ANTENATAL:
        return "For expectant parents, before the baby is born."
    if course.age_min is None and course.age_max is None:
        return "All ages welcome."
    rule = f"For {_age_range(course)} old at the first session."
    if course.uses_corrected_age:
        cutoff = format_age(_cutoff(corrected_age_cutoff_months), AgeUnit.MONTHS)
        rule += (
            " For a baby born early we use their corrected age (counted from their due date"
            f" rather than their birthday) until they are {cutoff} old."
        )
    return rule


def check_eligibility(
    course: AgeRule,
    *,
    born: date,
    due: date | None = None,
    first_session_date: date,
    corrected_age_cutoff_months: int | None = None,
) -> Eligibility:
    """Decide whether a child born (or due) on ``born`` may join ``course`` at its first session.

    Rules: a child not yet born on ``first_session_date`` may join only antenatal courses,
    including over courses with no age range, because every other course is for a parent
    and child together; a born child may not join an antenatal course. Otherwise the age in
    completed units must lie within ``age_min``..``age_max`` (both inclusive, either may be
    open). Corrected age (from ``due``, never below zero) replaces the birth age only when
    the course uses it, ``due`` is after ``born`` and the child is younger than the
    organisation's cut-off at the first session; ``corrected_age_cutoff_months`` overrides
    that setting.
    """
    unit = course.age_unit
    if born > first_session_date:
        if course.track == Track.ANTENATAL:
            return Eligibility(
                True,
                "Your baby is due after the first session, so this course for expectant parents suits you.",
                None,
                unit,
            )
        return Eligibility(
            False,
            "Your baby will not be born yet at the first session; this course is for babies who are already here. "
            "Antenatal courses are for expectant parents.",
            None,
            unit,
        )
    corrected = (
        course.uses_corrected_age
        and due is not None
        and due > born
        and age_in_months(born, first_session_date) < _cutoff(corrected_age_cutoff_months)
    )
    age = age_in_units(due if corrected and due else born, first_session_date, unit)
    if course.track == Track.ANTENATAL:
        return Eligibility(
            False,
            "This course is for expectant parents, and your baby will already be born by the first session.",
            age,
            unit,
            corrected,
        )
    if course.age_min is None and course.age_max is None:
        return Eligibility(True, "This course welcomes babies and children of any age.", age, unit, corrected)
    eligible = (course.age_min is None or age >= course.age_min) and (course.age_max is None or age <= course.age_max)
    whose = "Your child's" if _is_for_children(course) else "Your baby's"
    which = "corrected age" if corrected else "age"
    joiner = ", and" if eligible else ";"
    reason = (
        f"{whose} {which} at the first session will be {format_age(age, unit)}{joiner} "
        f"this course is for {_age_range(course)}."
    )
    return Eligibility(eligible, reason, age, unit, corrected)
