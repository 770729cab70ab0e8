"""The ways a family can pay, behind one small interface (pretix's payment providers, cut down)."""

from __future__ import annotations

from dataclasses import dataclass

from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking.models import Booking, PaymentMethod
from instructor_portal.catalogue.models import Course
from instructor_portal.payments import checkout


@dataclass(frozen=True)
class Provider:
    method: PaymentMethod
    #: What the family reads on the payment page.
    description: str

    @property
    def label(self) -> str:
        return self.method.label

    def is_available(self, course: Course) -> bool:
        raise NotImplementedError

    def start(self, booking: Booking) -> str | None:
        """Begin paying: return an address to send the family to, or None once the booking is confirmed here."""
        raise NotImplementedError


class CardCheckout(Provider):
    def is_available(self, course: Course) -> bool:
        return not course.is_free and checkout.card_available()

    def start(self, booking: Booking) -> str | None:
        return checkout.start_checkout(booking)


class Offline(Provider):
    def is_available(self, course: Course) -> bool:
        return self.method in booking_holds.offline_methods(course)

    def start(self, booking: Booking) -> str | None:
        booking_holds.choose_offline_payment(booking, self.method)
        return None


PROVIDERS: tuple[Provider, ...] = (
    CardCheckout(
        PaymentMethod.CARD,
        "Pay now by card on Stripe's secure page. Your place is confirmed as soon as the payment goes through.",
    ),
    Offline(PaymentMethod.PAY_AT_VENUE, "Pay the instructor at the first session. Your place is confirmed now."),
    Offline(
        PaymentMethod.BANK_TRANSFER,
        "Pay by bank transfer, quoting your booking reference. Your place is confirmed now.",
    ),
)


def available_providers(course: Course) -> list[Provider]:
    """The ways to pay that this course offers right now."""
    return [provider for provider in PROVIDERS if provider.is_available(course)]
