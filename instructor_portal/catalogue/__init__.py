"""Catalogue: venues, courses and sessions, and the public pages families browse."""
