"""The organiser's payments: the filtered ledger with its totals, the CSV export, and the flags that need attention."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
import stripe

from instructor_portal.audit import AuditEntry
from instructor_portal.booking.models import PaymentMethod
from instructor_portal.extensions import db
from instructor_portal.payments import flags, refunds
from instructor_portal.payments.models import FlagKind, PaymentFlag, PaymentStatus, RefundStatus
from tests import factories
from tests.conftest import post_form, text
from tests.payments.conftest import last_event

#: 23:30 UTC on 30 June is 00:30 on 1 July in London (summer time).
LATE_JUNE_UTC = datetime(2025, 6, 30, 23, 30, tzinfo=UTC)


def read_csv(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text(response))))


def pounds(pence: int) -> str:
    return f"£{pence / 100:,.2f}"


def july(day: int) -> datetime:
    """10am London time on a day of July 2025."""
    return datetime(2025, 7, day, 9, 0, tzinfo=UTC)


@pytest.fixture
def scene(app):
    """Two courses' money over a few days of summer 2025, in London time.

    Course A (£45): a bank transfer just after midnight on 1 July; a card payment on 2 July,
    part-refunded (£10) on 3 July; a card payment that failed on 4 July.
    Course B (£30): paid at the first session on 29 June; a refund of it that failed on 5 July.
    """
    course_a = factories.make_course(title="Course A", price_pence=4500)
    course_b = factories.make_course(title="Course B", price_pence=3000)
    factories.make_payment(
        factories.make_booking(course_a), method=PaymentMethod.BANK_TRANSFER, at=LATE_JUNE_UTC, note="Statement ref 77"
    )
    card = factories.make_payment(factories.make_booking(course_a), at=july(2))
    factories.make_refund(card, amount_pence=1000, at=july(3), reason="Missed a session")
    factories.make_payment(factories.make_booking(course_a), status=PaymentStatus.FAILED, at=july(4))
    venue = factories.make_payment(
        factories.make_booking(course_b), method=PaymentMethod.PAY_AT_VENUE, at=datetime(2025, 6, 29, 9, 0, tzinfo=UTC)
    )
    factories.make_refund(venue, status=RefundStatus.FAILED, at=july(5), reason="Family moved")
    return {"a": course_a, "b": course_b}


# Who may see it

ORGANISER_PAGES = ["/organiser/payments", "/organiser/payments.csv", "/organiser/payments/flags"]


@pytest.mark.parametrize("page", ORGANISER_PAGES)
@pytest.mark.parametrize(
    ("who", "status"), [("anonymous", 302), ("parent", 403), ("instructor", 403), ("organiser", 200)]
)
def test_payment_pages_are_for_organisers_only(client, login_as, page, who, status):
    if who != "anonymous":
        login_as(who)
    response = client.get(page)
    assert response.status_code == status
    if status == 302:
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("who", "status"), [("anonymous", 302), ("parent", 403), ("instructor", 403)])
def test_only_organisers_resolve_flags(client, login_as, who, status):
    flag = flags.flag(FlagKind.MISMATCH, "Stripe says otherwise.")
    db.session.commit()
    if who != "anonymous":
        login_as(who)
    response = post_form(
        client, f"/organiser/payments/flags/{flag.id}/resolve", page="/login" if who == "anonymous" else "/"
    )
    assert response.status_code == status
    db.session.refresh(flag)
    assert flag.resolved_at is None


def test_organisers_find_payments_in_the_menu(client, login_as):
    login_as("organiser")
    page = text(client.get("/organiser"))
    assert 'href="/organiser/payments"' in page and 'href="/organiser/payments/flags"' in page


# The ledger


def test_every_payment_and_refund_is_listed_newest_first_with_totals(client, login_as, scene):
    login_as("organiser")
    page = text(client.get("/organiser/payments"))
    assert "6 entries" in page
    order = ["Family moved", "Missed a session", "Statement ref 77"]
    assert [page.index(marker) for marker in order] == sorted(page.index(marker) for marker in order)
    # Received: £45 card + £45 transfer + £30 at the venue; the failed payment and refund do not count.
    assert "<dt>Received</dt><dd>£120.00</dd>" in page
    assert "<dt>Refunded</dt><dd>£10.00</dd>" in page
    assert "<dt>Net</dt><dd>£110.00</dd>" in page


@pytest.mark.parametrize(
    ("query", "rows", "received", "refunded"),
    [
        ({}, 6, 12000, 1000),
        ({"method": "card"}, 3, 4500, 1000),
        ({"method": "pay_at_venue"}, 2, 3000, 0),
        ({"status": "failed"}, 2, 0, 0),
        ({"status": "succeeded"}, 4, 12000, 1000),
        ({"status": "expired"}, 0, 0, 0),
        ({"course": "b"}, 2, 3000, 0),
        # Local dates: the transfer at 23:30 UTC on 30 June was made on 1 July in London.
        ({"date_from": "2025-07-01", "date_to": "2025-07-01"}, 1, 4500, 0),
        ({"date_to": "2025-06-30"}, 1, 3000, 0),
        ({"date_from": "2025-07-02", "date_to": "2025-07-03"}, 2, 4500, 1000),
        ({"date_from": "2025-07-01", "method": "card", "course": "a"}, 3, 4500, 1000),
    ],
)
def test_filters_narrow_the_list_and_the_totals_together(client, login_as, scene, query, rows, received, refunded):
    login_as("organiser")
    if "course" in query:
        query = {**query, "course": str(scene[query["course"]].id)}
    page = text(client.get("/organiser/payments", query_string=query))
    assert f"{rows} {'entry' if rows == 1 else 'entries'}" in page
    assert f"<dt>Received</dt><dd>{pounds(received)}</dd>" in page
    assert f"<dt>Refunded</dt><dd>{pounds(refunded)}</dd>" in page
    assert f"<dt>Net</dt><dd>{pounds(received - refunded)}</dd>" in page
    assert len(read_csv(client.get("/organiser/payments.csv", query_string=query))) == rows


@pytest.mark.parametrize(
    ("query", "message", "rows"),
    [
        ({"status": "refunded-ish"}, "Choose a status from the list.", 6),
        ({"method": "cash"}, "Choose a method from the list.", 6),
        ({"course": "424242"}, "Choose a course from the list.", 6),
        ({"date_from": "31/02/2025"}, "Enter a real date", 6),
        # The "To" date is refused; the "From" date still applies.
        ({"date_from": "2025-07-03", "date_to": "2025-07-01"}, "on or after the &#34;From&#34; date", 3),
    ],
)
def test_a_filter_that_makes_no_sense_is_explained_and_ignored(client, login_as, scene, query, message, rows):
    login_as("organiser")
    response = client.get("/organiser/payments", query_string=query)
    assert response.status_code == 200
    page = text(response)
    assert message in page
    assert f"{rows} entries" in page


def test_the_list_comes_a_page_at_a_time_and_the_totals_cover_every_page(app, client, login_as, scene):
    app.config["PAYMENTS_PAGE_SIZE"] = 4
    login_as("organiser")
    everything = text(client.get("/organiser/payments"))
    assert "Page 1 of 2" in everything and "Missed a session" in everything and "Statement ref 77" not in everything
    assert 'href="/organiser/payments?page=2"' in everything
    second = text(client.get("/organiser/payments", query_string={"page": 2}))
    assert "Page 2 of 2" in second and "Statement ref 77" in second and "Missed a session" not in second
    for page in (everything, second):
        assert "<dt>Received</dt><dd>£120.00</dd>" in page
    assert "Page 2 of 2" in text(client.get("/organiser/payments", query_string={"page": 99}))
    assert "Page 1 of" not in text(
        client.get("/organiser/payments", query_string={"status": "succeeded"})
    )  # four fit one page


def test_pagination_and_the_csv_link_keep_the_filters(app, client, login_as, scene):
    app.config["PAYMENTS_PAGE_SIZE"] = 1
    login_as("organiser")
    page = text(client.get("/organiser/payments", query_string={"method": "card", "status": ""}))
    assert 'href="/organiser/payments?page=2&amp;method=card"' in page
    assert 'href="/organiser/payments.csv?method=card"' in page


# The CSV export


def test_the_csv_has_the_filtered_rows_in_decimal_pounds_and_iso_dates(client, login_as, scene):
    organiser = login_as("organiser")
    response = client.get("/organiser/payments.csv", query_string={"course": scene["a"].id})
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="payments.csv"'
    rows = read_csv(response)
    assert [(row["Type"], row["Status"], row["Amount"]) for row in rows] == [
        ("Payment", "failed", "45.00"),
        ("Refund", "succeeded", "10.00"),
        ("Payment", "succeeded", "45.00"),
        ("Payment", "succeeded", "45.00"),
    ]
    transfer = rows[-1]
    assert transfer["Date"] == "2025-07-01T00:30:00+01:00"
    assert (transfer["Method"], transfer["Reason or note"], transfer["Course"], transfer["Currency"]) == (
        "Bank transfer",
        "Statement ref 77",
        "Course A",
        "GBP",
    )
    assert rows[1]["Reason or note"] == "Missed a session"
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "payments.exported")).one()
    assert (entry.actor_id, entry.data) == (organiser.id, {"filters": {"course_id": str(scene["a"].id)}})


def test_typed_text_cannot_become_a_spreadsheet_formula(client, login_as, paid_booking, organiser, stripe_server):
    booking, payment = paid_booking(title="@SUM(1+1) baby massage")
    booking.parent.full_name = '=HYPERLINK("http://evil.example","Click")'
    db.session.commit()
    refunds.refund_payment(payment, 500, by=organiser, reason="+44 1234 said so", request_key="formula")
    refunds.refund_payment(payment, 500, by=organiser, reason="-1 for the missed week", request_key="formula-2")
    login_as(organiser)
    rows = read_csv(client.get("/organiser/payments.csv"))
    assert {row["Parent or carer"] for row in rows} == {'\'=HYPERLINK("http://evil.example","Click")'}
    assert {row["Course"] for row in rows} == {"'@SUM(1+1) baby massage"}
    assert [row["Reason or note"] for row in rows if row["Type"] == "Refund"] == [
        "'-1 for the missed week",
        "'+44 1234 said so",
    ]
    assert {row["Stripe id"][:3] for row in rows} == {"pi_", "re_"}
    assert all(not row["Amount"].startswith("'") for row in rows)


# Flags


def test_open_flags_are_listed_newest_first_then_resolved_with_an_audit_entry(client, login_as, app):
    course = factories.make_course()
    booking = factories.make_booking(course)
    older = PaymentFlag(
        kind=FlagKind.REFUND_FAILED,
        message="Refund of £45.00 failed: card expired",
        booking=booking,
        created_at=datetime.now(UTC) - timedelta(hours=2),
    )
    newer = PaymentFlag(
        kind=FlagKind.MISMATCH, message="Stripe session cs_1 matches no payment here.", created_at=datetime.now(UTC)
    )
    db.session.add_all([older, newer])
    db.session.commit()
    organiser = login_as("organiser")
    assert "<dd>2</dd>" in text(client.get("/organiser")).split("Payments needing attention")[1][:40]
    page = text(client.get("/organiser/payments/flags"))
    assert "Open (2)" in page
    assert page.index("matches no payment") < page.index("card expired")
    assert "Refund failed" in page and "Does not match Stripe" in page
    assert f'href="/teach/bookings/{booking.id}"' in page

    response = post_form(client, f"/organiser/payments/flags/{older.id}/resolve", page="/organiser/payments/flags")
    assert response.status_code == 302
    db.session.refresh(older)
    assert older.resolved_at is not None and older.resolved_by_id == organiser.id
    entry = db.session.scalars(db.select(AuditEntry).where(AuditEntry.action == "payment_flag.resolved")).one()
    assert (entry.actor_id, entry.subject_type, entry.subject_id) == (organiser.id, "PaymentFlag", older.id)
    page = text(client.get("/organiser/payments/flags"))
    assert "Marked as resolved." in page and "Open (1)" in page
    resolved = page.split('id="resolved-heading"')[1]
    assert "card expired" in resolved and organiser.full_name in resolved

    again = post_form(client, f"/organiser/payments/flags/{older.id}/resolve", page="/organiser/payments/flags")
    assert again.status_code == 302
    assert "already been marked as resolved" in text(client.get("/organiser/payments/flags"))
    assert (
        db.session.scalar(db.select(db.func.count(AuditEntry.id)).where(AuditEntry.action == "payment_flag.resolved"))
        == 1
    )
    assert flags.count_open_flags() == 1


def test_resolving_an_unknown_flag_is_a_404(client, login_as):
    login_as("organiser")
    assert (
        post_form(client, "/organiser/payments/flags/424242/resolve", page="/organiser/payments/flags").status_code
        == 404
    )


def test_a_flag_raised_by_a_real_refund_failure_shows_up(
    client, login_as, paid_booking, organiser, stripe_server, deliver
):
    booking, payment = paid_booking()
    outside = stripe.StripeClient(
        stripe_server.api_key, base_addresses={"api": stripe_server.url}, max_network_retries=0
    )
    outside.v1.refunds.create({"payment_intent": payment.stripe_payment_intent_id, "amount": 500})
    deliver(last_event(stripe_server, "charge.refunded"))
    login_as(organiser)
    page = text(client.get("/organiser/payments/flags"))
    assert "Open (1)" in page and "outside this app" in page and booking.reference in page
