"""Organisers add and change voucher codes: who may, what is saved, and what is refused."""

from datetime import UTC, date, datetime, timedelta

import pytest

from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import BookingStatus, Voucher, VoucherKind, VoucherRedemption
from instructor_portal.catalogue.models import CourseStatus, Track
from instructor_portal.extensions import db
from instructor_portal.organiser import services
from instructor_portal.organiser.services import OrganiserError
from tests import factories
from tests.conftest import count, post_form, text

NEXT_YEAR = date.today().year + 1
VOUCHER = {
    "code": "southmead-hv",
    "kind": "percent",
    "percent": "25",
    "amount": "",
    "max_uses": "10",
    "expires_at": f"{NEXT_YEAR}-07-01T09:00",
    "course": "",
    "track": "",
    "referrer": "Health visitor team, Southmead",
    "active": "y",
}


@pytest.fixture
def organiser(app):
    return factories.make_user(role="organiser")


# Who may see what


@pytest.mark.parametrize(
    "page", ["/organiser/vouchers", "/organiser/vouchers/new", "/organiser/vouchers/{voucher}/edit"]
)
@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 302), ("parent", 403), ("instructor", 403), ("organiser", 200)]
)
def test_voucher_pages_are_for_organisers_only(client, login_as, page, who, status):
    voucher = factories.make_voucher()
    if who != "anonymous":
        login_as(who)
    response = client.get(page.format(voucher=voucher.id))
    assert response.status_code == status
    if status == 302:
        assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize("page", ["/organiser/vouchers/new", "/organiser/vouchers/{voucher}/edit"])
@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("parent", 403), ("instructor", 403)])
def test_only_organisers_can_save_vouchers(client, login_as, page, who, status):
    voucher = factories.make_voucher(code="KEEP")
    if who != "anonymous":
        login_as(who)
    response = post_form(client, page.format(voucher=voucher.id), VOUCHER, page="/login" if who == "anonymous" else "/")
    assert response.status_code == status
    db.session.expire_all()
    assert db.session.scalars(db.select(Voucher.code)).all() == ["KEEP"]


@pytest.mark.parametrize("page", ["/organiser/vouchers/424242/edit", "/organiser/vouchers/99999999999999999999/edit"])
def test_unknown_voucher_gets_a_friendly_404(client, login_as, page):
    login_as("organiser")
    response = client.get(page)
    assert response.status_code == 404
    assert "Page not found" in text(response)


# The list


def test_the_list_says_what_each_code_gives_how_often_it_was_used_and_for_what(client, login_as):
    course = factories.make_course(title="Tuesday babies")
    percent = factories.make_voucher(
        code="QUARTER", kind=VoucherKind.PERCENT, value=25, max_uses=10, referrer="Health visitor team, Southmead"
    )
    factories.make_voucher(code="TENOFF", kind=VoucherKind.FIXED, value=1000, course=course)
    factories.make_voucher(code="NEONATAL", kind=VoucherKind.FUNDED, track=Track.PREMATURE, active=False)
    factories.make_voucher(code="OLD", expires_at=datetime.now(UTC) - timedelta(days=1))
    for status in (BookingStatus.CONFIRMED, BookingStatus.CONFIRMED, BookingStatus.CANCELLED):
        db.session.add(
            VoucherRedemption(
                voucher=percent, booking=factories.make_booking(course, status=status), discount_pence=1125
            )
        )
    db.session.commit()
    login_as("organiser")
    page = text(client.get("/organiser/vouchers"))
    for shown in (
        "QUARTER",
        "25% off",
        "2 of 10",
        "Health visitor team, Southmead",
        "TENOFF",
        "£10.00 off",
        "Tuesday babies",
        "NEONATAL",
        "Funded place",
        "Premature babies courses",
        "Switched off",
        "OLD",
        "Expired",
        "(no limit)",
    ):
        assert shown in page
    assert 'href="/organiser/vouchers/new"' in page
    assert f'href="/organiser/vouchers/{percent.id}/edit"' in page


def test_the_organiser_menu_links_to_vouchers(client, login_as):
    login_as("organiser")
    assert 'href="/organiser/vouchers"' in text(client.get("/organiser"))


# Adding and changing


@pytest.mark.parametrize(
    ("changes", "kind", "value"),
    [
        ({}, VoucherKind.PERCENT, 25),
        ({"kind": "fixed", "amount": "12.50", "percent": "nonsense"}, VoucherKind.FIXED, 1250),
        ({"kind": "funded", "percent": "", "amount": "-3"}, VoucherKind.FUNDED, 0),
    ],
)
def test_add_a_voucher_of_each_kind(client, login_as, changes, kind, value):
    login_as("organiser")
    response = post_form(client, "/organiser/vouchers/new", {**VOUCHER, **changes})
    assert response.status_code == 302
    voucher = db.session.scalars(db.select(Voucher)).one()
    assert (voucher.code, voucher.kind, voucher.value, voucher.max_uses, voucher.referrer, voucher.active) == (
        "SOUTHMEAD-HV",
        kind,
        value,
        10,
        "Health visitor team, Southmead",
        True,
    )
    assert voucher.expires_at == datetime(NEXT_YEAR, 7, 1, 8, 0, tzinfo=UTC)  # 09:00 British Summer Time
    assert "Voucher SOUTHMEAD-HV added." in text(client.get(response.headers["Location"]))


def test_add_a_voucher_kept_to_one_course_or_one_track_with_no_limit_or_expiry(client, login_as):
    course = factories.make_course(title="Tuesday babies")
    login_as("organiser")
    assert "Tuesday babies, from" in text(client.get("/organiser/vouchers/new"))
    post_form(
        client,
        "/organiser/vouchers/new",
        {**VOUCHER, "code": "TUESDAY", "course": str(course.id), "max_uses": "", "expires_at": ""},
    )
    post_form(client, "/organiser/vouchers/new", {**VOUCHER, "code": "PREM", "track": "premature"})
    tuesday, prem = db.session.scalars(db.select(Voucher).order_by(Voucher.id)).all()
    assert (tuesday.course, tuesday.track, tuesday.max_uses, tuesday.expires_at) == (course, None, None, None)
    assert (prem.course, prem.track) == (None, Track.PREMATURE)


def test_cancelled_courses_are_not_offered(client, login_as):
    factories.make_course(title="Gone course", status=CourseStatus.CANCELLED)
    login_as("organiser")
    assert "Gone course" not in text(client.get("/organiser/vouchers/new"))


PAST = (datetime.now(UTC) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
BAD_VOUCHER_INPUT = [
    ({"code": ""}, "code", "Enter the code families will type."),
    ({"code": "HV"}, "code", "Use 3 to 40 letters, digits or dashes, such as SOUTHMEAD-HV."),
    ({"code": "HV 2026"}, "code", "Use 3 to 40 letters, digits or dashes"),
    ({"code": "HV_2026!"}, "code", "Use 3 to 40 letters, digits or dashes"),
    ({"code": "X" * 41}, "code", "Keep the code to 40 characters."),
    ({"code": "taken"}, "code", "There is already a voucher with this code; choose another."),
    ({"kind": "gift"}, "kind", "Choose a percentage off, an amount off or a funded place."),
    ({"percent": ""}, "percent", "Enter the percentage off, from 1 to 100."),
    ({"percent": "0"}, "percent", "Enter a percentage from 1 to 100."),
    ({"percent": "101"}, "percent", "Enter a percentage from 1 to 100."),
    ({"percent": "12.5"}, "percent", "Enter a whole number."),
    ({"kind": "fixed", "amount": ""}, "amount", "Enter the amount off, such as 10 or 12.50."),
    ({"kind": "fixed", "amount": "0"}, "amount", "Enter an amount from 0.01 up to 10,000."),
    ({"kind": "fixed", "amount": "-5"}, "amount", "Enter an amount from 0.01 up to 10,000."),
    ({"kind": "fixed", "amount": "1.005"}, "amount", "Enter an amount such as 45 or 45.50."),
    ({"kind": "fixed", "amount": "NaN"}, "amount", "Enter an amount such as 45 or 45.50."),
    ({"max_uses": "0"}, "max_uses", "Enter 1 or more, or leave it blank for no limit."),
    ({"max_uses": "many"}, "max_uses", "Enter a whole number."),
    ({"max_uses": "9" * 30}, "max_uses", "Enter 1 or more, or leave it blank for no limit."),
    ({"expires_at": "2027-02-30T09:00"}, "expires_at", "Enter a real date and time."),
    ({"expires_at": PAST}, "expires_at", "Choose an expiry date and time in the future."),
    ({"course": "424242"}, "course", "Choose a course from the list."),
    ({"track": "swimming"}, "track", "Choose a track from the list."),
    ({"course": "COURSE", "track": "family"}, "track", "Keep the code to one course or to one track, not both."),
    ({"referrer": "x" * 201}, "referrer", "Keep who referred the family to 200 characters."),
]


@pytest.mark.parametrize(("changes", "field", "message"), BAD_VOUCHER_INPUT)
def test_add_voucher_refuses_bad_input_and_saves_nothing(client, login_as, changes, field, message):
    course = factories.make_course()
    factories.make_voucher(code="TAKEN")
    login_as("organiser")
    data = {**VOUCHER, **changes}
    if data["course"] == "COURSE":
        data["course"] = str(course.id)
    response = post_form(client, "/organiser/vouchers/new", data)
    assert response.status_code == 422
    assert f'id="{field}-error"' in text(response)
    assert message in text(response)
    assert db.session.scalars(db.select(Voucher.code)).all() == ["TAKEN"]


def test_edit_a_voucher_shows_its_values_and_saves_changes(client, login_as):
    voucher = factories.make_voucher(
        code="TENOFF", kind=VoucherKind.FIXED, value=1000, expires_at=datetime(NEXT_YEAR, 1, 15, 17, 0, tzinfo=UTC)
    )
    login_as("organiser")
    page = text(client.get(f"/organiser/vouchers/{voucher.id}/edit"))
    assert 'value="TENOFF"' in page and 'value="10.00"' in page and f'value="{NEXT_YEAR}-01-15T17:00"' in page
    response = post_form(
        client,
        f"/organiser/vouchers/{voucher.id}/edit",
        {**VOUCHER, "code": "tenoff", "kind": "funded", "active": "", "expires_at": PAST},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (voucher.code, voucher.kind, voucher.value, voucher.active) == ("TENOFF", VoucherKind.FUNDED, 0, False)
    assert "Voucher TENOFF saved." in text(client.get(response.headers["Location"]))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"code": "taken"}, "There is already a voucher with this code"),
        ({"percent": "150"}, "Enter a percentage from 1 to 100."),
        ({"course": "COURSE", "track": "premature"}, "not both"),
    ],
)
def test_edit_voucher_refuses_bad_input_and_changes_nothing(client, login_as, changes, message):
    course = factories.make_course()
    factories.make_voucher(code="TAKEN")
    voucher = factories.make_voucher(code="MINE", value=10, referrer="Children's centre")
    login_as("organiser")
    data = {**VOUCHER, **changes}
    if data["course"] == "COURSE":
        data["course"] = str(course.id)
    response = post_form(client, f"/organiser/vouchers/{voucher.id}/edit", data)
    assert response.status_code == 422
    assert message in text(response)
    db.session.expire_all()
    assert (voucher.code, voucher.value, voucher.referrer, voucher.course, voucher.track) == (
        "MINE",
        10,
        "Children's centre",
        None,
        None,
    )


# The services, without HTTP


def test_create_voucher_stores_the_code_in_capitals_and_audits_it(organiser):
    voucher = services.create_voucher(actor=organiser, code=" hv-2026 ", kind=VoucherKind.PERCENT, value=20)
    assert (voucher.code, voucher.created_by_id, voucher.active, voucher.referrer) == (
        "HV-2026",
        organiser.id,
        True,
        "",
    )
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "voucher.created")).one()
    assert (entry.actor_id, entry.subject_id, entry.data) == (
        organiser.id,
        voucher.id,
        {"code": "HV-2026", "kind": "percent", "value": 20},
    )


def test_update_voucher_audits_what_changed(organiser):
    voucher = services.create_voucher(actor=organiser, code="HV-2026", kind=VoucherKind.PERCENT, value=20)
    services.update_voucher(voucher, actor=organiser, value=30, referrer="Southmead health visitors")
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "voucher.updated")).one()
    assert entry.data == {"changed": ["referrer", "value"]}


def test_codes_are_unique_whatever_their_case(organiser):
    services.create_voucher(actor=organiser, code="HV-2026", kind=VoucherKind.FUNDED)
    with pytest.raises(OrganiserError, match="already a voucher") as caught:
        services.create_voucher(actor=organiser, code="hv-2026", kind=VoucherKind.FUNDED)
    assert caught.value.field == "code"
    assert count(Voucher) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"kind": VoucherKind.PERCENT, "value": 0}, "percent"),
        ({"kind": VoucherKind.FIXED, "value": 0}, "amount"),
        ({"kind": VoucherKind.FIXED, "value": None}, "amount"),
        ({"kind": VoucherKind.FUNDED, "max_uses": 0}, "max_uses"),
        ({"kind": VoucherKind.FUNDED, "expires_at": datetime.now(UTC)}, "expires_at"),
        ({"kind": VoucherKind.FUNDED, "referrer": "x" * 201}, "referrer"),
        ({"kind": VoucherKind.FUNDED, "track": Track.FAMILY, "course": "COURSE"}, "track"),
    ],
)
def test_create_voucher_refuses_bad_values_and_saves_nothing(organiser, fields, field):
    if fields.get("course") == "COURSE":
        fields = {**fields, "course": factories.make_course()}
    with pytest.raises(OrganiserError) as caught:
        services.create_voucher(actor=organiser, code="HV-2026", **fields)
    assert caught.value.field == field
    assert count(Voucher) == 0


def test_a_funded_voucher_keeps_no_value(organiser):
    assert services.create_voucher(actor=organiser, code="HV-2026", kind=VoucherKind.FUNDED, value=55).value == 0


def test_voucher_services_refuse_unknown_fields(organiser):
    with pytest.raises(TypeError, match="colour"):
        services.create_voucher(actor=organiser, code="HV-2026", kind=VoucherKind.FUNDED, colour="purple")
