"""The shape every report section shares: typed columns and rows, shown as a page table, a chart and a CSV file."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from instructor_portal.money import to_pounds
from instructor_portal.spreadsheets import spreadsheet_safe


class Kind(StrEnum):
    """How a column's values read: the page, the CSV and the chart each format them from this."""

    TEXT = "text"
    COUNT = "count"
    PERCENT = "percent"
    MONEY = "money"
    DATE = "date"


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind = Kind.COUNT


@dataclass(frozen=True)
class Table:
    """Rows of numbers under a header; a percentage is None where there is nothing to divide by."""

    columns: tuple[Column, ...]
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    #: What each row is, for a table of details below the chart: "Each course".
    title: str = ""

    def column(self, label: str) -> list[Any]:
        """The values of the column headed ``label``, in row order."""
        index = [c.label for c in self.columns].index(label)
        return [row[index] for row in self.rows]


def rate(part: int, whole: int) -> float | None:
    """``part`` as a percentage of ``whole`` to one decimal place, or None when ``whole`` is nothing."""
    return round(100 * part / whole, 1) if whole else None


def month_of(moment: datetime | date) -> str:
    """The month a course started in, as the charts label it: "Mar 2027"."""
    return moment.strftime("%b %Y")


def by_month(
    rows: Iterable[tuple[datetime | date, Sequence[int]]], columns: tuple[Column, ...], derive: Callable | None = None
) -> Table:
    """Add up each row's counts under the local month it started in, months in order.

    ``rows`` are (start, counts) with start local; ``derive`` turns a month's totals into the
    table's remaining columns, such as a rate.
    """
    totals: dict[tuple[int, int], list[int]] = {}
    labels: dict[tuple[int, int], str] = {}
    for start, counts in rows:
        key = (start.year, start.month)
        labels[key] = month_of(start)
        month = totals.setdefault(key, [0] * len(counts))
        for index, value in enumerate(counts):
            month[index] += value
    return Table(
        columns, [(labels[key], *counts, *(derive(counts) if derive else ())) for key, counts in sorted(totals.items())]
    )


def csv_cell(value: Any, kind: Kind) -> str:
    """A value as the CSV writes it: money in decimal pounds, dates ISO 8601, typed text safe from formulas."""
    if value is None:
        return ""
    if kind == Kind.MONEY:
        return f"{to_pounds(value):.2f}"
    if kind == Kind.DATE:
        return value.isoformat()
    if kind == Kind.TEXT:
        return spreadsheet_safe(str(value))
    return str(value)


def table_csv(table: Table) -> str:
    """The table as CSV text, with a header row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column.label for column in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(value, column.kind) for value, column in zip(row, table.columns, strict=True)])
    return buffer.getvalue()
