"""Reminders: an email before each session, and the morning check-in families answer from it."""
