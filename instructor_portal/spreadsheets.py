"""Typed text in exported files: a cell a user typed must never run as a spreadsheet formula."""

#: A spreadsheet reads a cell starting with one of these as a formula (OWASP "CSV injection"); a
#: control character at the start (tab, CR, LF, NUL and the rest) is refused too, since some
#: spreadsheets skip over it to a formula behind it.
FORMULA_PREFIXES = ("=", "+", "-", "@", *(chr(code) for code in (*range(32), 127)))
# Each prefix is one character, so a set look-up of the first one is the check: the exports call it for every cell.
_FORMULA_STARTS = frozenset(FORMULA_PREFIXES)


def looks_like_formula(value: str) -> bool:
    """Tell whether a spreadsheet would read the text as the start of a formula."""
    return value[:1] in _FORMULA_STARTS


def spreadsheet_safe(value: str) -> str:
    """Prefix an apostrophe to typed text a spreadsheet would otherwise run as a formula."""
    return f"'{value}" if value[:1] in _FORMULA_STARTS else value
