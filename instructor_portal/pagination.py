"""A page of a long list, and how to keep a requested page number within range: shared by every paginated list."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of results, with what the pagination macro needs."""

    items: list[T]
    number: int
    pages: int
    total: int

    @property
    def has_prev(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_bounds(requested: int, total: int, per_page: int) -> tuple[int, int]:
    """Return the page to show (the one asked for, kept within range) and how many pages ``total`` items fill."""
    pages = max(1, math.ceil(total / per_page))
    return min(max(1, requested), pages), pages
