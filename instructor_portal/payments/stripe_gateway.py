"""The only module that talks to Stripe: Checkout Sessions, refunds, events and webhook signatures."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import stripe
from flask import current_app

from instructor_portal.locks import check_no_locks_held

#: How far a webhook's signed time may be from ours, either way (Stripe's own default).
WEBHOOK_TOLERANCE_SECONDS = 300
_SIGNED_AT = re.compile(r"(?:^|,)\s*t=(\d+)")


class GatewayError(Exception):
    """Stripe refused the request; retrying the same request will not help."""


class GatewayUnavailable(Exception):
    """Stripe could not be reached or failed on its side; the same request may work later."""


class BadSignature(Exception):
    """A webhook was refused; ``reason`` says why in a word: signature, timestamp or payload."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


_TRANSIENT = (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError)


@dataclass(frozen=True)
class StripeGateway:
    """A configured Stripe client; create it with ``gateway()``."""

    client: stripe.StripeClient
    webhook_secrets: tuple[str, ...]
    #: Whether the key is a live one; events from the other mode are not ours to act on.
    livemode: bool

    def _call(self, method, *args, **kwargs) -> dict[str, Any]:
        check_no_locks_held("A call to Stripe")
        try:
            return method(*args, **kwargs).to_dict()
        except _TRANSIENT as error:
            raise GatewayUnavailable(str(error)) from error
        except stripe.StripeError as error:
            raise GatewayError(error.user_message or str(error)) from error

    def create_checkout_session(
        self,
        *,
        amount_pence: int,
        currency: str,
        description: str,
        reference: str,
        metadata: dict[str, str],
        customer_email: str,
        success_url: str,
        cancel_url: str,
        expires_at: datetime,
        idempotency_key: str,
    ) -> dict[str, Any]:
        """Open a Checkout Session for one amount, decided by us, never by the browser."""
        params = {
            "mode": "payment",
            "line_items": [
                {
                    "quantity": 1,
                    "price_data": {
                        "currency": currency.lower(),
                        "unit_amount": amount_pence,
                        "product_data": {"name": description},
                    },
                }
            ],
            "client_reference_id": reference,
            "metadata": metadata,
            "payment_intent_data": {"metadata": metadata},
            "customer_email": customer_email,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "expires_at": int(expires_at.timestamp()),
        }
        return self._call(self.client.v1.checkout.sessions.create, params, {"idempotency_key": idempotency_key})

    def retrieve_checkout_session(self, session_id: str) -> dict[str, Any]:
        return self._call(self.client.v1.checkout.sessions.retrieve, session_id)

    def expire_checkout_session(self, session_id: str) -> dict[str, Any]:
        return self._call(self.client.v1.checkout.sessions.expire, session_id)

    def refund(
        self, *, payment_intent: str, amount_pence: int, idempotency_key: str, metadata: dict[str, str]
    ) -> dict[str, Any]:
        params = {"payment_intent": payment_intent, "amount": amount_pence, "metadata": metadata}
        return self._call(self.client.v1.refunds.create, params, {"idempotency_key": idempotency_key})

    def list_refunds(self, *, payment_intent: str) -> list[dict[str, Any]]:
        return self._call(self.client.v1.refunds.list, {"payment_intent": payment_intent, "limit": 100})["data"]

    def recent_events(self, *, types: list[str], since: datetime) -> Iterator[dict[str, Any]]:
        """Every event of ``types`` created since ``since``, oldest first."""
        params: dict[str, Any] = {"types": types, "created": {"gte": int(since.timestamp())}, "limit": 100}
        events: list[dict[str, Any]] = []
        while True:
            page = self._call(self.client.v1.events.list, params)
            events.extend(page["data"])
            if not page.get("has_more") or not page["data"]:
                break
            params["starting_after"] = page["data"][-1]["id"]
        return iter(reversed(events))

    def verify_webhook(self, payload: bytes, signature: str) -> dict[str, Any]:
        """Check the signature against each signing secret in turn (several during a rotation), and its time.

        The library refuses only signatures that are too old; one signed too far in the
        future is refused here as well, so a captured request cannot be replayed later.
        """
        signed_at = _SIGNED_AT.search(signature)
        if signed_at is None:
            raise BadSignature("The Stripe-Signature header has no timestamp.", reason="signature")
        skew = round(time.time() - int(signed_at.group(1)))
        if abs(skew) > WEBHOOK_TOLERANCE_SECONDS:
            raise BadSignature(
                f"The webhook was signed {abs(skew)} seconds {'ago' if skew > 0 else 'ahead'}.", reason="timestamp"
            )
        for secret in self.webhook_secrets:
            try:
                event = stripe.Webhook.construct_event(
                    payload, signature, secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
                ).to_dict()
            except stripe.SignatureVerificationError:
                continue
            except ValueError as error:  # not JSON
                raise BadSignature("The webhook body is not valid JSON.", reason="payload") from error
            if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
                raise BadSignature("The webhook body is not a Stripe event.", reason="payload")
            return event
        raise BadSignature("The webhook signature matches none of our signing secrets.", reason="signature")


def gateway() -> StripeGateway | None:
    """The Stripe gateway for this app, or None when no Stripe key is configured (card payment is then not offered)."""
    config = current_app.config
    if not config.get("STRIPE_SECRET_KEY"):
        return None
    base = {"api": config["STRIPE_API_BASE"]} if config.get("STRIPE_API_BASE") else None
    key = config["STRIPE_SECRET_KEY"]
    client = stripe.StripeClient(
        key,
        base_addresses=base,
        max_network_retries=config["STRIPE_MAX_RETRIES"],
        http_client=stripe.new_default_http_client(timeout=config["STRIPE_TIMEOUT"]),
    )
    return StripeGateway(
        client, tuple(config["STRIPE_WEBHOOK_SECRETS"]), livemode=key.startswith(("sk_live_", "rk_live_"))
    )
