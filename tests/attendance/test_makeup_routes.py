import pytest
from markupsafe import escape

from instructor_portal.attendance import makeups, services
from instructor_portal.attendance.models import AttendanceMark, Makeup, MakeupStatus
from instructor_portal.extensions import db
from tests import factories
from tests.attendance.conftest import NOW
from tests.conftest import count, post_form, text


def offer_url(scene) -> str:
    return f"/teach/sessions/{scene.missed.id}/makeups/{scene.place.id}"


def offer(scene) -> Makeup:
    return makeups.offer_makeup(scene.missed, scene.place, scene.target, by=scene.instructor, now=NOW)


def login(login_as, scene, who: str) -> None:
    if who == "instructor":
        login_as(scene.instructor)
    elif who != "anonymous":
        login_as(who.split()[-1])


@pytest.mark.parametrize(
    ("who", "status"),
    [("instructor", 200), ("organiser", 200), ("other instructor", 404), ("parent", 403), ("anonymous", 302)],
)
def test_only_the_course_instructor_and_organisers_see_the_makeup_page(client, login_as, makeup_scene, who, status):
    login(login_as, makeup_scene, who)

    response = client.get(offer_url(makeup_scene))

    assert response.status_code == status
    if who == "anonymous":
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize(("who", "status"), [("other instructor", 404), ("parent", 403), ("anonymous", 302)])
def test_only_the_course_instructor_and_organisers_offer_and_withdraw(client, login_as, makeup_scene, who, status):
    scene = makeup_scene
    makeup = offer(scene)
    login(login_as, scene, who)
    page = "/login" if who == "anonymous" else "/"

    offered = post_form(client, offer_url(scene), {"session_id": scene.other.sessions[2].id}, page=page)
    withdrawn = post_form(client, f"/teach/makeups/{makeup.id}/withdraw", page=page)

    assert (offered.status_code, withdrawn.status_code) == (status, status)
    assert db.session.scalars(db.select(Makeup.status)).all() == [MakeupStatus.OFFERED]


def test_the_register_links_absent_families_to_a_makeup_and_the_page_lists_matching_sessions(
    client, login_as, makeup_scene
):
    scene = makeup_scene
    present = factories.make_booking(scene.course)
    services.mark_attendance(scene.missed, present.places[0].id, "present", by=scene.instructor, now=NOW)
    login_as(scene.instructor)

    register = text(client.get(f"/teach/sessions/{scene.missed.id}/register"))
    page = text(client.get(offer_url(scene)))

    assert register.count("Offer a make-up") == 1
    assert f'href="{offer_url(scene)}"' in register
    assert "Layla (Amira Khan) missed Tuesday babies" in page
    assert "Friday babies" in page and "3 places free" in page and escape(scene.other.venue.name) in page
    assert f'name="session_id" value="{scene.target.id}"' in page


def test_instructor_offers_parent_accepts_and_the_family_is_marked_on_the_other_register(
    client, auth, login_as, makeup_scene
):
    scene = makeup_scene
    login_as(scene.instructor)

    response = post_form(client, offer_url(scene), {"session_id": scene.target.id}, follow_redirects=True)

    assert "Make-up offered. We have emailed the family." in text(response)
    assert "Withdraw" in text(response)
    makeup = db.session.scalars(db.select(Makeup)).one()
    auth.logout()
    login_as(scene.booking.parent)
    assert "Friday babies" in text(client.get("/account/bookings"))
    booking_page = f"/account/bookings/{scene.booking.id}"
    assert "Make-up offered (Friday babies" in text(client.get(booking_page))

    response = post_form(client, f"/account/makeups/{makeup.id}/accept", page=booking_page, follow_redirects=True)

    assert "Your make-up session is booked. We have emailed you the details." in text(response)
    assert "Make-up booked (Friday babies" in text(response)
    db.session.refresh(makeup)
    assert makeup.status == MakeupStatus.ACCEPTED
    auth.logout()
    login_as(scene.other.instructor)
    register = f"/teach/sessions/{scene.target.id}/register"
    html = text(client.get(register))
    assert "Make-up from Tuesday babies" in html and "Layla" in html and "<summary>Care notes</summary>" in html
    post_form(client, f"{register}/{scene.place.id}", {"status": "present"}, page=register)
    assert db.session.scalars(db.select(AttendanceMark.session_id).where(AttendanceMark.status == "present")).all() == [
        scene.target.id
    ]
    auth.logout()
    login_as(scene.instructor)
    assert "Make-up attended: Friday babies" in text(client.get(f"/teach/courses/{scene.course.id}"))


def test_parent_declines_an_offer(client, login_as, makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    login_as(scene.booking.parent)

    response = post_form(
        client, f"/account/makeups/{makeup.id}/decline", page="/account/bookings", follow_redirects=True
    )

    assert "Make-up session declined." in text(response)
    assert db.session.get(Makeup, makeup.id).status == MakeupStatus.DECLINED


@pytest.mark.parametrize("action", ["accept", "decline"])
def test_another_familys_offer_or_an_unknown_one_is_not_found(client, login_as, makeup_scene, action):
    makeup = offer(makeup_scene)
    login_as("parent")

    theirs = post_form(client, f"/account/makeups/{makeup.id}/{action}", page="/account/bookings")
    unknown = post_form(client, f"/account/makeups/{makeup.id + 1}/{action}", page="/account/bookings")
    huge = post_form(client, f"/account/makeups/99999999999/{action}", page="/account/bookings")

    assert (theirs.status_code, unknown.status_code, huge.status_code) == (404, 404, 404)
    assert db.session.get(Makeup, makeup.id).status == MakeupStatus.OFFERED


def test_a_full_session_gets_a_message_for_the_parent(client, login_as, makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    scene.other.places = 1
    factories.make_booking(scene.other)
    login_as(scene.booking.parent)

    response = post_form(
        client, f"/account/makeups/{makeup.id}/accept", page="/account/bookings", follow_redirects=True
    )

    assert "Sorry, that session is now full." in text(response)
    assert db.session.get(Makeup, makeup.id).status == MakeupStatus.OFFERED


@pytest.mark.parametrize(
    ("session_id", "status", "message"),
    [
        ("soon", 422, "Not a valid integer value."),
        ("", 422, "Choose a session to offer."),
        ("same course", 422, "Choose a session on another course"),
        ("past", 422, "already started"),
        ("not matching", 422, "not the matching session"),
        ("unknown", 404, None),
        ("99999999999", 404, None),
    ],
)
def test_bad_offers_get_a_message_and_change_nothing(client, login_as, makeup_scene, session_id, status, message):
    scene = makeup_scene
    session_id = {
        "same course": scene.course.sessions[2].id,
        "past": scene.other.sessions[0].id,
        "not matching": scene.other.sessions[3].id,
        "unknown": scene.other.sessions[-1].id + 100,
    }.get(session_id, session_id)
    login_as(scene.instructor)

    response = post_form(client, offer_url(scene), {"session_id": session_id})

    assert response.status_code == status
    if message:
        assert message in text(response)
    assert count(Makeup) == 0


def test_unknown_places_and_makeups_are_not_found(client, login_as, makeup_scene):
    scene = makeup_scene
    elsewhere = factories.make_booking(factories.make_course(instructor=scene.instructor))
    login_as(scene.instructor)

    assert client.get(f"/teach/sessions/{scene.missed.id}/makeups/{elsewhere.places[0].id}").status_code == 404
    assert client.get(f"/teach/sessions/{scene.missed.id}/makeups/99999999999").status_code == 404
    assert post_form(client, "/teach/makeups/99999/withdraw", page=offer_url(scene)).status_code == 404


def test_instructor_withdraws_an_offer(client, login_as, makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    login_as(scene.instructor)

    response = post_form(client, f"/teach/makeups/{makeup.id}/withdraw", page=offer_url(scene), follow_redirects=True)

    assert "Make-up withdrawn. We have emailed the family." in text(response)
    assert db.session.get(Makeup, makeup.id).status == MakeupStatus.WITHDRAWN


def test_a_family_not_marked_absent_is_told_why_there_is_no_makeup(client, login_as, makeup_scene):
    scene = makeup_scene
    services.mark_attendance(scene.missed, scene.place.id, "present", by=scene.instructor, now=NOW)
    login_as(scene.instructor)

    html = text(client.get(offer_url(scene)))

    assert "Make-ups are offered to families marked absent at the session, or who said they would stay home." in html
    assert 'name="session_id"' not in html


def test_the_bookings_calendar_file_holds_a_booked_makeup_but_not_an_offer(client, login_as, makeup_scene):
    scene = makeup_scene
    makeup = offer(scene)
    login_as(scene.booking.parent)
    calendar_url = f"/account/bookings/{scene.booking.id}/calendar.ics"
    makeup_uid = f"-session-{scene.target.id}@".encode()

    offered = client.get(calendar_url).data
    assert b"Make-up session: Friday babies" not in offered and makeup_uid not in offered

    makeups.accept_makeup(makeup, by=scene.booking.parent, now=NOW)
    booked = client.get(calendar_url).data
    assert booked.count(b"BEGIN:VEVENT") == len(scene.course.sessions) + 1
    assert b"SUMMARY:Make-up session: Friday babies" in booked and makeup_uid in booked
