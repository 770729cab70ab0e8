from datetime import date, timedelta

import pytest

from instructor_portal.accounts import family, services
from instructor_portal.accounts.models import Child
from instructor_portal.extensions import db
from tests import factories
from tests.conftest import post_form

TODAY = date(2026, 3, 2)


def details(**overrides) -> family.ChildDetails:
    values = {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": TODAY - timedelta(weeks=10)}
    return family.ChildDetails(**{**values, **overrides})


def child_count() -> int:
    return db.session.scalar(db.select(db.func.count(Child.id)))


def test_add_a_baby_born_early_by_gestation(app):
    parent = factories.make_user()
    child = family.add_child(parent, details(gestation_weeks=28), today=TODAY)
    assert child.expected_date == child.date_of_birth + timedelta(weeks=12)


def test_add_an_unborn_baby_by_due_date(app):
    parent = factories.make_user()
    child = family.add_child(parent, details(date_of_birth=None, due_date=TODAY + timedelta(weeks=10)), today=TODAY)
    assert child.date_of_birth is None
    assert child.expected_date == TODAY + timedelta(weeks=10)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"first_name": " "}, "first_name", "first name"),
        ({"date_of_birth": TODAY + timedelta(days=1)}, "date_of_birth", "cannot be in the future"),
        ({"date_of_birth": None}, "date_of_birth", "or the due date"),
        ({"date_of_birth": TODAY - timedelta(days=365 * 19)}, "date_of_birth", "under 18"),
        ({"gestation_weeks": 21}, "gestation_weeks", "between 22 and 42"),
        ({"gestation_weeks": 43}, "gestation_weeks", "between 22 and 42"),
        ({"gestation_weeks": 30, "due_date": TODAY}, "gestation_weeks", "not both"),
        ({"due_date": TODAY + timedelta(weeks=30)}, "due_date", "within 4 weeks before and 18 weeks after"),
        ({"date_of_birth": None, "due_date": TODAY + timedelta(weeks=45)}, "due_date", "42 weeks from now"),
        ({"date_of_birth": None, "due_date": TODAY - timedelta(days=1)}, "due_date", "between today"),
    ],
)
def test_impossible_details_are_refused(app, changes, field, message):
    parent = factories.make_user()
    with pytest.raises(services.AccountError, match=message) as caught:
        family.add_child(parent, details(**changes), today=TODAY)
    assert caught.value.field == field
    assert child_count() == 0


def test_relationship_is_optional_and_kept_when_given(app):
    parent = factories.make_user()
    assert family.add_child(parent, details(), today=TODAY).relationship_to_carer == ""
    assert (
        family.add_child(parent, details(relationship_to_carer="Foster carer"), today=TODAY).relationship_to_carer
        == "Foster carer"
    )


def test_a_child_booked_on_a_course_to_come_cannot_be_removed(app):
    child = factories.make_child()
    factories.make_booking(factories.make_course(), [child])
    with pytest.raises(services.AccountError, match="Cancel that booking first"):
        family.remove_child(child)
    assert child_count() == 1


def test_parent_adds_edits_and_removes_a_child_through_the_pages(client, login_as):
    login_as("parent")
    born = (date.today() - timedelta(weeks=8)).isoformat()
    response = post_form(
        client, "/account/children/new", {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": born}
    )
    assert response.headers["Location"] == "/account/children"
    child = db.session.scalars(db.select(Child)).one()
    assert "Ada Lovelace" in client.get("/account/children").get_data(as_text=True)
    post_form(
        client,
        f"/account/children/{child.id}/edit",
        {
            "first_name": "Ada",
            "last_name": "King",
            "date_of_birth": born,
            "care_notes": "Reflux",
            "care_notes_consent": "y",
        },
    )
    db.session.refresh(child)
    assert (child.last_name, child.care_notes) == ("King", "Reflux")
    post_form(client, f"/account/children/{child.id}/remove", page="/account/children")
    assert child_count() == 0


def test_child_form_shows_field_errors(client, login_as):
    login_as("parent")
    tomorrow = (date.today() + timedelta(days=1)).isoformat()
    response = post_form(
        client, "/account/children/new", {"first_name": "Ada", "last_name": "L", "date_of_birth": tomorrow}
    )
    assert response.status_code == 422
    assert "cannot be in the future" in response.get_data(as_text=True)
    response = post_form(
        client, "/account/children/new", {"first_name": "Ada", "last_name": "L", "date_of_birth": "2026-02-30"}
    )
    assert response.status_code == 422
    assert "Enter a real date, such as 14/03/2027." in response.get_data(as_text=True)
    assert child_count() == 0


@pytest.mark.parametrize("path", ["/account/children/{id}/edit"])
def test_another_familys_child_is_not_found(client, login_as, path):
    child = factories.make_child()
    login_as("parent")
    assert client.get(path.format(id=child.id)).status_code == 404
    assert post_form(client, f"/account/children/{child.id}/remove", page="/account/children").status_code == 404
    assert child_count() == 1
