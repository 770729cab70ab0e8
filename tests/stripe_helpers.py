"""Stripe's webhook signing scheme, so tests can send the app webhooks it must accept or refuse."""

from __future__ import annotations

import hashlib
import hmac
import time


def sign_webhook(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """Return the Stripe-Signature header Stripe would send with ``payload``.

    The default timestamp is the real wall clock, not a test's moved clock, because the
    stripe library checks the signature's age against ``time.time()``.
    """
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"
