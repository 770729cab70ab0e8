"""Attendance: the register an instructor takes in class, and who came to which session."""
