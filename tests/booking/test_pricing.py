"""Prices in exact pence: the sibling discount, then a voucher; and which codes a family may use."""

import itertools
from datetime import UTC, datetime, timedelta

import pytest

from instructor_portal.booking.capacity import BookingError
from instructor_portal.booking.models import BookingStatus, Voucher, VoucherKind, VoucherRedemption
from instructor_portal.booking.pricing import Price, find_voucher, percent_of, price_places
from instructor_portal.catalogue.models import Course, Track
from instructor_portal.extensions import db
from tests import factories

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def course(price_pence: int = 4500, sibling: int = 0) -> Course:
    return Course(price_pence=price_pence, sibling_discount_percent=sibling)


def voucher(kind: VoucherKind, value: int = 0) -> Voucher:
    return Voucher(kind=kind, value=value)


# The arithmetic


@pytest.mark.parametrize(
    ("pence", "percent", "expected"),
    [
        (4500, 10, 450),
        (4505, 10, 451),  # 450.5 rounds up
        (4504, 10, 450),  # 450.4 rounds down
        (3333, 15, 500),  # 499.95
        (1, 50, 1),  # half a penny rounds up
        (1, 49, 0),
        (0, 100, 0),
        (9999, 100, 9999),
        (10**15 + 1, 50, 5 * 10**14 + 1),  # no float rounding, however large
    ],
)
def test_percent_of_rounds_half_up_to_whole_pence(pence, percent, expected):
    assert percent_of(pence, percent) == expected


@pytest.mark.parametrize(
    ("case", "course_and_places", "voucher_", "expected"),
    [
        ("one place, no discount", (course(sibling=10), 1), None, (4500, 0, 0, 4500)),
        ("twins, 10% sibling discount on £45", (course(sibling=10), 2), None, (9000, 450, 0, 8550)),
        ("three siblings", (course(sibling=10), 3), None, (13500, 900, 0, 12600)),
        ("twins, no sibling discount set", (course(), 2), None, (9000, 0, 0, 9000)),
        ("odd pence round up on each extra place", (course(4505, sibling=10), 3), None, (13515, 902, 0, 12613)),
        ("odd pence round down", (course(4504, sibling=10), 2), None, (9008, 450, 0, 8558)),
        ("extra places free at 100%", (course(sibling=100), 2), None, (9000, 4500, 0, 4500)),
        ("25% off one place", (course(), 1), voucher(VoucherKind.PERCENT, 25), (4500, 0, 1125, 3375)),
        (
            "percent after the sibling discount",
            (course(sibling=10), 2),
            voucher(VoucherKind.PERCENT, 25),
            (9000, 450, 2138, 6412),
        ),
        ("percent rounds half up", (course(4501), 1), voucher(VoucherKind.PERCENT, 50), (4501, 0, 2251, 2250)),
        ("100% off", (course(sibling=10), 2), voucher(VoucherKind.PERCENT, 100), (9000, 450, 8550, 0)),
        ("£10 off", (course(), 1), voucher(VoucherKind.FIXED, 1000), (4500, 0, 1000, 3500)),
        (
            "£10 off twins after the sibling discount",
            (course(sibling=10), 2),
            voucher(VoucherKind.FIXED, 1000),
            (9000, 450, 1000, 7550),
        ),
        ("fixed capped at the price", (course(), 1), voucher(VoucherKind.FIXED, 10000), (4500, 0, 4500, 0)),
        (
            "fixed capped at what remains",
            (course(sibling=10), 2),
            voucher(VoucherKind.FIXED, 9000),
            (9000, 450, 8550, 0),
        ),
        ("funded place", (course(), 1), voucher(VoucherKind.FUNDED), (4500, 0, 4500, 0)),
        ("funded twins", (course(sibling=10), 2), voucher(VoucherKind.FUNDED), (9000, 450, 8550, 0)),
        ("free course stays free", (course(0, sibling=10), 2), None, (0, 0, 0, 0)),
        ("free course with a funded voucher", (course(0, sibling=10), 2), voucher(VoucherKind.FUNDED), (0, 0, 0, 0)),
        ("free course with £10 off", (course(0), 1), voucher(VoucherKind.FIXED, 1000), (0, 0, 0, 0)),
        ("free course with 50% off", (course(0), 1), voucher(VoucherKind.PERCENT, 50), (0, 0, 0, 0)),
    ],
)
def test_price_places(case, course_and_places, voucher_, expected):
    price = price_places(*course_and_places, voucher=voucher_)
    assert (price.list_pence, price.sibling_discount_pence, price.voucher_discount_pence, price.total_pence) == expected
    assert price.discount_pence == expected[1] + expected[2]


@pytest.mark.parametrize(
    "voucher_",
    [
        None,
        voucher(VoucherKind.PERCENT, 1),
        voucher(VoucherKind.PERCENT, 67),
        voucher(VoucherKind.FIXED, 1),
        voucher(VoucherKind.FIXED, 12345),
        voucher(VoucherKind.FUNDED),
    ],
)
def test_the_parts_always_add_up_and_never_go_below_zero(voucher_):
    for price_pence, sibling, places in itertools.product(
        (0, 1, 999, 4505, 12001), (0, 1, 7, 33, 50, 99, 100), range(1, 7)
    ):
        price = price_places(course(price_pence, sibling), places, voucher=voucher_)
        assert price.list_pence - price.sibling_discount_pence - price.voucher_discount_pence == price.total_pence
        assert min(price.list_pence, price.sibling_discount_pence, price.voucher_discount_pence, price.total_pence) >= 0


@pytest.mark.parametrize("parts", [(9000, 450, 0, 8000), (100, 0, 200, -100), (100, -10, 0, 110)])
def test_a_price_whose_parts_do_not_add_up_cannot_be_made(parts):
    with pytest.raises(ValueError, match="do not add up"):
        Price(*parts)


# Which codes a family may use


@pytest.fixture
def paid_course(app):
    return factories.make_course(price_pence=4500, track=Track.FAMILY)


def test_find_voucher_ignores_case_and_surrounding_spaces(paid_course):
    made = factories.make_voucher(code="SOUTHMEAD-HV")
    assert find_voucher("  southmead-hv ", course=paid_course, now=NOW) == made


def use(voucher_: Voucher, course_: Course, status: BookingStatus, **booking) -> None:
    db.session.add(
        VoucherRedemption(
            voucher=voucher_, booking=factories.make_booking(course_, status=status, **booking), discount_pence=450
        )
    )
    db.session.commit()


@pytest.mark.parametrize(
    ("voucher_fields", "reason"),
    [
        ({"code": "OTHER"}, "We do not recognise that code."),
        ({"active": False}, "This code is no longer in use."),
        ({"expires_at": NOW}, "This code has expired."),
        ({"expires_at": NOW - timedelta(days=1)}, "This code has expired."),
        ({"max_uses": 1, "used": 1}, "This code has been used up."),
        ({"max_uses": 2, "used": 2}, "This code has been used up."),
        ({"course": "another"}, "This code is for a different course."),
        ({"track": Track.PREMATURE}, "This code is only for courses on the Premature babies track."),
    ],
)
def test_find_voucher_refuses_with_a_plain_reason(paid_course, voucher_fields, reason):
    fields = {"code": "HV-2026", **voucher_fields}
    used = fields.pop("used", 0)
    if fields.get("course") == "another":
        fields["course"] = factories.make_course()
    made = factories.make_voucher(**fields)
    for _ in range(used):
        use(made, paid_course, BookingStatus.CONFIRMED)
    with pytest.raises(BookingError, match=reason) as caught:
        find_voucher("hv-2026", course=paid_course, now=NOW)
    assert caught.value.field == "voucher_code"


def test_find_voucher_takes_a_code_until_its_expiry_and_for_its_own_course_and_track(paid_course):
    made = factories.make_voucher(
        code="HV-2026", expires_at=NOW + timedelta(seconds=1), course=paid_course, track=Track.FAMILY
    )
    assert find_voucher("HV-2026", course=paid_course, now=NOW) == made


def test_only_bookings_still_holding_places_use_up_a_voucher(paid_course):
    made = factories.make_voucher(code="HV-2026", max_uses=3)
    use(made, paid_course, BookingStatus.CONFIRMED)
    use(made, paid_course, BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW + timedelta(minutes=5))
    use(made, paid_course, BookingStatus.AWAITING_PAYMENT, hold_expires_at=NOW - timedelta(minutes=5))
    use(made, paid_course, BookingStatus.CANCELLED)
    use(made, paid_course, BookingStatus.EXPIRED)
    assert find_voucher("HV-2026", course=paid_course, now=NOW) == made
    use(made, paid_course, BookingStatus.CONFIRMED)
    with pytest.raises(BookingError, match="used up"):
        find_voucher("HV-2026", course=paid_course, now=NOW)


def test_a_free_course_needs_no_code(app):
    factories.make_voucher(code="HV-2026")
    with pytest.raises(BookingError, match="This course is free, so no code is needed.") as caught:
        find_voucher("HV-2026", course=factories.make_course(price_pence=0), now=NOW)
    assert caught.value.field == "voucher_code"
