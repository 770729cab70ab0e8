"""Booking: places on courses, holds, payment choice, cancellation and confirmations."""
