"""Organiser: organisation settings, venues and staff, under /organiser."""
