"""The shared neutraliser that keeps typed text from running as a spreadsheet formula."""

import pytest

from instructor_portal.spreadsheets import spreadsheet_safe


@pytest.mark.parametrize(
    ("typed", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+44 117", "'+44 117"),
        ("-5", "'-5"),
        ("@cmd", "'@cmd"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("\n=1", "'\n=1"),
        ("\x00=1", "'\x00=1"),
        ("\x1b[31m", "'\x1b[31m"),
        ("\x7f=1", "'\x7f=1"),
        ("Line one\nline two", "Line one\nline two"),
        ("Missed a session", "Missed a session"),
        ("", ""),
    ],
)
def test_spreadsheet_safe(typed, safe):
    assert spreadsheet_safe(typed) == safe
