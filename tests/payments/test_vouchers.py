"""Booking with vouchers and the sibling discount: through the service, through the booking page, and in a race."""

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal import locks
from instructor_portal.accounts.models import Child, User
from instructor_portal.audit import AuditEntry
from instructor_portal.booking import cancellation as booking_cancellation
from instructor_portal.booking import holds as booking_holds
from instructor_portal.booking import pricing
from instructor_portal.booking import roster as booking_roster
from instructor_portal.booking import rules as booking_rules
from instructor_portal.booking import services as booking_services
from instructor_portal.booking.capacity import BookingError
from instructor_portal.booking.models import (
    Booking,
    BookingPlace,
    BookingStatus,
    PaymentMethod,
    VoucherKind,
    VoucherRedemption,
)
from instructor_portal.catalogue.models import Course, Track
from instructor_portal.extensions import db
from instructor_portal.notifications.models import OutboxEmail
from instructor_portal.payments.models import Payment
from tests import factories
from tests.conftest import count, post_form, race, text


@pytest.fixture
def course(app):
    """A £45 course with 10% off each extra place for twins or siblings."""
    return factories.make_course(price_pence=4500, sibling_discount_percent=10, places=20)


@pytest.fixture
def twins(app):
    parent = factories.make_user(role="parent")
    return [factories.make_child(parent, first_name=name) for name in ("Ada", "Ben")]


def book(course, children, **options):
    return booking_services.book_places(children[0].parent, course, children, accept_terms=True, **options)


def redemption(booking) -> VoucherRedemption:
    return db.session.scalars(db.select(VoucherRedemption).where(VoucherRedemption.booking_id == booking.id)).one()


# Through the service


def test_twins_get_the_sibling_discount_without_a_code(course, twins):
    booking = book(course, twins)
    assert (booking.amount_pence, booking.discount_pence, booking.status) == (8550, 450, BookingStatus.AWAITING_PAYMENT)
    assert count(VoucherRedemption) == 0


@pytest.mark.parametrize(
    ("kind", "value", "amount", "voucher_discount"),
    [
        (VoucherKind.PERCENT, 25, 6412, 2138),  # 25% of £85.50, rounded half up
        (VoucherKind.FIXED, 1000, 7550, 1000),
        (VoucherKind.FIXED, 20000, 0, 8550),  # capped at what is left
        (VoucherKind.PERCENT, 100, 0, 8550),
        (VoucherKind.FUNDED, 0, 0, 8550),
    ],
)
def test_a_voucher_comes_off_after_the_sibling_discount_and_is_recorded(
    course, twins, kind, value, amount, voucher_discount
):
    voucher = factories.make_voucher(
        code="HV-SOUTHMEAD", kind=kind, value=value, referrer="Health visitor team, Southmead"
    )
    booking = book(course, twins, voucher_code=" hv-southmead ")
    assert (booking.amount_pence, booking.discount_pence) == (amount, 450 + voucher_discount)
    assert (redemption(booking).voucher, redemption(booking).discount_pence) == (voucher, voucher_discount)
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "booking.created")).one()
    assert (entry.data["voucher"], entry.data["discount_pence"]) == ("HV-SOUTHMEAD", 450 + voucher_discount)


def test_a_partial_discount_leaves_the_booking_held_for_payment(course, twins):
    factories.make_voucher(code="TENOFF", kind=VoucherKind.FIXED, value=1000)
    booking = book(course, twins, voucher_code="TENOFF")
    assert (booking.status, booking.payment_method, booking.amount_due_pence) == (
        BookingStatus.AWAITING_PAYMENT,
        None,
        7550,
    )


def test_a_funded_place_is_confirmed_at_once_and_no_payment_is_made(course, twins):
    factories.make_voucher(code="NEONATAL", kind=VoucherKind.FUNDED, referrer="Neonatal outreach team")
    booking = book(course, twins, voucher_code="neonatal")
    assert (booking.status, booking.payment_method, booking.hold_expires_at) == (
        BookingStatus.CONFIRMED,
        PaymentMethod.FUNDED,
        None,
    )
    assert count(Payment) == 0
    assert db.session.scalars(db.select(OutboxEmail.subject)).one().startswith("Your place is confirmed")
    assert booking_roster.payment_status(booking, now=datetime.now(UTC)) == "Funded"
    assert "funded, so there is nothing to refund" in booking_rules.cancellation_terms(booking, now=datetime.now(UTC))


def test_a_free_course_stays_free_and_needs_no_code(app, twins):
    free = factories.make_course(price_pence=0, sibling_discount_percent=10)
    booking = book(free, twins)
    assert (booking.status, booking.payment_method, booking.amount_pence, booking.discount_pence) == (
        BookingStatus.CONFIRMED,
        PaymentMethod.FREE,
        0,
        0,
    )
    factories.make_voucher(code="NEONATAL", kind=VoucherKind.FUNDED)
    other = factories.make_child(twins[0].parent)
    with pytest.raises(BookingError, match="no code is needed"):
        book(free, [other], voucher_code="NEONATAL")
    assert count(VoucherRedemption) == 0


@pytest.mark.parametrize(
    ("voucher_fields", "message"),
    [
        ({"code": "SOMETHING-ELSE"}, "We do not recognise that code."),
        ({"active": False}, "This code is no longer in use."),
        ({"expires_at": datetime.now(UTC) - timedelta(minutes=1)}, "This code has expired."),
        ({"max_uses": 1, "used": True}, "This code has been used up."),
        ({"course": "another"}, "This code is for a different course."),
        ({"track": Track.ADOPTIVE_FOSTER}, "only for courses on the Adoptive, foster and kinship families track"),
    ],
)
def test_a_code_that_cannot_be_used_books_nothing(course, twins, voucher_fields, message):
    fields = {"code": "HV-2026", "kind": VoucherKind.FUNDED, **voucher_fields}
    used = fields.pop("used", False)
    if fields.get("course") == "another":
        fields["course"] = factories.make_course()
    factories.make_voucher(**fields)
    if used:
        book(course, [factories.make_child()], voucher_code="HV-2026")
    bookings, places = count(Booking), booking_rules.places_left(course)
    with pytest.raises(BookingError, match=message) as caught:
        book(course, twins, voucher_code="HV-2026")
    assert caught.value.field == "voucher_code"
    assert (count(Booking), count(VoucherRedemption)) == (bookings, int(used))
    assert booking_rules.places_left(course) == places


def test_a_use_comes_back_when_a_booking_with_the_code_is_cancelled(course, twins):
    factories.make_voucher(code="ONCE", max_uses=1)
    first = book(course, [factories.make_child()], voucher_code="ONCE")
    with pytest.raises(BookingError, match="used up"):
        book(course, twins, voucher_code="ONCE")
    booking_cancellation.cancel_booking(first, by=first.parent)
    assert book(course, twins, voucher_code="ONCE").discount_pence == 450 + 855


def test_a_use_comes_back_when_a_hold_with_the_code_runs_out(course, twins):
    factories.make_voucher(code="ONCE", max_uses=1)
    held = book(course, [factories.make_child()], voucher_code="ONCE")
    later = held.hold_expires_at + timedelta(seconds=1)
    assert book(course, twins, voucher_code="ONCE", now=later).discount_pence == 450 + 855


def test_a_lapsed_hold_is_not_revived_once_its_code_is_used_up(course, twins):
    factories.make_voucher(code="ONCE", max_uses=1)
    held = book(course, [factories.make_child()], voucher_code="ONCE")
    later = held.hold_expires_at + timedelta(seconds=1)
    book(course, twins, voucher_code="ONCE", now=later)
    with pytest.raises(booking_services.BookingError, match="code used on this booking has since been used up"):
        booking_holds.choose_offline_payment(held, PaymentMethod.PAY_AT_VENUE, now=later)
    db.session.rollback()
    db.session.refresh(held)
    assert held.status != BookingStatus.CONFIRMED


def test_quote_prices_places_and_books_nothing(course):
    factories.make_voucher(code="QUARTER", kind=VoucherKind.PERCENT, value=25)
    price = booking_services.quote_places(course, 2, voucher_code="quarter")
    assert (price.list_pence, price.sibling_discount_pence, price.voucher_discount_pence, price.total_pence) == (
        9000,
        450,
        2138,
        6412,
    )
    assert (count(Booking), count(VoucherRedemption)) == (0, 0)
    with pytest.raises(booking_services.BookingError, match="Choose at least one child"):
        booking_services.quote_places(course, 0)


# Through the booking page


def test_the_booking_page_asks_for_a_code_on_paid_courses_only(app, client, login_as):
    parent = login_as("parent")
    factories.make_child(parent)
    paid, free = factories.make_course(sibling_discount_percent=10), factories.make_course(price_pence=0)
    page = text(client.get(f"/classes/{paid.id}/book"))
    assert "Voucher or referral code (optional)" in page
    assert "10% off each extra place for twins or siblings" in page
    assert 'name="voucher_code"' not in text(client.get(f"/classes/{free.id}/book"))


def test_checking_the_price_shows_the_breakdown_and_books_nothing(course, client, login_as):
    parent = login_as("parent")
    twins = [factories.make_child(parent, first_name=name) for name in ("Ada", "Ben")]
    factories.make_voucher(code="QUARTER", kind=VoucherKind.PERCENT, value=25)
    response = post_form(
        client,
        f"/classes/{course.id}/book",
        {"children": [c.id for c in twins], "voucher_code": "quarter", "check_price": "Check the price"},
    )
    page = text(response)
    assert response.status_code == 200
    for shown in (
        "Your price",
        "List price",
        "£90.00",
        "Sibling discount",
        "-£4.50",
        "Voucher QUARTER",
        "-£21.38",
        "£64.12",
    ):
        assert shown in page
    assert 'value="quarter"' in page
    assert count(Booking) == 0


def test_a_bad_code_on_the_booking_page_is_shown_on_the_field_and_books_nothing(course, client, login_as):
    parent = login_as("parent")
    child = factories.make_child(parent)
    for extra in ({}, {"check_price": "Check the price"}):
        response = post_form(
            client,
            f"/classes/{course.id}/book",
            {"children": child.id, "accept_terms": "y", "voucher_code": "NOPE", **extra},
        )
        assert response.status_code == 422
        assert 'id="voucher_code-error"' in text(response)
        assert "We do not recognise that code." in text(response)
    assert (count(Booking), count(BookingPlace)) == (0, 0)


def test_a_code_longer_than_any_voucher_is_refused_by_the_form(course, client, login_as):
    parent = login_as("parent")
    child = factories.make_child(parent)
    response = post_form(
        client, f"/classes/{course.id}/book", {"children": child.id, "accept_terms": "y", "voucher_code": "X" * 41}
    )
    assert response.status_code == 422
    assert "A code is at most 40 characters." in text(response)
    assert count(Booking) == 0


def test_a_discounted_booking_pays_the_discounted_total_at_stripe(course, client, login_as, stripe_server):
    parent = login_as("parent")
    child = factories.make_child(parent)
    factories.make_voucher(code="QUARTER", kind=VoucherKind.PERCENT, value=25)
    response = post_form(
        client, f"/classes/{course.id}/book", {"children": child.id, "accept_terms": "y", "voucher_code": "QUARTER"}
    )
    [booking] = db.session.scalars(db.select(Booking)).all()
    assert response.headers["Location"] == f"/bookings/{booking.id}/pay"
    pay = text(client.get(f"/bookings/{booking.id}/pay"))
    assert "List price" in pay and "£45.00" in pay and "-£11.25" in pay and "£33.75" in pay
    response = post_form(client, f"/bookings/{booking.id}/pay", {"method": "card"})
    [session] = stripe_server.objects("checkout.session")
    assert response.headers["Location"] == session["url"]
    assert session["amount_total"] == 3375


def test_a_funded_place_booked_on_the_page_never_goes_near_stripe(course, client, login_as, stripe_server):
    parent = login_as("parent")
    twins = [factories.make_child(parent, first_name=name) for name in ("Ada", "Ben")]
    factories.make_voucher(code="NEONATAL-OUTREACH", kind=VoucherKind.FUNDED, referrer="Neonatal outreach, Southmead")
    response = post_form(
        client,
        f"/classes/{course.id}/book",
        {"children": [c.id for c in twins], "accept_terms": "y", "voucher_code": "neonatal-outreach"},
    )
    [booking] = db.session.scalars(db.select(Booking)).all()
    assert response.headers["Location"] == f"/account/bookings/{booking.id}"
    assert (booking.status, booking.payment_method, booking.amount_pence, booking.discount_pence) == (
        BookingStatus.CONFIRMED,
        PaymentMethod.FUNDED,
        0,
        9000,
    )
    assert client.get(f"/bookings/{booking.id}/pay").headers["Location"] == f"/account/bookings/{booking.id}"
    response = post_form(client, f"/bookings/{booking.id}/pay", {"method": "card"}, page=f"/classes/{course.id}")
    assert response.headers["Location"] == f"/account/bookings/{booking.id}"
    assert stripe_server.created_count("checkout.session") == 0
    assert count(Payment) == 0
    detail = text(client.get(f"/account/bookings/{booking.id}"))
    assert "Funded place" in detail and "£90.00" in detail and "-£90.00" in detail


# Racing for the last use of a voucher

RACERS = 10
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def last_use(app):
    """A voucher with one use left, and a family per racer, each with one baby and each booking a course of its own.

    Separate courses, so that only the voucher's lock (not a course's) stands between the racers.
    """
    voucher = factories.make_voucher(code="LAST-ONE", kind=VoucherKind.PERCENT, value=20, max_uses=2)
    first, *racers = [factories.make_child(born=NOW.date() - timedelta(weeks=12)) for _ in range(RACERS + 1)]
    course = factories.make_course(price_pence=4500, first_session=NOW + timedelta(days=14))
    earlier = booking_services.book_places(
        first.parent, course, [first], accept_terms=True, voucher_code="LAST-ONE", now=NOW
    )
    assert earlier.discount_pence == 900
    courses = [factories.make_course(price_pence=4500, first_session=NOW + timedelta(days=14)) for _ in racers]
    return voucher, [(child.parent_id, child.id, course.id) for child, course in zip(racers, courses, strict=True)]


@pytest.fixture
def wide_race_window(monkeypatch):
    """Pause after the voucher's uses are counted and before the booking is written, as a slow server might."""
    find_voucher = pricing.find_voucher

    def slow_find_voucher(*args, **kwargs):
        voucher = find_voucher(*args, **kwargs)
        time.sleep(0.3)
        return voucher

    monkeypatch.setattr(pricing, "find_voucher", slow_find_voucher)


def race_for_the_voucher(app, families: list[tuple[int, int, int]]) -> Counter:
    def attempt(parent_id: int, child_id: int, course_id: int) -> str:
        parent, child, course = (
            db.session.get(User, parent_id),
            db.session.get(Child, child_id),
            db.session.get(Course, course_id),
        )
        try:
            booking = booking_services.book_places(
                parent, course, [child], accept_terms=True, voucher_code="last-one", now=NOW
            )
        except BookingError as error:
            return error.message
        return "discount" if booking.discount_pence else "no discount"

    return race(app, attempt, families)


def test_control_without_locks_the_race_overuses_it(racing_app, last_use, wide_race_window, monkeypatch):
    monkeypatch.setattr(locks, "_acquire", lambda *args, **kwargs: None)
    _, families = last_use
    outcomes = race_for_the_voucher(racing_app, families)
    assert outcomes["discount"] > 1, outcomes


def test_control_without_the_voucher_lock_the_race_overuses_it(
    racing_app, database_url, last_use, wide_race_window, monkeypatch
):
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite's one lock is the whole database, so the courses' locks alone keep the racers apart")
    acquire = locks._acquire
    voucher_rank = locks.LOCK_ORDER.index("vouchers")

    def without_vouchers(session, wanted, models, *, first):
        courses_and_bookings = [key for key in wanted if key[0] != voucher_rank]
        if courses_and_bookings:
            acquire(session, courses_and_bookings, models, first=first)

    monkeypatch.setattr(locks, "_acquire", without_vouchers)
    _, families = last_use
    outcomes = race_for_the_voucher(racing_app, families)
    assert outcomes["discount"] > 1, outcomes


@pytest.mark.parametrize("slow", [True, False], ids=["slow server", "fast server"])
def test_ten_families_race_for_the_last_use_and_exactly_one_gets_it(request, racing_app, last_use, slow):
    if slow:
        request.getfixturevalue("wide_race_window")
    voucher, families = last_use
    outcomes = race_for_the_voucher(racing_app, families)
    assert outcomes == Counter({"discount": 1, "This code has been used up.": RACERS - 1})
    assert (
        db.session.scalar(
            db.select(db.func.count()).select_from(VoucherRedemption).where(VoucherRedemption.voucher_id == voucher.id)
        )
        == 2
    )
    assert count(Booking) == 2
