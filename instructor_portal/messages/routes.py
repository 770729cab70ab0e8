"""Message pages: write to the families on a course (or one session), preview, send, and the copies kept.

The blueprint spans ``/teach`` and ``/organiser``, so it is registered without a prefix and
each route carries its full path. Organisers use the same pages for any course.
"""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from instructor_portal.catalogue.models import Course, CourseStatus
from instructor_portal.extensions import limiter
from instructor_portal.forms import show_domain_error
from instructor_portal.handouts.forms import chosen_id
from instructor_portal.messages import services
from instructor_portal.messages.forms import MessageForm, SendForm
from instructor_portal.messages.models import GroupMessage
from instructor_portal.permissions import get_managed, instructor_required, organiser_required
from instructor_portal.teaching.services import list_courses

bp = Blueprint("messages", __name__)

TOO_MANY = (
    "You have sent several messages to families in the last hour, so sending is paused for a while. "
    "Your message was not sent; please try again later."
)


def _send_rate_limit() -> str:
    return current_app.config["GROUP_MESSAGE_RATE_LIMIT"]


def _sender_key() -> str:
    return f"message-sender:{current_user.id}"


def _compose(course: Course, form: MessageForm, status: int):
    return render_template("messages/compose.html", course=course, form=form), status


@bp.route("/teach/courses/<int:course_id>/messages/new", methods=["GET", "POST"])
@instructor_required
def compose(course_id: int):
    """Write to the families on a course or one session; a POST brings a previewed message back to change it."""
    course = get_managed(Course, course_id)
    form = MessageForm(course=course, sender=current_user, data={"audience": request.args.get("session", "")})
    return _compose(course, form, 200)


@bp.post("/teach/courses/<int:course_id>/messages/preview")
@instructor_required
def preview(course_id: int):
    """Show exactly what the families will get, and which families, before anything is sent."""
    course = get_managed(Course, course_id)
    form = MessageForm(course=course, sender=current_user)
    if form.validate_on_submit():
        try:
            draft = services.draft_message(
                course,
                sender=current_user,
                body=form.body.data,
                subject=form.subject.data,
                session_id=form.audience.data,
            )
        except services.MessageError as error:
            show_domain_error(form, error)
        else:
            return render_template(
                "messages/preview.html",
                draft=draft,
                form=form,
                text=services.preview_text(draft),
                send_key=services.new_send_key(),
            )
    return _compose(course, form, 422)


@bp.post("/teach/courses/<int:course_id>/messages")
@instructor_required
@limiter.limit(
    _send_rate_limit,
    key_func=_sender_key,
    deduct_when=lambda response: response.status_code == 302,
    error_message=TOO_MANY,
)
def send(course_id: int):
    """Send a previewed message to the families it reaches now, one email each, and keep a copy."""
    course = get_managed(Course, course_id)
    form = SendForm(course=course, sender=current_user)
    if form.validate_on_submit():
        try:
            sent = services.send_message(
                course,
                sender=current_user,
                body=form.body.data,
                subject=form.subject.data,
                session_id=form.audience.data,
                send_key=form.send_key.data,
                previewed=form.previewed_ids(),
            )
        except services.MessageError as error:
            show_domain_error(form, error)
        else:
            flash(_sent_note(sent), "info" if sent.repeated or sent.joined or sent.left else "success")
            return redirect(url_for("messages.message", message_id=sent.message.id))
    return _compose(course, form, 422)


def _families(count: int) -> str:
    return f"{count} {'family' if count == 1 else 'families'}"


def _sent_note(sent: services.Sent) -> str:
    if sent.repeated:
        return "This message had already been sent, so it was not sent again."
    note = f"Message sent to {_families(len(sent.message.recipients))}."
    if sent.joined:
        note += f" {', '.join(sent.joined)} booked since your preview, so got it too."
    if sent.left:
        note += f" {_families(sent.left)} in the preview no longer had a place, so did not get it."
    return note


@bp.get("/teach/messages/<int:message_id>")
@instructor_required
def message(message_id: int):
    """Show the copy of a message: what was sent, when, by whom, to which families, and each email's status."""
    return render_template("messages/message.html", message=get_managed(GroupMessage, message_id))


@bp.get("/organiser/messages")
@organiser_required
def recent():
    """List recent messages to families on every course, and open the message form for any course."""
    course_id = chosen_id(request.args.get("course"))
    if course_id:
        return redirect(url_for("messages.compose", course_id=course_id))
    courses = [
        summary.course for summary in list_courses(current_user) if summary.course.status != CourseStatus.CANCELLED
    ]
    return render_template("messages/recent.html", messages=services.recent_messages(), courses=courses)
