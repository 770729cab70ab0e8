"""Private calendar feeds: each parent's booked sessions and each instructor's teaching sessions, for any calendar app."""
