"""Typed text in exported files: a cell a user typed must never run as a spreadsheet formula."""

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def looks_like_formula(value: str) -> bool:
    """Tell whether a spreadsheet would read the text as the start of a formula."""
    return value.startswith(FORMULA_PREFIXES)


def spreadsheet_safe(value: str) -> str:
    """Prefix an apostrophe to typed text a spreadsheet would otherwise run as a formula."""
    return f"'{value}" if looks_like_formula(value) else value
